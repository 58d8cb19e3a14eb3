"""Pairwise maximum-entropy (Ising) model over binary variables: sampler and moment fitter.

The model over ``s in {0, 1}^V`` is

    P(s) ∝ exp(h·s + ½ sᵀ J s) · [s violates no clause]

with ``J`` symmetric and zero on the diagonal. A *clause* ``(i, vi, j, vj)`` forbids the
configuration ``s_i = vi and s_j = vj`` (``(a, 1, b, 1)``: a excludes b; ``(a, 1, b, 0)``:
a implies b). Hard clauses are the limit ``J → ±∞`` that a maximum-entropy fit to a
zero cell would run off to; enforcing them in the sampler keeps the fit finite.

Sampling is systematic-scan Gibbs, vectorized over many independent chains; fitting is
Boltzmann learning (moment matching) with persistent chains and a diagonal-Newton
step. Pure numpy; every random function takes ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

try:  # a transitive dependency of scikit-learn; small matvecs thrash with many BLAS threads
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    from contextlib import nullcontext as threadpool_limits  # type: ignore[assignment]

__all__ = [
    "IsingModel",
    "FitResult",
    "zero_cell_clauses",
    "moments",
    "gibbs_sample",
    "fit_moments",
]

#: Chains are updated in blocks of this many rows so the state stays in cache; fixed so
#: results do not depend on the machine.
_BLOCK = 4096


@dataclass
class IsingModel:
    """Fields ``h`` (V,), couplings ``J`` (V, V) and hard ``clauses`` (m, 4) int."""

    h: np.ndarray
    J: np.ndarray
    clauses: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))

    def __post_init__(self) -> None:
        self.h = np.asarray(self.h, dtype=np.float64)
        self.J = np.asarray(self.J, dtype=np.float64)
        self.clauses = np.asarray(self.clauses, dtype=np.int64).reshape(-1, 4)
        v = self.h.shape[0]
        if self.J.shape != (v, v):
            raise ValueError(f"J must have shape {(v, v)}, got {self.J.shape}")
        if not np.allclose(self.J, self.J.T) or np.any(np.diag(self.J) != 0):
            raise ValueError("J must be symmetric with a zero diagonal")

    @property
    def n_vars(self) -> int:
        return int(self.h.shape[0])

    def violations(self, S: np.ndarray) -> np.ndarray:
        """Number of rows of ``S`` (n, V) bool violating each clause, shape (m,)."""
        S = np.asarray(S, dtype=bool)
        c = self.clauses
        if len(c) == 0:
            return np.zeros(0, dtype=np.int64)
        a = S[:, c[:, 0]] == c[:, 1].astype(bool)
        b = S[:, c[:, 2]] == c[:, 3].astype(bool)
        return (a & b).sum(axis=0)


@dataclass
class FitResult:
    """Outcome of :func:`fit_moments`: the model and how well its moments match."""

    model: IsingModel
    n_iter: int
    n_chains: int
    seed: int
    max_mean_error: float
    max_joint_error: float

    def to_dict(self) -> dict:
        return {"n_iter": self.n_iter, "n_chains": self.n_chains, "seed": self.seed,
                "max_mean_error": self.max_mean_error,
                "max_joint_error": self.max_joint_error}


def zero_cell_clauses(mean: np.ndarray, joint: np.ndarray, n_rows: int) -> np.ndarray:
    """Clauses for every 2×2 cell that is empty in the data (count < 0.5 of ``n_rows``).

    From the means (V,) and joint positive rates (V, V) the four cells of each pair are
    ``11 = J_ab``, ``10 = p_a - J_ab``, ``01 = p_b - J_ab``, ``00 = 1 - p_a - p_b + J_ab``.
    Returns an (m, 4) int array of ``(i, vi, j, vj)`` with ``i < j``.
    """
    p = np.asarray(mean, dtype=float)
    jt = np.asarray(joint, dtype=float)
    eps = 0.5 / n_rows
    out = []
    v = len(p)
    for i in range(v):
        for j in range(i + 1, v):
            cells = {(1, 1): jt[i, j], (1, 0): p[i] - jt[i, j], (0, 1): p[j] - jt[i, j],
                     (0, 0): 1 - p[i] - p[j] + jt[i, j]}
            out += [(i, vi, j, vj) for (vi, vj), c in cells.items() if c < eps]
    return np.asarray(out, dtype=np.int64).reshape(-1, 4)


def moments(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means (V,) and joint positive rates (V, V) of a bool/0-1 sample ``S`` (n, V)."""
    X = np.asarray(S, dtype=np.float32)
    n = X.shape[0]
    return X.mean(axis=0, dtype=np.float64), (X.T @ X).astype(np.float64) / n


