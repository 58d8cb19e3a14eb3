"""The synthetic world's attribute model: CelebA-calibrated labels plus skin tone.

A :class:`World` is a pairwise maximum-entropy (Ising) model over the 40 CelebA
attributes and one extra binary variable, ``skin_type_darker``, with hard logical
clauses (see ``docs/world.md``), group shares realised by clamping, and a skin-tone
model drawn conditionally on the sampled labels. Pure compute: the only file access
goes through :mod:`biaslens.world.fit` (the shipped params, user JSON).

>>> from biaslens.world import World
>>> s = World.preset("celeba").sample(1000, seed=0)
>>> s.attrs.shape, s.skin_tone.dtype.name, s.skin_type.dtype.name
((1000, 40), 'float32', 'int8')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.errors import DataError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES, canonical_name, display_name, resolve_attribute
from biaslens.world.ising import IsingModel, fit_moments, gibbs_sample

__all__ = ["World", "WorldSample", "TruthTable", "PRESETS", "VARIABLES", "SKIN_VAR",
           "TRUTH_N", "TRUTH_SEED", "phi_from_moments"]

#: The extra binary variable the world adds to CelebA's 40: darker skin (tone > 0.5).
SKIN_VAR = "skin_type_darker"
#: The world's 41 binary variables: CelebA's 40 attributes, then skin_type_darker.
VARIABLES: tuple[str, ...] = (*CELEBA_ATTRIBUTES, SKIN_VAR)
_SKIN = len(VARIABLES) - 1                       # index of skin_type_darker
_PALE = CELEBA_ATTRIBUTES.index("Pale_Skin")
PRESETS: tuple[str, ...] = ("celeba", "balanced", "independent")
_BALANCED = {"Male": 0.5, SKIN_VAR: 0.5}
#: Monte Carlo size and seed of :meth:`World.truth` (SE of a phi ≲ 1/√400k ≈ 0.0016).
TRUTH_N = 400_000
TRUTH_SEED = 20_240_601
_SPEC_KEYS = {"name", "base", "marginals", "correlations", "group_shares", "seed"}


def _io():
    """The params/JSON reader, imported late (it imports this module to fit)."""
    from biaslens.world import fit
    return fit


def phi_from_moments(mean: np.ndarray, joint: np.ndarray) -> np.ndarray:
    """Phi (Pearson) correlation matrix of binary variables from means and joint rates."""
    sd = np.sqrt(np.clip(mean * (1 - mean), 1e-12, None))
    return (joint - np.outer(mean, mean)) / np.outer(sd, sd)


@dataclass
class WorldSample:
    """``n`` draws of the world: labels, continuous skin tone and skin-type group."""

    attrs: np.ndarray            # bool (n, 40), CelebA order
    skin_tone: np.ndarray        # float32 (n,) in [0, 1], 0 = lightest
    skin_type: np.ndarray        # int8 (n,) 0 lighter / 1 darker (= tone > 0.5)
    attribute_names: tuple[str, ...] = CELEBA_ATTRIBUTES

    def __len__(self) -> int:
        return int(self.attrs.shape[0])

    def to_dict(self) -> dict:
        """JSON-able summary (prevalences and group share, not the rows)."""
        return {"n": len(self),
                "prevalence": dict(zip(self.attribute_names,
                                       self.attrs.mean(axis=0).round(6).tolist())),
                "skin_type_darker_share": float(self.skin_type.mean()) if len(self) else 0.0,
                "skin_tone_mean": float(self.skin_tone.mean()) if len(self) else 0.0}


@dataclass
class TruthTable:
    """The world's own answer to "what goes with ``target``?", for every variable.

    Computed by Monte Carlo from :data:`TRUTH_N` samples with the fixed
    :data:`TRUTH_SEED` (an Ising model over 41 variables has no closed form);
    ``covariance`` and ``phi`` are of each variable with the (possibly negated) target
    indicator, so ``-Male`` flips their signs and swaps the two conditionals.
    """

    target: str
    index: int
    sign: int
    names: tuple[str, ...]
    p_target: float
    p_given_target: np.ndarray
    p_given_not_target: np.ndarray
    covariance: np.ndarray
    phi: np.ndarray
    n_samples: int
    seed: int
    method: str = "monte_carlo"

    @property
    def difference(self) -> np.ndarray:
        """P(attr | target) − P(attr | not target)."""
        return self.p_given_target - self.p_given_not_target

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` variables (target excluded) with the largest |covariance|."""
        order = [i for i in np.argsort(-np.abs(self.covariance)) if i != self.index]
        return [(self.names[i], float(self.covariance[i])) for i in order[:k]]

    def to_dict(self) -> dict:
        return {"target": self.target, "index": self.index, "sign": self.sign,
                "names": list(self.names), "p_target": self.p_target,
                "p_given_target": self.p_given_target.tolist(),
                "p_given_not_target": self.p_given_not_target.tolist(),
                "difference": self.difference.tolist(),
                "covariance": self.covariance.tolist(), "phi": self.phi.tolist(),
                "n_samples": self.n_samples, "seed": self.seed, "method": self.method}


