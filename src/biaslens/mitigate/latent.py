"""Latent-space geometry of Ramaswamy, Kim & Russakovsky (CVPR 2021), docs/algorithms.md §4.2–4.6.

Pure numpy (plus scikit-learn for the hyperplane fit): linear hyperplanes for the target
and protected attributes in a generator's z-space, and the *complementary* latent vector
``z'`` whose target score is unchanged while its protected score is negated.

Every construction is an instance of one least-norm problem: move ``z`` as little as
possible (Euclidean) so that the scores of a few hyperplanes take given values::

    W = [w_1 .. w_m]  (d, m),   r = wanted values of W^T z'
    z' = z + W (W^T W)^{-1} (r − W^T z)

The closed form of §4.4 is the ``m = 2`` case written with ``cos θ = w_g^T w_t``.
No I/O, no prints; warnings only for near-parallel hyperplanes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from biaslens.errors import BiasLensError, DataError

__all__ = [
    "ABLATIONS",
    "Hyperplanes",
    "NearParallelError",
    "NearParallelWarning",
    "complementary_z",
    "complementary_z_domain",
    "complementary_z_multi",
    "f1_threshold",
    "fit_hyperplanes",
    "least_norm_shift",
]

#: ``complementary_z`` variants: the method and the three ablations of §4.4.
ABLATIONS = ("complementary", "on_hyperplane", "perp", "perp_on_hyperplane")

#: sin²θ below this raises (the constraint system is singular); below WARN_SIN it warns.
SINGULAR_EPS = 1e-10
WARN_SIN = 0.1


class NearParallelWarning(UserWarning):
    """Target and protected hyperplanes are nearly parallel: z' moves far from z."""


class NearParallelError(BiasLensError):
    """Target and protected hyperplanes are (numerically) parallel: no z' exists."""


