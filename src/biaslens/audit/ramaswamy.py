"""The metrics of Ramaswamy, Kim & Russakovsky (CVPR 2021) and directional bias amplification.

AP, DEO, BA and KL as specified in ``docs/algorithms.md`` §4.7, the calibrated threshold of
§4.2, and Wang & Russakovsky's (ICML 2021) directional bias amplification for
multi-attribute predictions. Every metric has a vectorized batch form so a bootstrap
over ``(n_boot, n)`` index resamples runs without a Python loop per resample.

Conventions: ``y`` target labels, ``g`` protected labels (1 = e.g. Male), ``s`` scores in
[0, 1], ``y_hat`` hard predictions; all 1-d of equal length. Pure compute: no I/O.

With ``clusters`` (the person in each row) the bootstraps resample people: a resample is
then a multiplicity per row (``(b, n)``, every photo of a drawn person counted as often as
the person was drawn) and each metric has a weighted batch form (AP over one shared sort,
weighted histograms and count tables). With one row per person the draws, and so the
numbers, are those of the row bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.ndimage import gaussian_filter1d

from biaslens.audit.frame import _div, _quantiles, as_binary, nanmean
from biaslens.errors import BiasLensError, DataError
from biaslens.stats import Clusters, as_clusters, resample_unit, row_bincount

__all__ = [
    "DirectionalBAResult",
    "RamaswamyReport",
    "average_precision",
    "bias_amplification",
    "calibrated_threshold",
    "deo",
    "directional_bias_amplification",
    "kl_divergence",
    "ramaswamy_metrics",
]

N_BINS = 50
EPS = 1e-6


def _scores(s: Any, n: int | None = None, name: str = "y_score") -> np.ndarray:
    s = np.asarray(s, dtype=float).reshape(-1)
    if n is not None and s.shape[0] != n:
        raise DataError(f"has {s.shape[0]} rows, expected {n}", field=name)
    if not np.isfinite(s).all():
        raise DataError("scores must be finite", field=name)
    return s


# ---------------------------------------------------------------------------------------
# Calibrated threshold (§4.2)
# ---------------------------------------------------------------------------------------


def calibrated_threshold(val_scores: Any, val_labels: Any) -> float:
    """Threshold that predicts about as many positives as the val set has (``score > thr``).

    ``thr`` is the cp-th largest val score, cp = number of val positives; with the strict
    ``>`` it predicts cp − 1 positives when there are no ties (the reference behaviour).
    cp = 0 would wrap the reference's index to the minimum score (predicting almost
    everything positive); here it returns the maximum score, so nothing is predicted
    positive, which is what "as many positives as the data" means.
    """
    y = as_binary(val_labels, "val_labels")
    s = _scores(val_scores, y.shape[0], "val_scores")
    if s.size == 0:
        raise DataError("no validation scores", field="val_scores")
    cp = int(y.sum())
    if cp == 0:
        return float(s.max())
    # cp-th largest = element at sorted position n - cp (ascending); partition is O(n)
    return float(np.partition(s, s.size - cp)[s.size - cp])


# ---------------------------------------------------------------------------------------
# AP (batch over resamples)
# ---------------------------------------------------------------------------------------


def _ap_batch(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """sklearn ``average_precision_score`` on each row of ``(b, n)`` arrays.

    AP = Σ_runs (positives in the tie-run / P) · precision at the end of the run, with
    runs of equal scores in descending order (sklearn's step-wise interpolation).
    """
    order = np.argsort(-s, axis=-1, kind="stable")
    ss = np.take_along_axis(s, order, axis=-1)
    yy = np.take_along_axis(y, order, axis=-1).astype(float)
    n = s.shape[-1]
    pos = np.arange(n)
    tps = np.cumsum(yy, axis=-1)
    is_last = np.ones(ss.shape, dtype=bool)
    is_last[..., :-1] = ss[..., 1:] != ss[..., :-1]
    # index of the end of the tie-run each position belongs to
    end = np.minimum.accumulate(np.where(is_last, pos, n)[..., ::-1], axis=-1)[..., ::-1]
    prec_end = np.take_along_axis(tps / (pos + 1), end, axis=-1)
    P = tps[..., -1]
    return _div((yy * prec_end).sum(axis=-1), P)  # NaN when there are no positives


def _ap_weighted(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`_ap_batch` of the data ``(n,)`` with row multiplicities ``w`` ``(b, n)``.

    One sort for every resample; a row drawn k times counts k times in its tie-run, and
    rows never drawn drop out (their weight is 0), which is what sorting the resample does.
    """
    order = np.argsort(-s, kind="stable")
    ss, yy = s[order], y[order].astype(float)
    ww = w[:, order]
    n = s.shape[0]
    pos = np.arange(n)
    is_last = np.ones(n, dtype=bool)
    is_last[:-1] = ss[1:] != ss[:-1]
    end = np.minimum.accumulate(np.where(is_last, pos, n)[::-1])[::-1]
    tp = ww * yy
    tps = np.cumsum(tp, axis=-1)
    prec_end = _div(tps, np.cumsum(ww, axis=-1))[:, end]
    contrib = np.where(tp > 0, tp * prec_end, 0.0)
    return _div(contrib.sum(axis=-1), tps[:, -1])


def average_precision(y_true: Any, y_score: Any) -> float:
    """Average precision ×100 (sklearn's definition); NaN when there are no positives."""
    y = as_binary(y_true, "y_true")
    s = _scores(y_score, y.shape[0])
    return float(100 * _ap_batch(y[None], s[None])[0])


# ---------------------------------------------------------------------------------------
# DEO and BA from count tables (b, g, y, y_hat)
# ---------------------------------------------------------------------------------------


def _table(g: np.ndarray, y: np.ndarray, yh: np.ndarray, idx: np.ndarray | None = None
           ) -> np.ndarray:
    """Counts ``(b, 2, 2, 2)`` indexed [g, y, y_hat] for each resample (``idx`` (b, n))."""
    cell = g.view(np.uint8) * 4 + y.view(np.uint8) * 2 + yh.view(np.uint8)
    if idx is None:
        return np.bincount(cell, minlength=8).reshape(1, 2, 2, 2).astype(float)
    return row_bincount(cell[idx], 8).reshape(-1, 2, 2, 2)


def _deo_from_table(t: np.ndarray) -> np.ndarray:
    """|TPR_0 − TPR_1| ×100; TPR of a group without positives is 0 (sklearn recall)."""
    pos = t[:, :, 1, :].sum(-1)  # (b, 2)
    tpr = np.where(pos > 0, _div(t[:, :, 1, 1], pos), 0.0)
    return 100 * np.abs(tpr[:, 0] - tpr[:, 1])


def _ba_from_table(t: np.ndarray) -> np.ndarray:
    """BA ×100 (§4.7): (1/4) Σ_{τ,a} sign(P(T=τ|a) − P(T=τ)) (P(T̂=τ|a) − P(T=τ|a))."""
    n_a = t.sum(axis=(-2, -1))  # (b, 2)
    p_t_a = _div(t.sum(-1), n_a[..., None])  # (b, a, τ)   P(T=τ | A=a)
    p_that_a = _div(t.sum(-2), n_a[..., None])  # (b, a, τ) P(T̂=τ | A=a)
    p_t = _div(t.sum(axis=(1, 3)), t.sum(axis=(1, 2, 3))[:, None])  # (b, τ)
    sign = np.sign(p_t_a - p_t[:, None, :])  # ties → 0; empty group → NaN
    terms = (sign * (p_that_a - p_t_a)).reshape(t.shape[0], 4)
    return 100 * nanmean(terms, axis=-1)


def deo(y_true: Any, y_pred: Any, protected: Any) -> float:
    """Difference in equal opportunity ×100: ``|TPR_{g=0} − TPR_{g=1}|``."""
    y, yh, g = _three(y_true, y_pred, protected)
    return float(_deo_from_table(_table(g, y, yh))[0])


def bias_amplification(y_true: Any, y_pred: Any, protected: Any) -> float:
    """Bias amplification ×100 as in the reference code (attribute → task, ties → 0)."""
    y, yh, g = _three(y_true, y_pred, protected)
    return float(_ba_from_table(_table(g, y, yh))[0])


def _three(y_true, y_pred, protected):
    y = as_binary(y_true, "y_true")
    yh = as_binary(y_pred, "y_pred")
    g = as_binary(protected, "protected")
    if not (y.shape == yh.shape == g.shape):
        raise DataError(f"y_true, y_pred and protected have different lengths "
                        f"({y.shape[0]}, {yh.shape[0]}, {g.shape[0]})", field="y_pred")
    return y, yh, g


# ---------------------------------------------------------------------------------------
# KL divergence between score distributions (batch over resamples)
# ---------------------------------------------------------------------------------------


def _hist_batch(x: np.ndarray, mask: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Per-row ``np.histogram(x[mask], N_BINS, range=(lo, hi))`` for ``(b, n)`` arrays.

    Reproduces numpy's binning exactly (linspace edges plus its ±1 edge corrections).
    ``weights`` ``(b, n)``: each row counts that many times (integer multiplicities keep
    the integer counts, as the unweighted histogram has).
    """
    b, n = x.shape
    same = lo == hi  # numpy widens a degenerate range by ±0.5
    lo = np.where(same, lo - 0.5, lo)[:, None]
    hi = np.where(same, hi + 0.5, hi)[:, None]
    edges = np.linspace(lo[:, 0], hi[:, 0], N_BINS + 1, axis=-1)  # (b, 51)
    keep = mask & (x >= lo) & (x <= hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = ((x - lo) / (hi - lo)) * N_BINS  # numpy's operation order, bit for bit
    idx = np.clip(np.where(keep, f, 0).astype(np.intp), 0, N_BINS - 1)
    idx[idx == N_BINS] = N_BINS - 1
    idx -= x < np.take_along_axis(edges, idx, axis=-1)
    idx += (x >= np.take_along_axis(edges, np.minimum(idx + 1, N_BINS), axis=-1)) & (
        idx != N_BINS - 1)
    idx = np.clip(idx, 0, N_BINS - 1)
    flat = (idx + N_BINS * np.arange(b)[:, None])[keep]
    if weights is None:
        return np.bincount(flat, minlength=b * N_BINS).reshape(b, N_BINS)
    h = np.bincount(flat, weights=weights[keep], minlength=b * N_BINS).reshape(b, N_BINS)
    return np.rint(h).astype(np.int64)


def _kl_batch(s: np.ndarray, y: np.ndarray, g: np.ndarray, variant: str,
              w: np.ndarray | None = None) -> np.ndarray:
    """``(b, 4)`` KL values [c=0 A‖B, c=0 B‖A, c=1 A‖B, c=1 B‖A] for ``(b, n)`` rows
    (or ``(1, n)`` rows with ``(b, n)`` multiplicities ``w``)."""
    out = []
    if w is not None:
        s = np.broadcast_to(s, w.shape)
    b = s.shape[0]
    for c in (0, 1):  # 2 classes × 2 groups: a fixed, tiny loop
        dists = []
        for grp in (0, 1):
            m = (y == bool(c)) & (g == bool(grp))
            if w is not None:
                m = m & (w > 0)
            if variant == "reference":
                lo = np.where(m, s, np.inf).min(axis=-1)
                hi = np.where(m, s, -np.inf).max(axis=-1)
                empty = ~m.any(axis=-1)
                lo, hi = np.where(empty, 0.0, lo), np.where(empty, 1.0, hi)
                h = _hist_batch(s, m, lo, hi, w)  # int counts → integer (truncated) smoothing
                h = gaussian_filter1d(h, 1.0, axis=-1, mode="reflect")
            else:
                h = _hist_batch(s, m, np.zeros(b), np.ones(b), w).astype(float)
                h = gaussian_filter1d(h, 1.0, axis=-1, mode="reflect")
                empty = ~m.any(axis=-1)
            tot = h.sum(axis=-1, keepdims=True)
            p = _div(h, tot) + EPS
            p[(empty | (tot[:, 0] == 0))] = np.nan
            dists.append(p)
        pa, pb = dists
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append((pa * np.log(pa / pb)).sum(-1))
            out.append((pb * np.log(pb / pa)).sum(-1))
    return np.stack(out, axis=-1)


def kl_divergence(y_score: Any, y_true: Any, protected: Any,
                  variant: Literal["reference", "fixed"] = "reference") -> np.ndarray:
    """KL divergences between the protected groups' score distributions, per class.

    Returns 4 values: ``[KL(A‖B), KL(B‖A)]`` for class 0 then class 1, where A, B are
    the scores of g = 0 and g = 1. ``variant="reference"``: 50-bin histograms over each
    group's own [min, max], integer Gaussian smoothing (σ = 1). ``"fixed"``: shared
    [0, 1] edges, float smoothing. Empty groups give NaN.
    """
    if variant not in ("reference", "fixed"):
        raise BiasLensError(f"unknown KL variant {variant!r}; valid: reference, fixed")
    y = as_binary(y_true, "y_true")
    g = as_binary(protected, "protected")
    s = _scores(y_score, y.shape[0])
    return _kl_batch(s[None], y[None], g[None], variant)[0]


# ---------------------------------------------------------------------------------------
# The bootstrap report (§4.7: 500 resamples, median, ± 2·std)
# ---------------------------------------------------------------------------------------


@dataclass
class RamaswamyReport:
    """Bootstrap medians and ±2·std of AP, DEO, BA (×100) and KL (unscaled)."""

    ap: float
    ap_pm: float
    deo: float
    deo_pm: float
    ba: float
    ba_pm: float
    kl: float
    kl_pm: float
    n_boot: int
    seed: int | None
    kl_variant: str
    point: dict[str, float] = field(default_factory=dict)
    #: what the bootstrap resampled (:func:`biaslens.stats.resample_unit`)
    resampling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _median_pm(x: np.ndarray) -> tuple[float, float]:
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    return float(np.median(x)), float(2 * np.std(x))


def ramaswamy_metrics(y_true: Any, y_pred: Any, y_score: Any, protected: Any, *,
                      n_boot: int = 500, seed: int | None = 0,
                      kl_variant: Literal["reference", "fixed"] = "reference",
                      chunk: int = 32, clusters: Clusters | Any = None) -> RamaswamyReport:
    """AP, DEO, BA and KL with the paper's bootstrap (median, ±2·std over ``n_boot``).

    ``y_pred`` should come from :func:`calibrated_threshold` fitted on validation scores.
    KL pools the 4 values (2 classes × 2 directions) of every resample before the median.
    ``clusters`` (the person in each row, or a :class:`biaslens.stats.Clusters`):
    resample people instead of rows.
    """
    y, yh, g = _three(y_true, y_pred, protected)
    s = _scores(y_score, y.shape[0])
    if kl_variant not in ("reference", "fixed"):
        raise BiasLensError(f"unknown KL variant {kl_variant!r}; valid: reference, fixed")
    point = {
        "ap": float(100 * _ap_batch(y[None], s[None])[0]),
        "deo": float(_deo_from_table(_table(g, y, yh))[0]),
        "ba": float(_ba_from_table(_table(g, y, yh))[0]),
        "kl": float(nanmean(_kl_batch(s[None], y[None], g[None], kl_variant).ravel())),
    }
    rng = np.random.default_rng(seed)
    n = y.shape[0]
    clusters = as_clusters(clusters, n)
    cell = g.view(np.uint8) * 4 + y.view(np.uint8) * 2 + yh.view(np.uint8)
    ap, de, ba, kl = [], [], [], []
    for start in range(0, n_boot, chunk):  # chunks bound memory; each is vectorized
        b = min(chunk, n_boot - start)
        if clusters is not None:
            w = clusters.row_weights(clusters.unit_weights(rng, b))   # (b, n) multiplicities
            ap.append(100 * _ap_weighted(y, s, w))
            t = row_bincount(np.broadcast_to(cell, w.shape), 8, weights=w).reshape(-1, 2, 2, 2)
            kl.append(_kl_batch(s[None], y[None], g[None], kl_variant, w).ravel())
        else:
            idx = rng.integers(0, n, size=(b, n))
            ap.append(100 * _ap_batch(y[idx], s[idx]))
            t = _table(g, y, yh, idx)
            kl.append(_kl_batch(s[idx], y[idx], g[idx], kl_variant).ravel())
        de.append(_deo_from_table(t))
        ba.append(_ba_from_table(t))
    cat = [np.concatenate(v) if v else np.empty(0) for v in (ap, de, ba, kl)]
    (ap_m, ap_pm), (de_m, de_pm), (ba_m, ba_pm), (kl_m, kl_pm) = map(_median_pm, cat)
    if n_boot == 0:   # no resamples: the point values, without a spread
        nan = float("nan")
        (ap_m, ap_pm), (de_m, de_pm), (ba_m, ba_pm), (kl_m, kl_pm) = (
            (point[k], nan) for k in ("ap", "deo", "ba", "kl"))
    return RamaswamyReport(ap_m, ap_pm, de_m, de_pm, ba_m, ba_pm, kl_m, kl_pm,
                           n_boot, seed, kl_variant, point, resample_unit(n, clusters))


# ---------------------------------------------------------------------------------------
# Directional bias amplification (Wang & Russakovsky, ICML 2021)
# ---------------------------------------------------------------------------------------


def _dba_batch(a: np.ndarray, t: np.ndarray, pred: np.ndarray, direction: str) -> np.ndarray:
    """Batch form: ``a`` (b, n, |A|), ``t`` (b, n, |T|), ``pred`` like t (A→T) or a (T→A)."""
    af, tf, pf = a.astype(float), t.astype(float), pred.astype(float)
    n = a.shape[-2]
    p_a = af.mean(axis=-2)  # (b, A)
    p_t = tf.mean(axis=-2)  # (b, T)
    p_at = np.einsum("bna,bnt->bat", af, tf) / n
    y_at = p_at > p_a[..., :, None] * p_t[..., None, :]  # (b, A, T)
    if direction == "A->T":  # Δ = P(t̂ | a) − P(t | a)
        n_a = af.sum(axis=-2)[..., :, None]
        delta = _div(np.einsum("bna,bnt->bat", af, pf) - p_at * n, n_a)
    else:  # Δ = P(â | t) − P(a | t)
        n_t = tf.sum(axis=-2)[..., None, :]
        delta = _div(np.einsum("bna,bnt->bat", pf, tf) - p_at * n, n_t)
    terms = np.where(y_at, delta, -delta).reshape(a.shape[0], -1)
    return nanmean(terms, axis=-1)


def _dba_weighted(a: np.ndarray, t: np.ndarray, pred: np.ndarray, direction: str,
                  w: np.ndarray) -> np.ndarray:
    """:func:`_dba_batch` of ``(n, ·)`` data with ``(b, n)`` row multiplicities ``w``."""
    af, tf, pf = a.astype(float), t.astype(float), pred.astype(float)
    n_w = w.sum(axis=-1)[:, None]  # (b, 1) rows in each resample
    n_a, n_t = w @ af, w @ tf  # (b, A), (b, T) weighted counts
    p_a, p_t = n_a / n_w, n_t / n_w
    c_at = np.einsum("bn,na,nt->bat", w, af, tf)  # (b, A, T) co-occurrence counts
    y_at = c_at / n_w[..., None] > p_a[..., :, None] * p_t[..., None, :]
    if direction == "A->T":
        delta = _div(np.einsum("bn,na,nt->bat", w, af, pf) - c_at, n_a[..., :, None])
    else:
        delta = _div(np.einsum("bn,na,nt->bat", w, pf, tf) - c_at, n_t[..., None, :])
    terms = np.where(y_at, delta, -delta).reshape(w.shape[0], -1)
    return nanmean(terms, axis=-1)


@dataclass
class DirectionalBAResult:
    """Directional bias amplification and its bootstrap percentile CI."""

    direction: str
    value: float
    ci: tuple[float, float]
    n_boot: int
    seed: int | None
    resampling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "value": self.value, "ci": list(self.ci),
                "n_boot": self.n_boot, "seed": self.seed, "resampling": dict(self.resampling)}


def directional_bias_amplification(attributes: Any, tasks: Any, predictions: Any, *,
                                   direction: Literal["A->T", "T->A"] = "A->T",
                                   n_boot: int = 0, ci_level: float = 0.95,
                                   seed: int | None = 0, clusters: Clusters | Any = None
                                   ) -> DirectionalBAResult:
    """BiasAmp→ of Wang & Russakovsky (2021), both directions, multi-attribute.

    ``BiasAmp = 1/(|A||T|) Σ_{a,t} y_at Δ_at + (1 − y_at)(−Δ_at)`` with
    ``y_at = 1[P(a, t) > P(a) P(t)]`` and ``Δ_at = P(t̂|a) − P(t|a)`` (A→T, ``predictions``
    are task predictions) or ``P(â|t) − P(a|t)`` (T→A, ``predictions`` are attribute
    predictions). Inputs are binary ``(n, |A|)`` / ``(n, |T|)`` (1-d = one column).
    Conditioning on an empty a (or t) gives NaN for that pair, skipped by the mean.
    ``clusters`` (the person in each row): the bootstrap resamples people.
    """
    if direction not in ("A->T", "T->A"):
        raise BiasLensError(f"unknown direction {direction!r}; valid: A->T, T->A")
    a, t, p = (_binary_2d(x, nm) for x, nm in
               ((attributes, "attributes"), (tasks, "tasks"), (predictions, "predictions")))
    n = a.shape[0]
    if t.shape[0] != n or p.shape[0] != n:
        raise DataError("attributes, tasks and predictions need the same number of rows",
                        field="predictions")
    ref = t if direction == "A->T" else a
    if p.shape != ref.shape:
        raise DataError(f"predictions must have shape {ref.shape} for {direction}, "
                        f"got {p.shape}", field="predictions")
    value = float(_dba_batch(a[None], t[None], p[None], direction)[0])
    clusters = as_clusters(clusters, n)
    ci = (float("nan"), float("nan"))
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        samples = []
        for start in range(0, n_boot, 32):
            b = min(32, n_boot - start)
            if clusters is not None:
                w = clusters.row_weights(clusters.unit_weights(rng, b))
                samples.append(_dba_weighted(a, t, p, direction, w))
                continue
            idx = rng.integers(0, n, size=(b, n))
            samples.append(_dba_batch(a[idx], t[idx], p[idx], direction))
        lo, hi = _quantiles(np.concatenate(samples), ci_level)
        ci = (float(lo), float(hi))
    return DirectionalBAResult(direction, value, ci, n_boot, seed, resample_unit(n, clusters))


def _binary_2d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"expected (n, k) binary labels, got shape {arr.shape}", field=name)
    return as_binary(arr.reshape(-1), name).reshape(arr.shape)
