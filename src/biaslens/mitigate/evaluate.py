"""Per-group evaluation of face detectors (DB-VAE vs standard CNN), docs/algorithms.md §3.5.

Pure numpy: face probabilities of several detectors on the same balanced test faces ->
per-group mean probability (stratified bootstrap CI) and detection accuracy at a
threshold (Wilson CI), the gap between the best and the worst group, and a *paired*
bootstrap of how the gap changes between detectors (same resampled faces for both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biaslens.errors import DataError
from biaslens.stats import wilson_ci

__all__ = ["DetectorGroups", "DetectionComparison", "compare_detectors"]


def _f(x: Any) -> float:
    return float(x)


@dataclass
class DetectorGroups:
    """One detector's per-group numbers on all-face test images.

    Attributes
    ----------
    groups : group names, in a fixed order.
    n : faces per group.
    mean_prob, mean_prob_ci : mean sigmoid face probability and its bootstrap CI.
    accuracy, accuracy_ci : share detected (``prob > threshold``) and its Wilson CI.
    gap_prob, gap_prob_ci : max − min over groups of ``mean_prob`` (bootstrap CI).
    gap_acc, gap_acc_ci : max − min over groups of ``accuracy`` (bootstrap CI).
    best, worst : groups with the highest / lowest mean probability.
    """

    groups: list[str]
    n: np.ndarray
    mean_prob: np.ndarray
    mean_prob_ci: tuple[np.ndarray, np.ndarray]
    accuracy: np.ndarray
    accuracy_ci: tuple[np.ndarray, np.ndarray]
    gap_prob: float
    gap_prob_ci: tuple[float, float]
    gap_acc: float
    gap_acc_ci: tuple[float, float]
    best: str
    worst: str

    def to_dict(self) -> dict[str, Any]:
        by = {g: {"n": int(self.n[i]), "mean_prob": _f(self.mean_prob[i]),
                  "mean_prob_ci": [_f(self.mean_prob_ci[0][i]), _f(self.mean_prob_ci[1][i])],
                  "accuracy": _f(self.accuracy[i]),
                  "accuracy_ci": [_f(self.accuracy_ci[0][i]), _f(self.accuracy_ci[1][i])]}
              for i, g in enumerate(self.groups)}
        return {"by_group": by, "gap_prob": self.gap_prob, "gap_prob_ci": list(self.gap_prob_ci),
                "gap_acc": self.gap_acc, "gap_acc_ci": list(self.gap_acc_ci),
                "best": self.best, "worst": self.worst,
                "overall_accuracy": _f((self.accuracy * self.n).sum() / self.n.sum())}


@dataclass
class DetectionComparison:
    """Detectors compared on the same faces; ``gap_change`` is ``model − reference``."""

    reference: str
    detectors: dict[str, DetectorGroups]
    gap_change: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold: float = 0.5
    n_boot: int = 1000
    level: float = 0.95
    seed: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "threshold": self.threshold,
                "n_boot": self.n_boot, "level": self.level, "seed": self.seed,
                "detectors": {k: v.to_dict() for k, v in self.detectors.items()},
                "gap_change": self.gap_change}


def _ci(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1 - level) / 2
    lo, hi = np.nanquantile(samples, [a, 1 - a], axis=0)
    return lo, hi


def compare_detectors(probs: Mapping[str, Any], groups: Any, *, reference: str | None = None,
                      threshold: float = 0.5, n_boot: int = 1000, level: float = 0.95,
                      seed: int | None = 0) -> DetectionComparison:
    """Per-group detection of several detectors on the same (all-face) test images.

    The bootstrap is stratified (faces are resampled within each group, keeping the
    balanced design) and paired (one set of resamples for every detector), so the CI
    of the gap change reflects only how the two detectors differ on the same faces.

    Parameters
    ----------
    probs : detector name -> float (n,) face probabilities in [0, 1].
    groups : (n,) group label of each face (e.g. ``"darker female"``).
    reference : the detector the others are compared with (default: the first).
    """
    names = list(probs)
    if not names:
        raise DataError("no detectors to compare", field="probs")
    reference = names[0] if reference is None else reference
    if reference not in probs:
        raise DataError(f"unknown reference {reference!r}; detectors: {', '.join(names)}",
                        field="reference")
    g = np.asarray(groups).reshape(-1)
    P = np.stack([np.asarray(probs[k], dtype=float).reshape(-1) for k in names])  # (m, n)
    if P.shape[1] != g.shape[0]:
        raise DataError(f"probabilities have {P.shape[1]} rows, groups {g.shape[0]}",
                        field="groups")
    if not np.isfinite(P).all():
        raise DataError("face probabilities must be finite", field="probs")
    levels, codes = np.unique(g, return_inverse=True)
    rng = np.random.default_rng(seed)
    G = len(levels)
    n = np.bincount(codes, minlength=G)
    mean = np.stack([np.bincount(codes, p, G) / n for p in P])            # (m, G)
    hit = P > threshold
    acc = np.stack([np.bincount(codes, h.astype(float), G) / n for h in hit])
    # stratified, paired bootstrap: per group an (n_boot, n_g) index draw shared by models
    bmean = np.empty((n_boot, len(names), G))
    bacc = np.empty_like(bmean)
    for j in range(G):  # a handful of groups; each draw is vectorized over resamples
        rows = np.flatnonzero(codes == j)
        idx = rows[rng.integers(0, len(rows), size=(n_boot, len(rows)))]   # (B, n_g)
        bmean[:, :, j] = P[:, idx].mean(-1).T
        bacc[:, :, j] = hit[:, idx].mean(-1).T
    bgap_p = bmean.max(-1) - bmean.min(-1)                                  # (B, m)
    bgap_a = bacc.max(-1) - bacc.min(-1)
    out: dict[str, DetectorGroups] = {}
    for i, k in enumerate(names):
        lo_p, hi_p = _ci(bmean[:, i], level)
        wl, wh = wilson_ci(acc[i] * n, n, level)
        gp_lo, gp_hi = _ci(bgap_p[:, i], level)
        ga_lo, ga_hi = _ci(bgap_a[:, i], level)
        out[k] = DetectorGroups(
            groups=[str(x) for x in levels], n=n, mean_prob=mean[i], mean_prob_ci=(lo_p, hi_p),
            accuracy=acc[i], accuracy_ci=(wl, wh),
            gap_prob=_f(mean[i].max() - mean[i].min()), gap_prob_ci=(_f(gp_lo), _f(gp_hi)),
            gap_acc=_f(acc[i].max() - acc[i].min()), gap_acc_ci=(_f(ga_lo), _f(ga_hi)),
            best=str(levels[int(np.argmax(mean[i]))]),
            worst=str(levels[int(np.argmin(mean[i]))]))
    r = names.index(reference)
    change: dict[str, dict[str, Any]] = {}
    for i, k in enumerate(names):
        if i == r:
            continue
        rec: dict[str, Any] = {}
        for key, point, boot in (("gap_prob", mean, bgap_p), ("gap_acc", acc, bgap_a)):
            d = (point[i].max() - point[i].min()) - (point[r].max() - point[r].min())
            lo, hi = _ci(boot[:, i] - boot[:, r], level)
            rec[key] = {"difference": _f(d), "ci": [_f(lo), _f(hi)],
                        "verdict": ("reduced" if hi < 0 else "increased" if lo > 0
                                    else "no significant change")}
        change[f"{k} - {reference}"] = rec
    return DetectionComparison(reference, out, change, threshold, n_boot, level, seed)