@dataclass
class SkinToneModel:
    """Tone given (darker, Pale_Skin): scaled Beta draws in three disjoint-ish bands.

    darker → 0.5 + 0.5·Beta(2, 2) (> 0.5); lighter and Pale_Skin → 0.15·Beta(2, 6)
    (near 0); other lighter → 0.12 + 0.38·Beta(2, 2). With ``tie_pale=False`` (the
    ``independent`` preset) Pale_Skin is ignored and every lighter face uses the last band.
    """

    tie_pale: bool = True

    def draw(self, darker: np.ndarray, pale: np.ndarray, rng: np.random.Generator
             ) -> np.ndarray:
        n = darker.shape[0]
        b22 = rng.beta(2.0, 2.0, size=n)
        b26 = rng.beta(2.0, 6.0, size=n)
        light = 0.12 + 0.38 * b22
        if self.tie_pale:
            light = np.where(pale, 0.15 * b26, light)
        dark = np.maximum(0.5 + 0.5 * b22, np.nextafter(0.5, 1.0))
        return np.where(darker, dark, light).astype(np.float32)

    def to_dict(self) -> dict:
        return {"tie_pale": self.tie_pale,
                "bands": {"darker": "0.5 + 0.5*Beta(2,2)", "pale": "0.15*Beta(2,6)",
                          "lighter": "0.12 + 0.38*Beta(2,2)"}}


def _names_field(obj: Any, field_name: str, src: str | None) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise DataError("must be an object", path=src, field=field_name)
    return obj


def _number(x: Any, field_name: str, src: str | None, lo: float, hi: float,
            open_: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x):
        raise DataError(f"must be a number, got {x!r}", path=src, field=field_name)
    x = float(x)
    bad = (x <= lo or x >= hi) if open_ else (x < lo or x > hi)
    if bad:
        rng = f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
        raise DataError(f"must be in {rng}, got {x}", path=src, field=field_name)
    return x


def _var(name: Any, field_name: str, src: str | None) -> int:
    if not isinstance(name, str):
        raise DataError(f"attribute name must be a string, got {name!r}", path=src,
                        field=field_name)
    if name.strip() in ("skin_type", "darker"):
        name = SKIN_VAR
    try:
        return VARIABLES.index(canonical_name(name.strip(), VARIABLES))
    except UnknownNameError as exc:
        raise UnknownNameError(f"{src + ', ' if src else ''}field {field_name!r}: {exc}"
                               ) from None