def _clause_tables(clauses: np.ndarray, v: int) -> list[tuple[list, list]]:
    """Per variable: partner lists forbidding value 1 and value 0, as (j, vj) pairs."""
    tables: list[tuple[list, list]] = [([], []) for _ in range(v)]
    for i, vi, j, vj in clauses:
        tables[i][int(vi) == 0].append((int(j), int(vj)))
        tables[j][int(vj) == 0].append((int(i), int(vi)))
    return tables


def _sweeps(S: np.ndarray, h: np.ndarray, J: np.ndarray, tables, free: Sequence[int],
            n_sweeps: int, rng: np.random.Generator) -> None:
    """Run ``n_sweeps`` systematic-scan Gibbs sweeps in place on ``S`` (c, V) float32 0/1."""
    c = S.shape[0]
    for _ in range(n_sweeps):
        U = rng.random((c, len(free)), dtype=np.float32)
        for k, i in enumerate(free):
            x = h[i] + S @ J[i]                                # (c,) local field
            p1 = 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
            forbid1, forbid0 = tables[i]
            for j, vj in forbid1:                              # s_i = 1 not allowed
                p1 = np.where(S[:, j] == vj, 0.0, p1)
            for j, vj in forbid0:                              # s_i = 0 not allowed
                p1 = np.where(S[:, j] == vj, 1.0, p1)
            S[:, i] = U[:, k] < p1


def _repair(S: np.ndarray, clauses: np.ndarray, fixed: set[int]) -> None:
    """Make a start state ``S`` (c, V) satisfy every clause by flipping free variables.

    Only needed when clamped variables force others (a clamped ``Mustache = 1`` needs
    ``Male = 1`` under ``Mustache ⇒ Male``). Raises ``ValueError`` if the clamps
    themselves contradict a clause.
    """
    for _ in range(len(clauses) + 1):
        changed = False
        for i, vi, j, vj in clauses:
            bad = (S[:, i] == vi) & (S[:, j] == vj)
            if not bad.any():
                continue
            flip = j if j not in fixed else (i if i not in fixed else None)
            if flip is None:
                raise ValueError(f"clamped variables {i} and {j} contradict a hard clause")
            S[bad, flip] = 1.0 - S[bad, flip]
            changed = True
        if not changed:
            return
    raise ValueError("could not find a start state satisfying the hard clauses")


def gibbs_sample(model: IsingModel, n: int, *, seed: int = 0, burn_in: int = 60,
                 thin: int = 4, max_chains: int = 16384,
                 clamp: dict[int, float] | None = None) -> np.ndarray:
    """Draw ``n`` configurations, bool (n, V), by Gibbs sampling over independent chains.

    ``min(n, max_chains)`` chains start from all-zero, run ``burn_in`` sweeps, then
    yield one sample every ``thin`` sweeps; output row ``r * chains + c`` is round ``r``
    of chain ``c``, so any prefix comes from distinct chains first.

    ``clamp`` maps a variable to the probability that a chain holds it at 1 (else 0)
    for its whole life: ``{20: 1.0}`` samples the conditional given variable 20, and
    ``{20: 0.5}`` a 50/50 mixture of the two conditionals (group shares).
    """
    with threadpool_limits(1):   # one BLAS thread: the matvecs are tiny
        return _gibbs_sample(model, n, seed=seed, burn_in=burn_in, thin=thin,
                             max_chains=max_chains, clamp=clamp)