@dataclass
class Hyperplanes:
    """Unit-normal hyperplanes ``w_k^T z + b_k = 0`` fitted in z-space.

    Attributes
    ----------
    names : one name per hyperplane.
    w : float (k, d), rows with ‖w_k‖ = 1.
    b : float (k,), divided by the same norm as ``w``.
    accuracy : training accuracy of ``sign(w^T z + b)`` per hyperplane.
    method : ``"svm"`` (LinearSVC, the reference) or ``"logistic"``.
    """

    names: list[str]
    w: np.ndarray
    b: np.ndarray
    accuracy: np.ndarray
    method: str

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Signed distances ``z w^T + b``, shape (n, k)."""
        return np.asarray(z, dtype=float) @ self.w.T + self.b

    def __getitem__(self, name: str) -> tuple[np.ndarray, float]:
        i = self.names.index(name)
        return self.w[i], float(self.b[i])

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "w": self.w.tolist(), "b": self.b.tolist(),
                "accuracy": self.accuracy.tolist(), "method": self.method}


def f1_threshold(scores: Any, labels: Any) -> float:
    """Score threshold with the best F1 of ``score > thr`` (§4.2, used to hallucinate labels).

    Grid 0.1 … 0.9 (step 0.1), then the refinement ``best − 0.1 + 0.01·k`` for
    k = 1 … 19; ties keep the first (smallest) threshold. Vectorized over thresholds.
    """
    s = np.asarray(scores, dtype=float).reshape(-1)
    y = np.asarray(labels).reshape(-1).astype(bool)
    if s.shape != y.shape or s.size == 0:
        raise DataError(f"scores ({s.shape[0]}) and labels ({y.shape[0]}) must be non-empty "
                        "and of equal length", field="labels")

    def best(grid: np.ndarray) -> float:
        pred = s[None, :] > grid[:, None]                      # (t, n)
        tp = (pred & y).sum(1)
        denom = pred.sum(1) + y.sum()
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
        return float(grid[int(np.argmax(f1))])                 # argmax keeps the first tie

    coarse = best(np.round(np.arange(1, 10) * 0.1, 10))
    return best(np.round(coarse - 0.1 + 0.01 * np.arange(1, 20), 10))


def fit_hyperplanes(z: Any, labels: Any, names: list[str] | None = None, *,
                    method: Literal["svm", "logistic"] = "svm", C: float = 1.0,
                    max_iter: int = 500_000, seed: int = 0) -> Hyperplanes:
    """Fit one linear hyperplane per label column in z-space and normalise ‖w‖ = 1.

    ``method="svm"`` is the reference (sklearn ``LinearSVC``: squared hinge, L2, C = 1);
    ``"logistic"`` uses ``LogisticRegression``. Both ``w`` and ``b`` are divided by ‖w‖,
    so ``w^T z + b`` is a signed Euclidean distance.

    Parameters
    ----------
    z : float (n, d) latent vectors.
    labels : bool (n,) or (n, k) hallucinated labels, one column per hyperplane.
    names : hyperplane names (default ``h0, h1, ...``).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    Z = np.asarray(z, dtype=float)
    Y = np.asarray(labels).astype(bool)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Z.ndim != 2 or Y.ndim != 2 or Y.shape[0] != Z.shape[0]:
        raise DataError(f"z must be (n, d) and labels (n,) or (n, k) with the same n; got "
                        f"{Z.shape} and {Y.shape}", field="labels")
    names = list(names) if names is not None else [f"h{i}" for i in range(Y.shape[1])]
    if len(names) != Y.shape[1]:
        raise DataError(f"{len(names)} names for {Y.shape[1]} label columns", field="names")
    if method not in ("svm", "logistic"):
        raise BiasLensError(f"unknown hyperplane method {method!r}; valid: svm, logistic")
    ws, bs, acc = [], [], []
    for k, name in enumerate(names):  # one small fit per attribute (k = 1..3)
        y = Y[:, k]
        if y.all() or not y.any():
            raise DataError(f"every label is {int(y[0])}: a hyperplane needs both classes "
                            f"(is the classifier's threshold sensible?)", field=name)
        model = (LinearSVC(C=C, max_iter=max_iter, random_state=seed) if method == "svm"
                 else LogisticRegression(C=C, max_iter=max_iter, random_state=seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported via accuracy
            model.fit(Z, y)
        w = model.coef_.reshape(-1).astype(float)
        b = float(model.intercept_.reshape(-1)[0])
        norm = np.linalg.norm(w)
        if not np.isfinite(norm) or norm == 0:
            raise BiasLensError(f"the {name} hyperplane has a zero normal (labels not "
                                "linearly related to z)")
        ws.append(w / norm)
        bs.append(b / norm)
        acc.append(float(((Z @ ws[-1] + bs[-1] > 0) == y).mean()))
    return Hyperplanes(names, np.stack(ws), np.asarray(bs), np.asarray(acc), method)


def least_norm_shift(z: Any, W: Any, targets: Any) -> np.ndarray:
    """The nearest ``z'`` to each row of ``z`` with ``W^T z' = targets`` (exact, vectorized).

    ``z' = z + W (W^T W)^{-1} (targets − W^T z)``: the displacement lies in span(W), which
    makes it the minimum-norm solution (§4.6).

    Parameters
    ----------
    z : float (n, d).
    W : float (d, m), linearly independent columns.
    targets : float (n, m) wanted values of ``W^T z'``.
    """
    Z = np.asarray(z, dtype=float)
    W = np.asarray(W, dtype=float)
    G = W.T @ W                                                    # (m, m) Gram matrix
    sv = np.linalg.svd(G, compute_uv=False)
    if sv[-1] <= SINGULAR_EPS * max(sv[0], 1.0):
        raise NearParallelError(
            "the hyperplane normals are linearly dependent (e.g. |cos θ| = 1 between target "
            "and protected): no z' can keep one score and change the other")
    resid = np.asarray(targets, dtype=float) - Z @ W               # (n, m)
    return Z + np.linalg.solve(G, resid.T).T @ W.T


def _cos_sin(w_g: np.ndarray, w_t: np.ndarray) -> tuple[float, float]:
    cos = float(np.clip(w_g @ w_t, -1.0, 1.0))
    sin2 = 1.0 - cos * cos
    if sin2 < SINGULAR_EPS:
        raise NearParallelError(
            f"target and protected hyperplanes are parallel (cos θ = {cos:.6f}); the "
            "protected score cannot be negated while the target score is kept")
    sin = float(np.sqrt(sin2))
    if sin < WARN_SIN:
        warnings.warn(f"target and protected hyperplanes are nearly parallel (cos θ = "
                      f"{cos:.4f}): z' moves ~1/sin θ = {1 / sin:.0f}× the protected "
                      "distance and may leave the latent distribution",
                      NearParallelWarning, stacklevel=3)
    return cos, sin


def _unit(w: Any, name: str) -> np.ndarray:
    w = np.asarray(w, dtype=float).reshape(-1)
    n = np.linalg.norm(w)
    if not np.isfinite(n) or n == 0:
        raise BiasLensError(f"{name} must be a non-zero finite vector")
    if abs(n - 1) > 1e-6:
        raise BiasLensError(f"{name} must have unit norm (got ‖w‖ = {n:.6g}); normalise "
                            "w and b by ‖w‖ first (fit_hyperplanes does)")
    return w


def complementary_z(z: Any, w_t: Any, b_t: float, w_g: Any, b_g: float, *,
                    variant: str = "complementary") -> np.ndarray:
    """The complementary latent vectors of §4.4 (and its ablations), for every row of ``z``.

    With ``cos θ = w_g^T w_t``, ``d = w_g^T z + b_g`` and
    ``u = (w_g − cos θ · w_t) / sin θ``:

    * ``complementary``: ``z − (2d / sin θ) u`` — target score kept, protected negated;
    * ``on_hyperplane``: ``z − (d / sin θ) u`` — target kept, protected score 0;
    * ``perp``: ``z − 2d w_g`` — protected negated, target not controlled;
    * ``perp_on_hyperplane``: ``z − d w_g``.

    ``w_t`` and ``w_g`` must be unit vectors. Raises :class:`NearParallelError` when
    ``|cos θ| → 1`` (and warns with :class:`NearParallelWarning` when sin θ < 0.1).
    ``b_t`` is not needed by the formula (the target score is kept, whatever its offset);
    it is accepted so the call reads like the hyperplanes it uses.
    """
    del b_t
    if variant not in ABLATIONS:
        raise BiasLensError(f"unknown variant {variant!r}; valid: {', '.join(ABLATIONS)}")
    Z = np.asarray(z, dtype=float)
    squeeze = Z.ndim == 1
    Z = np.atleast_2d(Z)
    w_t, w_g = _unit(w_t, "w_t"), _unit(w_g, "w_g")
    d = Z @ w_g + b_g                                                 # (n,)
    if variant == "perp":
        out = Z - 2 * d[:, None] * w_g
    elif variant == "perp_on_hyperplane":
        out = Z - d[:, None] * w_g
    else:
        cos, sin = _cos_sin(w_g, w_t)
        u = (w_g - cos * w_t) / sin
        step = 2.0 if variant == "complementary" else 1.0
        out = Z - (step * d / sin)[:, None] * u
    return out[0] if squeeze else out


def complementary_z_domain(z: Any, w_g: Any, b_g: float, w_t0: Any, b_t0: float,
                           w_t1: Any, b_t1: float, *, group: Any = None) -> np.ndarray:
    """Complementary z with domain-dependent target hyperplanes (§4.6, exact least norm).

    A vector in group ``a`` (``ĝ``, default: the side of the protected hyperplane, i.e.
    ``w_g^T z + b_g > 0``) has target score ``d_t = w_t^a·z + b_t^a`` under its own group's
    hyperplane; ``z'`` is the nearest point with protected score ``−d`` and score ``d_t``
    under the *other* group's target hyperplane:
    ``z' = z + W(W^T W)^{-1}(r − W^T z)``, ``W = [w_g, w_t^ā]``,
    ``r = [−d − b_g, d_t − b_t^ā]``.
    """
    Z = np.atleast_2d(np.asarray(z, dtype=float))
    w_g = _unit(w_g, "w_g")
    w_t = np.stack([_unit(w_t0, "w_t0"), _unit(w_t1, "w_t1")])      # (2, d)
    b_t = np.array([b_t0, b_t1], dtype=float)
    d = Z @ w_g + b_g
    a = (d > 0) if group is None else np.asarray(group).reshape(-1).astype(bool)
    if a.shape[0] != Z.shape[0]:
        raise DataError(f"group has {a.shape[0]} rows, z has {Z.shape[0]}", field="group")
    a = a.astype(int)
    d_t = np.einsum("nd,nd->n", Z, w_t[a]) + b_t[a]
    out = np.empty_like(Z)
    for g in (0, 1):  # two groups: one vectorized least-norm solve each
        m = a == g
        if not m.any():
            continue
        other = 1 - g
        _cos_sin(w_g, w_t[other])
        W = np.stack([w_g, w_t[other]], axis=1)                      # (d, 2)
        r = np.stack([-d[m] - b_g, d_t[m] - b_t[other]], axis=1)      # (n_g, 2)
        out[m] = least_norm_shift(Z[m], W, r)
    return out


def complementary_z_multi(z: Any, w_t: Any, b_t: float, w_gs: Any, b_gs: Any) -> np.ndarray:
    """Complementary z for several protected attributes: negate every protected score,
    keep the target score; the exact least-norm solution with ``W = [w_g1, …, w_gm, w_t]``.

    Parameters
    ----------
    w_gs : float (m, d) unit normals of the protected hyperplanes; ``b_gs`` (m,).
    """
    del b_t  # the target score is kept whatever its offset
    Z = np.atleast_2d(np.asarray(z, dtype=float))
    w_t = _unit(w_t, "w_t")
    Wg = np.atleast_2d(np.asarray(w_gs, dtype=float))
    for i, w in enumerate(Wg):
        _unit(w, f"w_gs[{i}]")
    b_gs = np.asarray(b_gs, dtype=float).reshape(-1)
    if b_gs.shape[0] != Wg.shape[0]:
        raise DataError(f"{Wg.shape[0]} protected normals but {b_gs.shape[0]} offsets",
                        field="b_gs")
    W = np.concatenate([Wg, w_t[None]], axis=0).T                    # (d, m + 1)
    d = Z @ Wg.T + b_gs                                              # (n, m)
    r = np.concatenate([-d - b_gs, (Z @ w_t)[:, None]], axis=1)      # W^T z' targets
    return least_norm_shift(Z, W, r)