@dataclass
class World:
    """A synthetic attribute world; build with :meth:`preset` or :meth:`from_json`.

    Attributes
    ----------
    name : str
        Preset name or the spec's ``name``.
    model : IsingModel
        Fields/couplings over :data:`VARIABLES` (40 CelebA attributes + skin_type_darker).
    group_shares : dict[int, float]
        Variables sampled as independent mixtures of their two conditionals.
    """

    name: str
    model: IsingModel
    group_shares: dict[int, float] = field(default_factory=dict)
    skin: SkinToneModel = field(default_factory=SkinToneModel)
    spec: dict = field(default_factory=dict)
    source: str = ""
    fit_info: dict = field(default_factory=dict)
    _truth_cache: np.ndarray | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def preset(cls, name: str = "celeba") -> World:
        """``celeba`` (default), ``balanced`` (Male and skin type 50/50, independent of
        each other) or ``independent`` (every variable independent at its marginal)."""
        key = str(name).strip().lower()
        if key not in PRESETS:
            raise UnknownNameError(f"unknown world preset {name!r}. Valid presets: "
                                   f"{', '.join(PRESETS)}")
        return cls._build({"base": key}, src=None, name=key)

    @classmethod
    def from_json(cls, spec: str | Path | dict) -> World:
        """A world from a spec dict or JSON file, e.g.
        ``{"base": "celeba", "marginals": {"Smiling": 0.3},
        "correlations": {"Smiling,Male": 0.6}, "group_shares": {"Male": 0.5}}``.

        Marginal/correlation overrides re-fit every field ``h`` and the coupling of each
        overridden pair by a short Boltzmann learning run started from the base
        parameters: every mean and each overridden phi hit their targets, other
        couplings stay, so correlations with the changed attributes move only as
        the model implies (holding them all fixed can be infeasible).
        """
        src = None
        if not isinstance(spec, dict):
            src = str(spec)
            spec = _io().read_json(spec)
            if not isinstance(spec, dict):
                raise DataError("a world spec must be a JSON object", path=src)
        return cls._build(spec, src=src, name=None)

    @classmethod
    def _build(cls, spec: dict, *, src: str | None, name: str | None) -> World:
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise DataError(f"unknown key(s) {sorted(unknown)}; valid keys: "
                            f"{sorted(_SPEC_KEYS)}", path=src, field=sorted(unknown)[0])
        base = spec.get("base", "celeba")
        if not isinstance(base, str) or base.strip().lower() not in PRESETS:
            raise DataError(f"base must be one of {', '.join(PRESETS)}, got {base!r}",
                            path=src, field="base")
        base = base.strip().lower()
        model, p, T, source = _io().read_params()
        v = len(VARIABLES)
        skin = SkinToneModel(tie_pale=base != "independent")
        if base == "independent":
            h = np.log(p / (1 - p))
            model = IsingModel(h, np.zeros((v, v)))
            T = np.outer(p, p)
            np.fill_diagonal(T, p)
        shares: dict[int, float] = {}
        if base == "balanced":
            shares = {VARIABLES.index(k): q for k, q in _BALANCED.items()}
        for k, q in _names_field(spec.get("group_shares"), "group_shares", src).items():
            f = f"group_shares.{k}"
            shares[_var(k, f, src)] = _number(q, f, src, 0.0, 1.0)
        marg = {}
        for k, q in _names_field(spec.get("marginals"), "marginals", src).items():
            f = f"marginals.{k}"
            i = _var(k, f, src)
            if i in shares:
                raise DataError("has a group share too; set one or the other", path=src,
                                field=f)
            marg[i] = _number(q, f, src, 0.0, 1.0, open_=True)
        corr = {}
        for k, r in _names_field(spec.get("correlations"), "correlations", src).items():
            f = f"correlations.{k}"
            parts = k.split(",") if isinstance(k, str) else []
            if len(parts) != 2:
                raise DataError("key must be two names separated by a comma, e.g. "
                                "'Smiling,Male'", path=src, field=f)
            a, b = (_var(x, f, src) for x in parts)
            if a == b:
                raise DataError("a pair needs two different attributes", path=src, field=f)
            corr[(min(a, b), max(a, b))] = _number(r, f, src, -1.0, 1.0)
        cls._check_shares(model, shares, src)
        fit_info: dict = {"base": "shipped" if base != "independent" else "analytic"}
        if marg or corr:
            p2, T2 = cls._targets(model, p, T, marg, corr, src)
            seed = int(spec.get("seed", 0))
            learn = np.eye(v, dtype=bool)                # every field, plus the
            for a, b in corr:                            # couplings of planted pairs
                learn[a, b] = learn[b, a] = True
            res = fit_moments(p2, T2, clauses=model.clauses, init=model, learn=learn,
                              n_iter=200, n_chains=4096, lr=0.3, seed=seed,
                              average_last=0.5, center=True)
            model = res.model
            fit_info = {"base": fit_info["base"], "refit": res.to_dict()}
        wname = name or str(spec.get("name", f"custom({base})"))
        return cls(name=wname, model=model, group_shares=shares, skin=skin,
                   spec=dict(spec), source=source, fit_info=fit_info)

    @staticmethod
    def _check_shares(model: IsingModel, shares: dict[int, float], src: str | None) -> None:
        for i, vi, j, vj in model.clauses:
            if i in shares and j in shares:
                raise DataError(f"{VARIABLES[i]} and {VARIABLES[j]} are tied by a hard "
                                "rule and cannot both have independent group shares",
                                path=src, field="group_shares")

    @staticmethod
    def _targets(model: IsingModel, p: np.ndarray, T: np.ndarray, marg: dict[int, float],
                 corr: dict[tuple[int, int], float], src: str | None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """New target moments: overridden means/phis, every other phi kept."""
        phi = phi_from_moments(p, T)
        p2 = p.copy()
        for i, q in marg.items():
            p2[i] = q
        clause_pairs = {(min(i, j), max(i, j)): (i, vi, j, vj)
                        for i, vi, j, vj in model.clauses}
        for (a, b), r in corr.items():
            if (a, b) in clause_pairs:
                raise DataError(f"{VARIABLES[a]} and {VARIABLES[b]} are tied by a hard "
                                "rule (see docs/world.md); their correlation is fixed",
                                path=src, field=f"correlations.{VARIABLES[a]},{VARIABLES[b]}")
            phi[a, b] = phi[b, a] = r
        for (i, vi, j, vj) in clause_pairs.values():   # marginals must allow the clause
            pi = p2[i] if vi else 1 - p2[i]
            pj = p2[j] if vj else 1 - p2[j]
            if pi + pj > 1 and (i in marg or j in marg):
                raise DataError(f"marginals contradict the hard rule {VARIABLES[i]}={vi} "
                                f"excludes {VARIABLES[j]}={vj}", path=src, field="marginals")
        sd = np.sqrt(p2 * (1 - p2))
        T2 = np.outer(p2, p2) + phi * np.outer(sd, sd)
        lo = np.maximum(0.0, p2[:, None] + p2[None, :] - 1)
        hi = np.minimum(p2[:, None], p2[None, :])
        for (a, b), r in corr.items():
            if not lo[a, b] - 1e-12 <= T2[a, b] <= hi[a, b] + 1e-12:
                rmin = (lo[a, b] - p2[a] * p2[b]) / (sd[a] * sd[b])
                rmax = (hi[a, b] - p2[a] * p2[b]) / (sd[a] * sd[b])
                raise DataError(f"phi {r} is impossible with prevalences {p2[a]:.3f} and "
                                f"{p2[b]:.3f} (feasible: [{rmin:.3f}, {rmax:.3f}])", path=src,
                                field=f"correlations.{VARIABLES[a]},{VARIABLES[b]}")
        T2 = np.clip(T2, lo, hi)          # kept phis can leave the bounds when a mean moves
        np.fill_diagonal(T2, p2)
        return p2, T2

    # ------------------------------------------------------------------ sampling
    def sample_variables(self, n: int, seed: int = 0) -> np.ndarray:
        """Raw draws of the 41 binary variables, bool (n, 41)."""
        return gibbs_sample(self.model, int(n), seed=seed, burn_in=100, thin=5,
                            clamp=self.group_shares)

    def sample(self, n: int, seed: int = 0) -> WorldSample:
        """Draw ``n`` faces' labels: attributes, skin tone and skin-type group (seeded)."""
        if int(n) < 0:
            raise DataError(f"n must be >= 0, got {n}", field="n")
        S = self.sample_variables(n, seed)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        darker = S[:, _SKIN]
        tone = self.skin.draw(darker, S[:, _PALE], rng)
        return WorldSample(attrs=np.ascontiguousarray(S[:, :_SKIN]), skin_tone=tone,
                           skin_type=darker.astype(np.int8),
                           attribute_names=CELEBA_ATTRIBUTES)

    # ------------------------------------------------------------------ truth
    def truth(self, target: str) -> TruthTable:
        """Exact-to-Monte-Carlo-error conditionals, covariance and phi with ``target``.

        ``target`` is any of the 41 variables, optionally negated (``-Male``,
        ``Female``, ``-skin_type_darker``). The 400k-sample draw is cached per world.
        """
        t = target.strip()
        core = t.lstrip("+- ")
        if core in ("skin_type", "darker"):
            t = t[: len(t) - len(core)] + SKIN_VAR
        idx, sign = resolve_attribute(t, VARIABLES)
        if self._truth_cache is None:
            self._truth_cache = self.sample_variables(TRUTH_N, TRUTH_SEED)
        X = self._truth_cache.astype(np.float64)           # (N, 41)
        y = X[:, idx] if sign > 0 else 1 - X[:, idx]       # target indicator
        n = X.shape[0]
        k = y.sum()
        pt = k / n
        mean = X.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            p1 = (y @ X) / k
            p0 = ((1 - y) @ X) / (n - k)
            cov = (y - pt) @ (X - mean) / n
            phi = cov / np.sqrt(pt * (1 - pt) * mean * (1 - mean))
        return TruthTable(target=display_name(idx, sign, VARIABLES), index=idx, sign=sign,
                          names=VARIABLES, p_target=float(pt), p_given_target=p1,
                          p_given_not_target=p0, covariance=cov, phi=phi,
                          n_samples=n, seed=TRUTH_SEED)

    # ------------------------------------------------------------------ description
    def to_dict(self) -> dict:
        """JSON-able description: name, spec (overrides), group shares, fit, params hash."""
        return {"name": self.name, "spec": self.spec,
                "variables": list(VARIABLES),
                "group_shares": {VARIABLES[i]: q for i, q in self.group_shares.items()},
                "clauses": [[VARIABLES[i], int(a), VARIABLES[j], int(b)]
                            for i, a, j, b in self.model.clauses],
                "skin_tone": self.skin.to_dict(), "source": self.source,
                "fit": self.fit_info, "params_hash": _io().params_hash(self.model)}