def _gibbs_sample(model: IsingModel, n: int, *, seed: int, burn_in: int, thin: int,
                  max_chains: int, clamp: dict[int, float] | None) -> np.ndarray:
    v = model.n_vars
    if n <= 0:
        return np.zeros((0, v), dtype=bool)
    clamp = {} if clamp is None else {int(k): float(q) for k, q in clamp.items()}
    chains = min(n, max_chains)
    rounds = -(-n // chains)
    free = [i for i in range(v) if i not in clamp]
    cidx = list(clamp)
    cprob = np.array([clamp[i] for i in cidx], dtype=np.float64)
    tables = _clause_tables(model.clauses, v)
    h = model.h.astype(np.float32)
    J = np.ascontiguousarray(model.J, dtype=np.float32)
    out = np.zeros((rounds, chains, v), dtype=bool)
    seeds = np.random.SeedSequence(seed).spawn(-(-chains // _BLOCK))
    for b, start in enumerate(range(0, chains, _BLOCK)):
        rng = np.random.default_rng(seeds[b])
        stop = min(start + _BLOCK, chains)
        S = np.zeros((stop - start, v), dtype=np.float32)
        if cidx:
            S[:, cidx] = rng.random((stop - start, len(cidx))) < cprob
            _repair(S, model.clauses, set(cidx))
        for r in range(rounds):
            _sweeps(S, h, J, tables, free, burn_in if r == 0 else thin, rng)
            out[r, start:stop] = S > 0.5
    return out.reshape(rounds * chains, v)[:n]


def fit_moments(target_mean: np.ndarray, target_joint: np.ndarray, *,
                clauses: np.ndarray | None = None, init: IsingModel | None = None,
                learn: np.ndarray | None = None, n_chains: int = 8192, n_iter: int = 1500,
                lr: float = 0.3, sweeps_per_iter: int = 1, seed: int = 0,
                average_last: float = 0.3, center: bool = False) -> FitResult:
    """Fit ``h, J`` so the model's means and joint positive rates match the targets.

    Boltzmann learning: the log-likelihood gradient is ``target − model`` moment, the
    model moments come from ``n_chains`` persistent Gibbs chains advanced
    ``sweeps_per_iter`` sweeps per step. Each step is scaled by the inverse Bernoulli
    variance of the moment (a diagonal-Newton step, so rare pairs learn as fast as
    common ones), clipped to ±1, with a learning rate decaying as ``lr/√(1+t/100)``;
    the returned parameters are averaged over the last ``average_last`` share of steps
    (Polyak averaging removes the chain noise). ``center`` subtracts the field change a
    coupling step implies (``Δh = −ΔJ·m``); use it when only a few couplings learn.
    ``learn`` (V, V) bool selects which
    couplings move (the diagonal stands for the fields); couplings of clause pairs
    are fixed at their initial value since the clause already decides their moment.
    """
    with threadpool_limits(1):   # one BLAS thread: the matvecs are tiny
        return _fit_moments(target_mean, target_joint, clauses=clauses, init=init,
                            learn=learn, n_chains=n_chains, n_iter=n_iter, lr=lr,
                            sweeps_per_iter=sweeps_per_iter, seed=seed,
                            average_last=average_last, center=center)


def _fit_moments(target_mean, target_joint, *, clauses, init, learn, n_chains, n_iter, lr,
                 sweeps_per_iter, seed, average_last, center) -> FitResult:  # see fit_moments
    p = np.asarray(target_mean, dtype=np.float64)
    T = np.asarray(target_joint, dtype=np.float64)
    v = len(p)
    clauses = np.zeros((0, 4), np.int64) if clauses is None else np.asarray(clauses)
    if init is None:
        h0 = np.log(np.clip(p, 1e-4, 1 - 1e-4) / np.clip(1 - p, 1e-4, 1))
        init = IsingModel(h0, np.zeros((v, v)), clauses)
    model = IsingModel(init.h.copy(), init.J.copy(), clauses)
    mask = np.ones((v, v), dtype=bool) if learn is None else np.asarray(learn, bool).copy()
    mask = mask | mask.T
    for i, _, j, _ in clauses:
        mask[i, j] = mask[j, i] = False
    off = mask & ~np.eye(v, dtype=bool)
    on_diag = np.diag(mask).copy()
    tables = _clause_tables(clauses, v)
    rng = np.random.default_rng(seed)
    S = gibbs_sample(model, n_chains, seed=seed, burn_in=30, max_chains=n_chains
                     ).astype(np.float32)
    var_h = np.clip(p * (1 - p), 1e-3, None)
    var_J = np.clip(T * (1 - T), 1e-3, None)
    h, J = model.h.copy(), model.J.copy()
    start_avg = int(n_iter * (1 - average_last))
    h_sum, J_sum, n_avg = np.zeros_like(h), np.zeros_like(J), 0
    m_sum, M_sum = np.zeros_like(h), np.zeros_like(J)
    free = list(range(v))
    for t in range(n_iter):
        _sweeps(S, h.astype(np.float32), J.astype(np.float32), tables, free,
                sweeps_per_iter, rng)
        m, M = moments(S)
        step = lr / np.sqrt(1 + t / 100)
        dh = np.clip((p - m) / var_h, -1, 1) * step
        dJ = np.clip((T - M) / var_J, -1, 1) * step
        dJ = np.where(off, dJ, 0.0)
        # Centering: a coupling change also moves the means; shift the fields by
        # -dJ·m so the means stay put (decouples h and J when only a few couplings
        # learn; with all couplings learning at once it overshoots, so it is opt-in).
        h += np.where(on_diag, dh, 0.0)
        if center:
            h -= np.where(on_diag, dJ @ m, 0.0)
        J += dJ
        J = (J + J.T) / 2
        if t >= start_avg:
            h_sum += h
            J_sum += J
            m_sum += m
            M_sum += M
            n_avg += 1
    h, J = h_sum / max(n_avg, 1), J_sum / max(n_avg, 1)
    np.fill_diagonal(J, 0.0)
    model = IsingModel(h, J, clauses)
    m, M = m_sum / max(n_avg, 1), M_sum / max(n_avg, 1)   # chain moments, window average
    return FitResult(model=model, n_iter=n_iter, n_chains=n_chains, seed=seed,
                     max_mean_error=float(np.abs(m - p)[on_diag].max(initial=0.0)),
                     max_joint_error=float(np.abs(M - T)[off].max(initial=0.0)))
