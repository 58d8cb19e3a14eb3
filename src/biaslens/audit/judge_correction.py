"""Judge-error-corrected group shares for k groups, with a joint bootstrap.

A judge (an attribute classifier, or an independent gender / age / skin-tone judge) labels
each generated image with one of ``kj`` judged categories; the quantity of interest is the
share of each of ``kt`` true groups (binary, multi-class, or an intersection such as
gender × skin-tone bin). A labelled calibration set gives the judge's confusion counts
``C`` (``kt × kj``: rows true group, columns judged category); its row-normalized form
``M[i, j] = P(judged j | true i)`` links the true shares ``π`` to the expected judged
shares, ``q = Mᵀ π``.

Estimator: **maximum likelihood on the simplex** of the multinomial judged counts ``y``
given ``M`` (the plug-in calibration estimate). Where ``M`` is square and invertible and
the inverse ``π = M⁻ᵀ q̂`` lies in the simplex, that inverse *is* the MLE (the multinomial
MLE of ``q`` is ``q̂ = y/n`` and the map is one-to-one), so it is returned exactly; for k = 2
it is the Rogan–Gladen estimate (Rogan & Gladen 1978), which is CLEAM's point estimate
(Teo et al., NeurIPS 2023). Otherwise — the inverse leaves the simplex, or ``M`` is
rectangular (more judged categories than groups, e.g. six ITA bins for two skin types) — the
MLE is found by EM, the multiplicative update of Shepp & Vardi (1982) / D'Agostini's
iterative unfolding (1995): ``π_i ← π_i Σ_j M_ij q̂_j / (Mᵀπ)_j``. It keeps ``π`` on the
simplex and never decreases the likelihood; for k = 2 its limit is the clipped
Rogan–Gladen value.

Uncertainty: a **joint parametric bootstrap** of both samples — each calibration row
``C_i`` redrawn as ``Multinomial(n_i, M_i)`` (the calibration set is stratified by true
group) and the judged counts as ``Multinomial(n, q̂)`` — every replicate drawn at once
(``Generator.multinomial`` with array arguments) and solved in one batch; the interval is
the percentile interval of the replicates. It carries the calibration set's error, which a
correction with rates taken as exact (``population_audit``'s Rogan–Gladen) leaves out.

Pure numpy; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biaslens.errors import BiasLensError, DataError
from biaslens.io import json_floats
from biaslens.stats import wilson_ci

__all__ = ["METHOD", "JudgeCorrection", "confusion_counts", "correct_shares",
           "intersect_labels", "solve_shares"]

#: What :func:`solve_shares` computes, as recorded in results.
METHOD = ("maximum likelihood on the simplex (exact inverse when interior, else EM); "
          "joint parametric bootstrap of calibration and generated counts")


# --------------------------------------------------------------------------- labels


def confusion_counts(true: np.ndarray, judged: np.ndarray, k_true: int,
                     k_judged: int | None = None) -> np.ndarray:
    """Counts ``(k_true, k_judged)`` of (true group, judged category) pairs.

    >>> confusion_counts(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), 2)
    array([[1, 1],
           [1, 2]])
    """
    kj = k_true if k_judged is None else k_judged
    t, j = np.asarray(true, np.int64).ravel(), np.asarray(judged, np.int64).ravel()
    if t.shape != j.shape:
        raise DataError(f"true and judged labels differ in length ({len(t)} vs {len(j)})",
                        field="labels")
    for name, v, k in (("true", t, k_true), ("judged", j, kj)):
        if len(v) and (v.min() < 0 or v.max() >= k):
            raise DataError(f"{name} labels must be in 0..{k - 1}; got {v.min()}..{v.max()}",
                            field=name)
    return np.bincount(t * kj + j, minlength=k_true * kj).reshape(k_true, kj)


def intersect_labels(labels: Sequence[np.ndarray], sizes: Sequence[int],
                     names: Sequence[Sequence[str]] | None = None
                     ) -> tuple[np.ndarray, list[str]]:
    """Cross several label columns into one intersection code (first column most
    significant): ``(codes (n,), cell names)``; e.g. gender (2) × skin-tone bin (6) -> 12.

    >>> codes, cells = intersect_labels([np.array([0, 1]), np.array([2, 0])], [2, 3],
    ...                                 [["F", "M"], ["a", "b", "c"]])
    >>> codes.tolist(), cells[:4]
    ([2, 3], ['F&a', 'F&b', 'F&c', 'M&a'])
    """
    if len(labels) != len(sizes) or not labels:
        raise BiasLensError("intersect_labels needs one size per label column")
    names = names or [[str(v) for v in range(s)] for s in sizes]
    codes = np.zeros(len(labels[0]), np.int64)
    for lab, s in zip(labels, sizes):
        lab = np.asarray(lab, np.int64)
        if len(lab) and (lab.min() < 0 or lab.max() >= s):
            raise DataError(f"labels must be in 0..{s - 1}; got {lab.min()}..{lab.max()}",
                            field="labels")
        codes = codes * s + lab
    cells = [""]
    for col in names:
        cells = [f"{a}&{b}" if a else str(b) for a in cells for b in col]
    return codes, cells


# --------------------------------------------------------------------------- solve


def _row_stochastic(confusion: np.ndarray) -> np.ndarray:
    c = np.asarray(confusion, float)
    return c / c.sum(-1, keepdims=True)


def solve_shares(m: np.ndarray, q: np.ndarray, *, max_iter: int = 5000, tol: float = 1e-10
                 ) -> np.ndarray:
    """Maximum-likelihood true shares ``π`` on the simplex, batched.

    ``m``: ``(..., kt, kj)`` row-stochastic ``P(judged | true)``; ``q``: ``(..., kj)``
    observed judged shares (summing to 1). Returns ``(..., kt)``. Square invertible
    ``m`` with an interior inverse: the exact inverse; everything else: EM from the
    inverse projected into the simplex (see the module docstring).
    """
    m, q = np.asarray(m, float), np.asarray(q, float)
    batch = np.broadcast_shapes(m.shape[:-2], q.shape[:-1])
    kt, kj = m.shape[-2:]
    m = np.broadcast_to(m, (*batch, kt, kj)).reshape(-1, kt, kj)
    q = np.broadcast_to(q, (*batch, kj)).reshape(-1, kj)
    mt = np.swapaxes(m, 1, 2)                                   # (b, kj, kt)
    x = (np.linalg.pinv(mt) @ q[..., None])[..., 0]             # LS / exact inverse (b, kt)
    s = np.linalg.svd(m, compute_uv=False)                      # (b, min(kt, kj))
    exact = (kt == kj) & (s[:, -1] > 1e-9) & np.all(x >= 0, axis=1)
    pi = np.where(exact[:, None], x, 0.0)
    todo = np.flatnonzero(~exact)
    if len(todo):
        start = np.clip(x[todo], 0.0, None)
        tot = start.sum(1, keepdims=True)
        start = np.where(tot > 0, start / np.where(tot > 0, tot, 1), 1.0 / kt)
        p = 0.9 * start + 0.1 / kt                              # no zero: EM keeps zeros
        mm, qq = m[todo], q[todo]
        active = np.arange(len(todo))
        for _ in range(max_iter):
            a = mm[active]
            pred = np.einsum("bi,bij->bj", p[active], a)        # expected judged shares
            ratio = np.divide(qq[active], pred, out=np.zeros_like(pred), where=pred > 0)
            new = p[active] * np.einsum("bij,bj->bi", a, ratio)
            tot = new.sum(1, keepdims=True)        # 0 only if no count is explainable
            new = np.where(tot > 0, new / np.where(tot > 0, tot, 1), p[active])
            moved = np.abs(new - p[active]).max(1)
            p[active] = new
            active = active[moved > tol]
            if not len(active):
                break
        pi[todo] = p
    return pi.reshape(*batch, kt)


# --------------------------------------------------------------------------- result


@dataclass
class JudgeCorrection:
    """Raw and judge-error-corrected shares of ``k`` groups (:func:`correct_shares`).

    ``raw`` ``(kj,)``: the judged categories' shares with Wilson intervals; ``corrected``
    ``(kt,)``: the true groups' shares (on the simplex) with joint-bootstrap intervals.
    """

    group_names: list[str]          # true groups (rows of the confusion matrix)
    judged_names: list[str]         # judged categories (columns)
    confusion: np.ndarray           # (kt, kj) calibration counts
    judged_counts: np.ndarray       # (kj,) judged counts of the generated set
    raw: np.ndarray                 # (kj,)
    raw_ci: tuple[np.ndarray, np.ndarray]
    corrected: np.ndarray           # (kt,)
    corrected_ci: tuple[np.ndarray, np.ndarray]
    level: float
    n_boot: int
    seed: int | None
    method: str = METHOD
    judge: str = ""                 # which judge labelled the images
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_calibration(self) -> int:
        return int(self.confusion.sum())

    @property
    def n_generated(self) -> int:
        return int(self.judged_counts.sum())

    def to_dict(self) -> dict[str, Any]:
        return {"judge": self.judge, "shares": "corrected", "method": self.method,
                "group_names": list(self.group_names), "judged_names": list(self.judged_names),
                "confusion": self.confusion.astype(int).tolist(),
                "judged_counts": self.judged_counts.astype(int).tolist(),
                "n_calibration": self.n_calibration, "n_generated": self.n_generated,
                "raw": json_floats(self.raw), "raw_ci": [json_floats(v) for v in self.raw_ci],
                "corrected": json_floats(self.corrected),
                "corrected_ci": [json_floats(v) for v in self.corrected_ci],
                "level": self.level, "n_boot": self.n_boot, "seed": self.seed,
                "settings": dict(self.settings)}


def _check_counts(confusion: np.ndarray, judged_counts: np.ndarray,
                  group_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(confusion)
    y = np.asarray(judged_counts)
    if c.ndim != 2 or y.ndim != 1 or c.shape[1] != len(y):
        raise DataError(f"confusion must be (k_true, k_judged) and judged_counts (k_judged,); "
                        f"got {c.shape} and {y.shape}", field="confusion")
    if c.shape[0] > c.shape[1]:
        raise DataError(f"{c.shape[0]} true groups cannot be told apart from "
                        f"{c.shape[1]} judged categories", field="confusion")
    for name, v in (("confusion", c), ("judged_counts", y)):
        if np.any(v < 0) or not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
            raise DataError(f"{name} must hold non-negative whole counts", field=name)
    empty = [g for g, r in zip(group_names, c.sum(1)) if r == 0]
    if empty:
        raise DataError(f"the calibration set has no image of group(s) {', '.join(empty)}: "
                        "the judge's error on them is unknown", field="confusion")
    if y.sum() == 0:
        raise DataError("judged_counts are all zero (no generated image)", field="judged_counts")
    m = _row_stochastic(c)
    if np.linalg.svd(m, compute_uv=False)[-1] <= 1e-9:
        raise BiasLensError("the judge's confusion matrix is singular: some true groups are "
                            "judged alike, so their shares cannot be separated")
    return c.astype(np.int64), y.astype(np.int64)


def correct_shares(confusion: np.ndarray, judged_counts: np.ndarray, *,
                   group_names: Sequence[str] | None = None,
                   judged_names: Sequence[str] | None = None, n_boot: int = 1000,
                   level: float = 0.95, seed: int | None = 0, judge: str = ""
                   ) -> JudgeCorrection:
    """True group shares of a generated set from a judge's calibration confusion counts.

    Parameters
    ----------
    confusion : ``(kt, kj)`` counts on a labelled calibration set (rows true group,
        columns judged category; :func:`confusion_counts`).
    judged_counts : ``(kj,)`` the judge's category counts on the generated set.
    n_boot : joint bootstrap replicates (0: no interval, NaN bounds).

    Examples
    --------
    >>> r = correct_shares([[90, 10], [20, 80]], [55, 45], n_boot=200, seed=0)
    >>> [round(float(v), 4) for v in r.corrected]   # Rogan–Gladen: (0.45 - 0.1) / 0.7
    [0.5, 0.5]
    """
    kt = np.shape(confusion)[0]
    gnames = list(group_names) if group_names is not None else [str(i) for i in range(kt)]
    c, y = _check_counts(confusion, judged_counts, gnames)
    kj = c.shape[1]
    jnames = list(judged_names) if judged_names is not None else (
        gnames if kj == kt else [str(i) for i in range(kj)])
    if len(gnames) != kt or len(jnames) != kj:
        raise DataError(f"need {kt} group names and {kj} judged names", field="group_names")
    m = _row_stochastic(c)
    n = int(y.sum())
    q = y / n
    point = solve_shares(m, q)
    lo_raw, hi_raw = wilson_ci(y, n, level)
    lo = hi = np.full(kt, np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        c_b = rng.multinomial(c.sum(1), m, size=(n_boot, kt))     # (B, kt, kj)
        y_b = rng.multinomial(n, q, size=n_boot)                  # (B, kj)
        reps = solve_shares(_row_stochastic(c_b), y_b / n)        # (B, kt)
        a = (1 - level) / 2
        lo, hi = np.quantile(reps, [a, 1 - a], axis=0)
    # judged categories no calibration image fell into: the model cannot explain them, so
    # the likelihood (and EM) ignores them; say how many there were
    unexplained = int(y[c.sum(0) == 0].sum())
    return JudgeCorrection(group_names=gnames, judged_names=jnames, confusion=c,
                           judged_counts=y, raw=q, raw_ci=(lo_raw, hi_raw), corrected=point,
                           corrected_ci=(lo, hi), level=level, n_boot=n_boot, seed=seed,
                           judge=judge, settings={"unexplained_judged": unexplained})
