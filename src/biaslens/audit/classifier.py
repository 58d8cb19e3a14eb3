"""Quality of an attribute classifier against true labels, per attribute, with CIs.

:func:`classifier_metrics` scores the logits ``(n, A)`` of ``A`` heads against their
labels: accuracy (threshold: logit 0, i.e. probability 0.5), ROC AUC, balanced accuracy
(mean of TPR and TNR), and the positive rate predicted vs true. The two rates and the
accuracy get Wilson intervals; AUC, balanced accuracy and the paired difference of the
rates get one percentile bootstrap over rows, vectorized over attributes and resamples
(a resample is a vector of row counts; every statistic is computed from those weights).

:func:`check_heads` reads the AUC intervals: a head whose AUC interval lies below 0.5
predicts the *opposite* of its name (e.g. a "female" output labelled ``Male``), one
whose interval holds 0.5 is at chance on this data.

>>> y = np.array([[1], [1], [0], [0]], bool)
>>> m = classifier_metrics(y, np.array([[2.0], [-1.0], [-3.0], [0.5]]), ["Smiling"], n_boot=0)
>>> float(m.accuracy[0]), float(m.auc[0]), float(m.balanced_accuracy[0])
(0.5, 0.75, 0.5)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biaslens.io import json_float
from biaslens.names import NEGATED_ALIASES
from biaslens.stats import bootstrap_ci, row_bincount, wilson_ci

__all__ = ["ClassifierMetrics", "HeadCheck", "check_heads", "classifier_metrics",
           "opposite_name", "weighted_auc"]

#: Floats a bootstrap chunk's AUC arrays may hold: resamples × tie groups (≤ rows × attributes).
_CHUNK_FLOATS = 3_000_000
#: Without a CI, a point AUC within this of 0.5 counts as chance and below 0.5 minus
#: it as inverted.
CHANCE_MARGIN = 0.05


@dataclass(frozen=True)
class _AucLayout:
    """The scores' tie groups, once per data set: ``pos``/``neg`` are sparse
    ``(groups, n)`` maps of each row's positives/negatives to its column's tie group
    (groups of one column are consecutive, in ascending score order, starting at
    ``starts[a]``; ``sizes[a]`` of them)."""

    pos: Any
    neg: Any
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, scores: np.ndarray) -> _AucLayout:
        from scipy.sparse import csr_matrix

        n, a = scores.shape
        order = np.argsort(scores, axis=0, kind="stable")                  # (n, A)
        s = np.take_along_axis(scores, order, axis=0)
        new = np.ones(s.shape, dtype=np.int64)
        new[1:] = s[1:] != s[:-1]                                          # a tie group starts
        rank_sorted = np.cumsum(new, axis=0) - 1                           # dense rank (n, A)
        sizes = rank_sorted[-1] + 1 if n else np.zeros(a, np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        group = np.empty_like(rank_sorted)
        np.put_along_axis(group, order, rank_sorted, axis=0)
        group += starts                                                    # (n, A) global ids
        cols, yv = group.ravel(), np.asarray(y, bool).ravel()
        # Neighbouring groups holding one class only (all positives, or all negatives) can
        # merge: no row of the other class lies between them, so every AUC credit stays the
        # same, whatever the weights. Mixed groups (tied positives and negatives) stay.
        n_groups = int(sizes.sum())
        has_pos = np.bincount(cols, weights=yv, minlength=n_groups) > 0
        has_neg = np.bincount(cols, weights=~yv, minlength=n_groups) > 0
        kind = has_pos.astype(np.int8) + 2 * has_neg                      # 1 pos, 2 neg, 3 both
        first = np.zeros(n_groups, bool)
        first[starts[sizes > 0]] = True
        first[1:] |= (kind[1:] != kind[:-1]) | (kind[1:] == 3)
        merged = np.cumsum(first) - 1
        column = np.repeat(np.arange(a), sizes)
        sizes = np.bincount(column[first], minlength=a).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        cols = merged[cols]
        rows = np.repeat(np.arange(n), a)
        shape = (int(sizes.sum()), n)
        return cls(csr_matrix((yv.astype(np.float64), (cols, rows)), shape=shape),
                   csr_matrix(((~yv).astype(np.float64), (cols, rows)), shape=shape),
                   starts, sizes)

    @property
    def n_groups(self) -> int:
        return int(self.sizes.sum())


def weighted_auc(y: np.ndarray, scores: np.ndarray, weights: np.ndarray,
                 layout: _AucLayout | None = None) -> np.ndarray:
    """ROC AUC of each column of ``scores`` ``(n, A)`` against ``y`` with row ``weights``
    ``(b, n)`` (e.g. bootstrap counts): ``(b, A)``. Counts ``w`` give exactly the AUC of
    the data with row ``i`` repeated ``w_i`` times; ties count half. NaN where a weighted
    class is empty. Cost: two sparse products of ``n·A`` entries with ``(n, b)``.

    >>> y = np.array([[1], [0], [1], [0]], bool)
    >>> s = np.array([[0.9], [0.1], [0.4], [0.6]])
    >>> weighted_auc(y, s, np.ones((1, 4)))
    array([[0.75]])
    """
    lay = layout if layout is not None else _AucLayout.of(np.asarray(y, bool),
                                                          np.asarray(scores))
    wt = np.ascontiguousarray(np.asarray(weights, np.float64).T)           # (n, b)
    pos, neg = lay.pos @ wt, lay.neg @ wt                                   # (groups, b)
    cum = np.cumsum(neg, axis=0)
    base = np.where((lay.starts > 0)[:, None], cum[np.maximum(lay.starts - 1, 0)], 0.0)
    below = cum - neg - np.repeat(base, lay.sizes, axis=0)   # negatives in lower groups
    u = np.add.reduceat(pos * (below + 0.5 * neg), lay.starts, axis=0)    # (A, b)
    w_pos = np.add.reduceat(pos, lay.starts, axis=0)
    w_neg = np.add.reduceat(neg, lay.starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = u / (w_pos * w_neg)
    return np.where((w_pos > 0) & (w_neg > 0), auc, np.nan).T


@dataclass
class ClassifierMetrics:
    """Per-attribute quality of a classifier; every array is ``(A,)``, every CI ``(2, A)``."""

    attribute_names: list[str]
    n: int
    n_positive: np.ndarray
    accuracy: np.ndarray
    accuracy_ci: np.ndarray
    auc: np.ndarray
    auc_ci: np.ndarray
    balanced_accuracy: np.ndarray
    balanced_accuracy_ci: np.ndarray
    true_rate: np.ndarray
    true_rate_ci: np.ndarray
    predicted_rate: np.ndarray
    predicted_rate_ci: np.ndarray
    rate_difference: np.ndarray          # predicted − true positive rate (paired)
    rate_difference_ci: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    _PER_ATTRIBUTE = ("accuracy", "auc", "balanced_accuracy", "true_rate", "predicted_rate",
                      "rate_difference")

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-able dict per attribute: each metric with its ``[lo, hi]`` CI."""
        out = []
        for j, name in enumerate(self.attribute_names):
            row: dict[str, Any] = {"attribute": name, "n": self.n,
                                   "n_positive": int(self.n_positive[j])}
            for m in self._PER_ATTRIBUTE:
                ci = getattr(self, f"{m}_ci")
                row[m] = json_float(getattr(self, m)[j])
                row[f"{m}_ci"] = [json_float(ci[0, j]), json_float(ci[1, j])]
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        auc = self.auc[np.isfinite(self.auc)]
        return {"n": self.n, "settings": self.settings,
                "mean_accuracy": json_float(np.mean(self.accuracy)) if self.n else None,
                "mean_auc": json_float(auc.mean()) if auc.size else None,
                "mean_balanced_accuracy": json_float(np.nanmean(self.balanced_accuracy))
                if np.isfinite(self.balanced_accuracy).any() else None,
                "attributes": self.rows()}


def classifier_metrics(y_true: np.ndarray, logits: np.ndarray, attribute_names: Sequence[str],
                       *, n_boot: int = 500, level: float = 0.95, seed: int | None = 0
                       ) -> ClassifierMetrics:
    """Accuracy, AUC, balanced accuracy and predicted vs true positive rate per attribute.

    Parameters
    ----------
    y_true : bool ``(n, A)`` true labels, column ``j`` for ``attribute_names[j]``.
    logits : float ``(n, A)``; positive prediction where ``logit > 0`` (probability > 0.5).
    n_boot : bootstrap resamples of the rows for the AUC, balanced accuracy and rate
        difference CIs (0: those CIs are NaN).
    level, seed : CI coverage and bootstrap seed.
    """
    y = np.asarray(y_true, bool)
    z = np.asarray(logits, np.float64)
    if y.ndim != 2 or y.shape != z.shape:
        raise ValueError(f"y_true {y.shape} and logits {z.shape} must both be (n, A)")
    n, a = y.shape
    if len(attribute_names) != a:
        raise ValueError(f"{len(attribute_names)} attribute names for {a} columns")
    pred = z > 0
    yf, pf = y.astype(np.float64), pred.astype(np.float64)
    hit = (pred == y).astype(np.float64)
    # every weighted count the bootstrap needs, as one (n, 4A) matrix: one product per chunk
    cols = np.concatenate([yf, pf, (y & pred), (~y & ~pred)], axis=1).astype(np.float64)
    layout = _AucLayout.of(y, z)

    def stats(weights: np.ndarray) -> np.ndarray:
        """``(b, 3, A)``: AUC, balanced accuracy, rate difference under row ``weights``."""
        sums = weights @ cols                                               # (b, 4A)
        k_pos, k_pred, k_tp, k_tn = (sums[:, i * a:(i + 1) * a] for i in range(4))
        total = weights.sum(1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            ba = 0.5 * (k_tp / k_pos + k_tn / (total - k_pos))
        diff = (k_pred - k_pos) / total
        return np.stack([weighted_auc(y, z, weights, layout), ba, diff], axis=1)

    point = stats(np.ones((1, n)))[0]
    nan2 = np.full((2, a), np.nan)
    boot_ci = [nan2, nan2, nan2]
    if n_boot > 0 and n > 0:
        chunk = max(1, min(64, _CHUNK_FLOATS // max(1, layout.n_groups)))
        with warnings.catch_warnings():   # a one-class column: NaN in every resample
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            lo, hi, _ = bootstrap_ci(lambda idx: stats(row_bincount(idx, n)), n,
                                     n_boot=n_boot, level=level, seed=seed, chunk=chunk)
        boot_ci = [np.stack([lo[k], hi[k]]) for k in range(3)]
    k_pos, k_pred, k_hit = yf.sum(0), pf.sum(0), hit.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc, true_rate, pred_rate = k_hit / n, k_pos / n, k_pred / n
    return ClassifierMetrics(
        attribute_names=[str(s) for s in attribute_names], n=n,
        n_positive=k_pos.astype(np.int64),
        accuracy=acc, accuracy_ci=np.stack(wilson_ci(k_hit, n, level)),
        auc=point[0], auc_ci=boot_ci[0],
        balanced_accuracy=point[1], balanced_accuracy_ci=boot_ci[1],
        true_rate=true_rate, true_rate_ci=np.stack(wilson_ci(k_pos, n, level)),
        predicted_rate=pred_rate, predicted_rate_ci=np.stack(wilson_ci(k_pred, n, level)),
        rate_difference=point[2], rate_difference_ci=boot_ci[2],
        settings={"threshold": "logit > 0 (probability > 0.5)", "n_boot": n_boot,
                  "level": level, "seed": seed, "resampled": "rows",
                  "ci": {"accuracy": "wilson", "true_rate": "wilson",
                         "predicted_rate": "wilson", "auc": "bootstrap",
                         "balanced_accuracy": "bootstrap", "rate_difference": "bootstrap"}})


@dataclass
class HeadCheck:
    """One classifier head read against the labels: ``status`` is ``ok``, ``inverted``
    (AUC significantly below 0.5), ``chance`` (AUC indistinguishable from 0.5) or
    ``untested`` (the labels hold one class only)."""

    attribute: str
    status: str
    auc: float
    auc_ci: tuple[float, float]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "status": self.status,
                "auc": json_float(self.auc),
                "auc_ci": [json_float(self.auc_ci[0]), json_float(self.auc_ci[1])],
                "message": self.message}


def opposite_name(name: str) -> str:
    """The name of the opposite of attribute ``name``: ``Male`` -> ``Female``,
    ``Female`` -> ``Male``, ``-Smiling`` -> ``Smiling``, ``Smiling`` -> ``-Smiling``.

    >>> opposite_name("Male"), opposite_name("Old"), opposite_name("Smiling")
    ('Female', 'Young', '-Smiling')
    """
    if name.startswith("-"):
        return name[1:]
    if name in NEGATED_ALIASES:
        return NEGATED_ALIASES[name]
    reverse = {v: k for k, v in NEGATED_ALIASES.items()}
    return reverse.get(name, f"-{name}")


def check_heads(metrics: ClassifierMetrics) -> list[HeadCheck]:
    """Read each head's AUC and its CI: inverted when the CI's upper end is below 0.5,
    at chance when the CI holds 0.5 (without a CI: within :data:`CHANCE_MARGIN` of it)."""
    out = []
    for j, name in enumerate(metrics.attribute_names):
        auc = float(metrics.auc[j])
        lo, hi = (float(v) for v in metrics.auc_ci[:, j])
        shown = f"AUC {auc:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else "")
        if not np.isfinite(auc):
            status, msg = "untested", (f"{name}: the labels hold only one class here; "
                                       "its AUC is undefined")
        elif (hi < 0.5) if np.isfinite(hi) else (auc < 0.5 - CHANCE_MARGIN):
            status = "inverted"
            msg = (f"{name}: {shown} is below chance: this output scores the opposite of "
                   f"{name} (or another attribute), so its column is misnamed. Re-import "
                   "with --attribute-names listing the outputs in their order, naming this "
                   f"one for what it predicts (e.g. {opposite_name(name)})")
        elif (lo <= 0.5 <= hi) if np.isfinite(lo) else abs(auc - 0.5) <= CHANCE_MARGIN:
            status = "chance"
            msg = (f"{name}: {shown} is at chance: this output does not predict {name} on "
                   "this data (a misnamed column? re-import with --attribute-names), or the "
                   "head was not trained")
        else:
            status, msg = "ok", f"{name}: {shown}"
        out.append(HeadCheck(name, status, auc, (lo, hi), msg))
    return out
