"""One disaggregation container for binary-classifier metrics (a MetricFrame, vectorized).

Every group metric of a binary classifier (selection rate, TPR, FPR, accuracy, count, ...)
is a function of the per-group 2×2 confusion table, so :class:`GroupFrame` computes that
table once with a single ``np.bincount`` over ``group * 4 + y_true * 2 + y_pred`` and
derives everything from it. The same vectorized code runs on a stack of bootstrap
tables ``(n_boot, G, 2, 2)``, which is how the ``*_ci`` views are computed.

Definitions follow fairlearn's ``MetricFrame`` exactly (see ``docs/fairness.md``):
a group without positives has TPR = 0 (sklearn's row-normalised confusion matrix), a
``between_groups`` difference is ``max - min``, a ratio is ``min / max``, ``to_overall``
compares each group with the overall value and folds ratios to ≤ 1, NaNs are skipped.

Pure compute: no I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from biaslens.errors import BiasLensError, DataError, UnknownNameError
from biaslens.stats import Clusters, as_clusters, resample_unit, row_bincount

__all__ = [
    "BINOMIAL_RATES",
    "GROUP_METRICS",
    "GroupFrame",
    "GroupEncoding",
    "as_binary",
    "encode_groups",
]

Method = Literal["between_groups", "to_overall"]
_METHODS = ("between_groups", "to_overall")

# ---------------------------------------------------------------------------------------
# Input validation and group encoding
# ---------------------------------------------------------------------------------------


def as_binary(values: Any, name: str) -> np.ndarray:
    """Return ``values`` (labels in {0, 1}, {-1, 1} or bool) as a bool array (True = 1).

    fairlearn treats 1 as the positive label for both encodings; anything else is an
    error that names the field, never a silent cast.
    """
    y = np.asarray(values)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise DataError(f"expected a 1-d array of binary labels, got shape {y.shape}", field=name)
    if y.dtype == bool:
        return y
    if y.dtype.kind not in "iuf":
        raise DataError(f"labels must be numeric 0/1 (or -1/1), got dtype {y.dtype}", field=name)
    is_one = y == 1
    ok01 = is_one | (y == 0)
    if ok01.all():
        return is_one
    ok11 = is_one | (y == -1)
    if ok11.all():
        return is_one
    bad = np.flatnonzero(~(ok01 | ok11))
    first = bad[0] if bad.size else np.flatnonzero(~ok01)[0]
    raise DataError(f"labels must be 0/1 or -1/1; row {int(first)} has {y[first]!r}", field=name)


class GroupEncoding:
    """Integer group codes for one or more sensitive features.

    Attributes
    ----------
    codes : (n,) int64 array, the group index of every row.
    values : list of tuples, the feature values of each group (sorted lexicographically,
        which is fairlearn's ``by_group`` order).
    names : the feature names.
    labels : ``"name=value|name=value"`` strings, one per group.
    """

    def __init__(self, codes: np.ndarray, values: list[tuple], names: list[str]):
        self.codes = codes
        self.values = values
        self.names = names
        self.labels = ["|".join(f"{n}={_fmt(v)}" for n, v in zip(names, row)) for row in values]

    @property
    def n_groups(self) -> int:
        return len(self.values)


def _fmt(v: Any) -> str:
    return str(v.item() if isinstance(v, np.generic) else v)


def _is_missing(v: Any) -> bool:
    """None, a float NaN, or pandas' NA/NaT (whose comparisons are not booleans)."""
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isnan(v))
    return type(v).__name__ in ("NAType", "NaTType")


def _check_present(col: np.ndarray, name: str) -> None:
    """Raise :class:`DataError` naming the first row whose group label is missing.

    fairlearn refuses such columns too ("contains missing values"): a row without a group
    cannot be assigned to one, and dropping it silently would change every rate.
    """
    if col.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(col))
    elif col.dtype.kind == "O":
        bad = np.flatnonzero([_is_missing(v) for v in col])
    else:
        return
    if bad.size:
        value = "NaN" if col.dtype.kind == "f" else repr(col[bad[0]])
        more = f" and {bad.size - 1} more row(s)" if bad.size > 1 else ""
        raise DataError(f"missing group label ({value}) in row {int(bad[0])}{more}",
                        field=name)


def _column_codes(col: np.ndarray, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """``(uniques, inverse)`` like ``np.unique(col, return_inverse=True)``.

    Integer/bool columns with a small range take an O(n) bincount path instead of a sort
    (same result, ~10× faster on 10M rows). Values that cannot be ordered (``1`` and
    ``"a"`` in one column) are a :class:`DataError` naming the column.
    """
    if col.dtype == bool:
        col = col.view(np.uint8)
        present = np.bincount(col, minlength=2) > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(bool), remap[col]
    if col.dtype.kind in "iu" and col.size:
        lo, hi = int(col.min()), int(col.max())
        if hi - lo < 1 << 20:
            shifted = (col - lo).astype(np.intp, copy=False)
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            remap = np.cumsum(present) - 1
            return (np.flatnonzero(present) + lo).astype(col.dtype), remap[shifted]
    try:
        uniq, inv = np.unique(col, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in col})
        raise DataError(f"mixes values that cannot be sorted into groups ({', '.join(kinds)}); "
                        "use one type per column", field=name) from None
    return uniq, inv.reshape(-1)


def encode_groups(sensitive_features: Any, n: int | None = None) -> GroupEncoding:
    """Encode sensitive features as group codes; several columns → their intersections.

    Parameters
    ----------
    sensitive_features : 1-d array-like, 2-d array ``(n, k)``, a mapping ``{name: array}``,
        a pandas Series (its ``name`` is used) or DataFrame (its columns are used).
    n : expected number of rows (checked when given).
    """
    if isinstance(sensitive_features, Mapping):
        names = [str(k) for k in sensitive_features]
        cols = [np.asarray(v) for v in sensitive_features.values()]
    elif hasattr(sensitive_features, "columns"):  # pandas DataFrame, duck-typed
        names = [str(c) for c in sensitive_features.columns]
        cols = [np.asarray(sensitive_features[c]) for c in sensitive_features.columns]
    else:
        arr = np.asarray(sensitive_features)
        name = getattr(sensitive_features, "name", None)
        if arr.ndim == 1:
            names, cols = [str(name) if name is not None else "sensitive_feature_0"], [arr]
        elif arr.ndim == 2:
            names = [f"sensitive_feature_{j}" for j in range(arr.shape[1])]
            cols = [arr[:, j] for j in range(arr.shape[1])]
        else:
            raise DataError(f"sensitive_features must be 1-d or 2-d, got shape {arr.shape}",
                            field="sensitive_features")
    if not cols:
        raise DataError("no sensitive feature given", field="sensitive_features")
    for name, col in zip(names, cols):
        if col.ndim != 1:
            raise DataError(f"expected a 1-d column, got shape {col.shape}", field=name)
        if n is not None and col.shape[0] != n:
            raise DataError(f"has {col.shape[0]} rows, expected {n}", field=name)
        _check_present(col, name)
    uniques, codes = zip(*(_column_codes(c, name) for c in cols))
    # Mixed-radix combination: row-major, so code order = lexicographic order of rows.
    sizes = [len(u) for u in uniques]
    combined = np.zeros(cols[0].shape[0], dtype=np.int64)
    for size, code in zip(sizes, codes):
        combined = combined * size + code
    total = int(np.prod(sizes, dtype=np.float64))
    if total <= max(1 << 22, 4 * combined.size):
        present = np.bincount(combined, minlength=total) > 0
        keys = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        group_codes = remap[combined]
    else:  # huge product space: sort instead
        keys, group_codes = np.unique(combined, return_inverse=True)
        group_codes = group_codes.reshape(-1)
    # Decode each observed key back into its per-column values.
    digits = []
    rest = keys.copy()
    for size in reversed(sizes):
        digits.append(rest % size)
        rest //= size
    digits.reverse()
    values = [tuple(u[d[g]] for u, d in zip(uniques, digits)) for g in range(len(keys))]
    return GroupEncoding(group_codes.astype(np.int64, copy=False), values, names)


# ---------------------------------------------------------------------------------------
# Metrics as functions of confusion tables
# ---------------------------------------------------------------------------------------
# conf: (..., G, 2, 2) weighted sums indexed [y_true, y_pred]; cnt: (..., G) row counts.


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _row_rate(conf: np.ndarray, row: int, col: int) -> np.ndarray:
    """sklearn ``confusion_matrix(normalize='true')`` entry: 0 where the row is empty.

    Groups absent from a (bootstrap) sample get NaN, as they would have no row at all.
    """
    den = conf[..., row, 0] + conf[..., row, 1]
    total = conf.sum(axis=(-2, -1))
    rate = _div(conf[..., row, col], den)
    return np.where(den > 0, rate, np.where(total > 0, 0.0, np.nan))


def _selection_rate(conf, cnt):
    return _div(conf[..., 0, 1] + conf[..., 1, 1], conf.sum(axis=(-2, -1)))


def _accuracy(conf, cnt):
    return _div(conf[..., 0, 0] + conf[..., 1, 1], conf.sum(axis=(-2, -1)))


def _count(conf, cnt):
    return np.where(cnt > 0, cnt.astype(float), np.nan)


#: Registry of group metrics: name → f(conf (..., G, 2, 2), counts (..., G)) → (..., G).
GROUP_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "selection_rate": _selection_rate,
    "true_positive_rate": lambda c, n: _row_rate(c, 1, 1),
    "false_positive_rate": lambda c, n: _row_rate(c, 0, 1),
    "true_negative_rate": lambda c, n: _row_rate(c, 0, 0),
    "false_negative_rate": lambda c, n: _row_rate(c, 1, 0),
    "accuracy": _accuracy,
    "count": _count,
}

#: The metrics that are a share of rows, as ``(successes, trials)`` of the (G, 2, 2) tables
#: (``[true, predicted]``), for their Wilson intervals.
BINOMIAL_RATES: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "selection_rate": lambda c: (c[:, 0, 1] + c[:, 1, 1], c.sum(axis=(1, 2))),
    "true_positive_rate": lambda c: (c[:, 1, 1], c[:, 1].sum(axis=1)),
    "false_positive_rate": lambda c: (c[:, 0, 1], c[:, 0].sum(axis=1)),
    "true_negative_rate": lambda c: (c[:, 0, 0], c[:, 0].sum(axis=1)),
    "false_negative_rate": lambda c: (c[:, 1, 0], c[:, 1].sum(axis=1)),
    "accuracy": lambda c: (c[:, 0, 0] + c[:, 1, 1], c.sum(axis=(1, 2))),
}

DEFAULT_METRICS: tuple[str, ...] = (
    "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "count",
)


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    out = []
    for m in metrics:
        if m not in GROUP_METRICS:
            raise UnknownNameError(
                f"unknown group metric {m!r}. Valid names: {', '.join(GROUP_METRICS)}")
        out.append(m)
    return out


# ---------------------------------------------------------------------------------------
# Aggregations over the group axis (last axis), NaN-skipping like pandas
# ---------------------------------------------------------------------------------------


def _nanreduce(x: np.ndarray, fn: Callable, axis: int = -1) -> np.ndarray:
    """``np.nanmin``/``np.nanmax`` without the all-NaN warning (all-NaN → NaN, as pandas)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(x, axis=axis)


def nanmean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean skipping NaNs; all-NaN → NaN without a warning (pandas ``mean``)."""
    ok = ~np.isnan(x)
    return _div(np.where(ok, x, 0.0).sum(axis=axis), ok.sum(axis=axis))


def _difference(by: np.ndarray, overall: np.ndarray, method: str) -> np.ndarray:
    if method == "between_groups":
        return _nanreduce(by, np.nanmax) - _nanreduce(by, np.nanmin)
    if method == "to_overall":
        return _nanreduce(np.abs(by - overall[..., None]), np.nanmax)
    raise BiasLensError(f"unknown method {method!r}; valid: {', '.join(_METHODS)}")


def _ratio(by: np.ndarray, overall: np.ndarray, method: str) -> np.ndarray:
    if method == "between_groups":
        return _div(_nanreduce(by, np.nanmin), _nanreduce(by, np.nanmax))
    if method == "to_overall":
        r = _div(by, overall[..., None])
        with np.errstate(divide="ignore", invalid="ignore"):
            folded = np.where(r > 1, 1.0 / r, r)  # fairlearn's ratio_sub_one; NaN stays NaN
        return _nanreduce(folded, np.nanmin)
    raise BiasLensError(f"unknown method {method!r}; valid: {', '.join(_METHODS)}")


def _quantiles(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN resamples (all-NaN → NaN)."""
    alpha = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(samples, [alpha, 1 - alpha], axis=0)
    return lo, hi


# ---------------------------------------------------------------------------------------
# The container
# ---------------------------------------------------------------------------------------


class GroupFrame:
    """Group-wise binary-classifier metrics with fairlearn ``MetricFrame`` semantics.

    Parameters
    ----------
    y_true, y_pred : binary labels (0/1, -1/1 or bool), shape (n,).
    sensitive_features : see :func:`encode_groups`; several columns → intersections.
    metrics : names from :data:`GROUP_METRICS`.
    sample_weight : optional non-negative weights, shape (n,).
    n_boot : bootstrap resamples for the ``*_ci`` views (0 = none).
    ci_level : coverage of the percentile intervals.
    seed : bootstrap seed.
    clusters : the cluster (e.g. the person) of every row, or a
        :class:`biaslens.stats.Clusters`: the bootstrap then resamples whole clusters
        (photos of one person are not independent); :attr:`resampling` says which.

    Examples
    --------
    >>> f = GroupFrame([1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=["a", "a", "b", "b"])
    >>> f.by_group["true_positive_rate"].tolist()
    [1.0, 0.5]
    >>> f.difference()["true_positive_rate"]
    0.5
    """

    def __init__(self, y_true: Any, y_pred: Any, *, sensitive_features: Any,
                 metrics: Sequence[str] = DEFAULT_METRICS, sample_weight: Any = None,
                 n_boot: int = 0, ci_level: float = 0.95, seed: int | None = 0,
                 clusters: Clusters | Any = None):
        yt = as_binary(y_true, "y_true")
        yp = as_binary(y_pred, "y_pred")
        n = yt.shape[0]
        if yp.shape[0] != n:
            raise DataError(f"has {yp.shape[0]} rows, y_true has {n}", field="y_pred")
        if n == 0:
            raise DataError("no rows", field="y_true")
        self.metrics = _check_metrics(metrics)
        self.clusters = as_clusters(clusters, n)
        #: what the bootstrap resamples: images, or identities (with their count)
        self.resampling = resample_unit(n, self.clusters)
        self.encoding = encode_groups(sensitive_features, n)
        G = self.encoding.n_groups
        # cell = group * 4 + y_true * 2 + y_pred, one bincount for the whole table
        cell = self.encoding.codes * 4 + yt.view(np.uint8) * 2 + yp.view(np.uint8)
        self._cell = cell
        counts = np.bincount(cell, minlength=4 * G).reshape(G, 2, 2)
        if sample_weight is None:
            w = None
            conf = counts.astype(float)
        else:
            w = np.asarray(sample_weight, dtype=float).reshape(-1)
            if w.shape[0] != n:
                raise DataError(f"has {w.shape[0]} rows, expected {n}", field="sample_weight")
            if not np.isfinite(w).all() or (w < 0).any():
                raise DataError("weights must be finite and non-negative", field="sample_weight")
            conf = np.bincount(cell, weights=w, minlength=4 * G).reshape(G, 2, 2)
        self._w = w
        self.conf = conf  # (G, 2, 2) weighted confusion tables
        self.counts = counts.sum(axis=(-2, -1))  # (G,) row counts
        self.positives = counts[:, 1].sum(axis=1)  # (G,) rows with y_true 1 (unweighted)
        self.negatives = counts[:, 0].sum(axis=1)  # (G,) rows with y_true 0
        self.n_boot = int(n_boot)
        self.ci_level = ci_level
        self.seed = seed
        self._boot: tuple[np.ndarray, np.ndarray] | None = None
        self._by_group = self._eval_by_group(self.conf, self.counts)
        self._overall = self._eval_overall(self.conf, self.counts)

    # -- evaluation on (…, G, 2, 2) tables ---------------------------------------------
    def _eval_by_group(self, conf: np.ndarray, cnt: np.ndarray) -> dict[str, np.ndarray]:
        return {m: GROUP_METRICS[m](conf, cnt) for m in self.metrics}

    def _eval_overall(self, conf: np.ndarray, cnt: np.ndarray) -> dict[str, np.ndarray]:
        c = conf.sum(axis=-3, keepdims=True)
        k = cnt.sum(axis=-1, keepdims=True)
        return {m: GROUP_METRICS[m](c, k)[..., 0] for m in self.metrics}

    # -- point estimates -----------------------------------------------------------------
    @property
    def groups(self) -> list[str]:
        """Group labels (``"name=value|name=value"``), aligned with :attr:`by_group`."""
        return self.encoding.labels

    @property
    def overall(self) -> dict[str, float]:
        """Each metric over all rows."""
        return {m: float(v) for m, v in self._overall.items()}

    @property
    def by_group(self) -> dict[str, np.ndarray]:
        """Each metric per group, shape (G,)."""
        return {m: v.copy() for m, v in self._by_group.items()}

    def group_min(self) -> dict[str, float]:
        """Smallest group value of each metric (NaN groups skipped)."""
        return {m: float(_nanreduce(v, np.nanmin)) for m, v in self._by_group.items()}

    def group_max(self) -> dict[str, float]:
        """Largest group value of each metric (NaN groups skipped)."""
        return {m: float(_nanreduce(v, np.nanmax)) for m, v in self._by_group.items()}

    def difference(self, method: Method = "between_groups") -> dict[str, float]:
        """Largest difference: ``max - min`` or ``max |r_a - r_overall|``."""
        return {m: float(_difference(v, self._overall[m], method))
                for m, v in self._by_group.items()}

    def ratio(self, method: Method = "between_groups") -> dict[str, float]:
        """Smallest ratio: ``min / max`` or ``min_a fold(r_a / r_overall)`` (≤ 1)."""
        return {m: float(_ratio(v, self._overall[m], method)) for m, v in self._by_group.items()}

    # -- bootstrap -------------------------------------------------------------------------
    def bootstrap_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Bootstrap confusion tables ``(n_boot, G, 2, 2)`` and counts ``(n_boot, G)``.

        Unweighted data: a resample of n rows is a multinomial draw of the n cell counts
        (exactly equivalent and O(cells) per resample). Weighted data: rows are resampled
        via :func:`biaslens.stats.bootstrap_ci`-style index draws and one offset bincount.
        """
        if self.n_boot <= 0:
            raise BiasLensError("this GroupFrame was built with n_boot=0; pass n_boot > 0 "
                                "for confidence intervals")
        if self._boot is None:
            self._boot = _bootstrap_tables(self._cell, self._w, self.conf.shape[0],
                                           self.n_boot, self.seed, clusters=self.clusters)
        return self._boot

    def _boot_eval(self):
        conf, cnt = self.bootstrap_tables()
        return self._eval_by_group(conf, cnt), self._eval_overall(conf, cnt)

    def overall_ci(self) -> dict[str, tuple[float, float]]:
        """CI of each overall metric: Wilson for the :data:`BINOMIAL_RATES` on unweighted,
        unclustered rows (as :meth:`by_group_ci`), the percentile bootstrap otherwise."""
        _, ov = self._boot_eval()
        out = {m: tuple(float(x) for x in _quantiles(v, self.ci_level)) for m, v in ov.items()}
        for m, (lo, hi) in self._wilson(self.conf.sum(axis=0, keepdims=True)).items():
            out[m] = (float(lo[0]), float(hi[0]))
        return out

    def _wilson(self, conf: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Wilson intervals of the :data:`BINOMIAL_RATES` among this frame's metrics for
        the (G, 2, 2) tables ``conf``; none for weighted or clustered rows."""
        from biaslens.stats import wilson_ci

        if self._w is not None or self.clusters is not None:
            return {}
        return {m: wilson_ci(*BINOMIAL_RATES[m](conf), self.ci_level)
                for m in self.metrics if m in BINOMIAL_RATES}

    def by_group_ci(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """CI per group: ``(lo (G,), hi (G,))`` for each metric.

        The rates of :data:`BINOMIAL_RATES` on unweighted, unclustered rows get the Wilson
        score interval of their counts (as in :meth:`overall_ci`): a percentile bootstrap
        of a rate of 0 or 1 (a small group whose every positive is found) collapses to
        ``[1, 1]``, which reads as certainty. Everything else (counts, weighted or
        clustered rows) is the percentile bootstrap.
        """
        by, _ = self._boot_eval()
        return {m: _quantiles(v, self.ci_level) for m, v in by.items()} | self._wilson(self.conf)

    def group_min_ci(self) -> dict[str, tuple[float, float]]:
        by, _ = self._boot_eval()
        return {m: _ci_tuple(_nanreduce(v, np.nanmin), self.ci_level) for m, v in by.items()}

    def group_max_ci(self) -> dict[str, tuple[float, float]]:
        by, _ = self._boot_eval()
        return {m: _ci_tuple(_nanreduce(v, np.nanmax), self.ci_level) for m, v in by.items()}

    def difference_ci(self, method: Method = "between_groups") -> dict[str, tuple[float, float]]:
        by, ov = self._boot_eval()
        return {m: _ci_tuple(_difference(v, ov[m], method), self.ci_level)
                for m, v in by.items()}

    def ratio_ci(self, method: Method = "between_groups") -> dict[str, tuple[float, float]]:
        by, ov = self._boot_eval()
        return {m: _ci_tuple(_ratio(v, ov[m], method), self.ci_level) for m, v in by.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (point estimates; CIs when ``n_boot > 0``)."""
        out: dict[str, Any] = {
            "groups": self.groups,
            "feature_names": self.encoding.names,
            "overall": self.overall,
            "by_group": {m: v.tolist() for m, v in self._by_group.items()},
            "difference": {k: self.difference(k) for k in _METHODS},
            "ratio": {k: self.ratio(k) for k in _METHODS},
        }
        if self.n_boot > 0:
            out["ci_level"] = self.ci_level
            out["n_boot"] = self.n_boot
            out["resampling"] = dict(self.resampling)
            out["overall_ci"] = {m: list(v) for m, v in self.overall_ci().items()}
            out["by_group_ci"] = {m: [lo.tolist(), hi.tolist()]
                                  for m, (lo, hi) in self.by_group_ci().items()}
        return out


def _ci_tuple(samples: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = _quantiles(samples, level)
    return float(lo), float(hi)


def _bootstrap_tables(cell: np.ndarray, w: np.ndarray | None, G: int, n_boot: int,
                      seed: int | None, chunk: int = 64, clusters: Clusters | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Resampled confusion tables; see :meth:`GroupFrame.bootstrap_tables`.

    With ``clusters``: each cluster's own (weighted) cell counts, a sparse ``(C, K)``
    table, and per resample the clusters' multiplicities ``(b, C)`` times that table.
    The draws are the weighted-row path's, so with one row per cluster both agree.
    """
    rng = np.random.default_rng(seed)
    K = 4 * G
    n = cell.shape[0]
    if clusters is not None:
        from scipy import sparse

        C = clusters.n_clusters
        shape = (C, K)
        table_w = sparse.csr_matrix((np.ones(n) if w is None else w,
                                     (clusters.codes, cell)), shape=shape)
        table_n = sparse.csr_matrix((np.ones(n), (clusters.codes, cell)), shape=shape)
        conf = np.empty((n_boot, K))
        cnt = np.empty((n_boot, K))
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            mult = clusters.unit_weights(rng, b)                  # (b, C)
            conf[start:start + b] = (table_w.T @ mult.T).T
            cnt[start:start + b] = (table_n.T @ mult.T).T
        return conf.reshape(n_boot, G, 2, 2), cnt.reshape(n_boot, G, 2, 2).sum(axis=(-2, -1))
    if w is None:
        p = np.bincount(cell, minlength=K) / n
        counts = rng.multinomial(n, p, size=n_boot).reshape(n_boot, G, 2, 2)
        return counts.astype(float), counts.sum(axis=(-2, -1))
    conf = np.empty((n_boot, K))
    cnt = np.empty((n_boot, K))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        cells = cell[idx]
        conf[start:start + b] = row_bincount(cells, K, weights=w[idx])
        cnt[start:start + b] = row_bincount(cells, K)
    return conf.reshape(n_boot, G, 2, 2), cnt.reshape(n_boot, G, 2, 2).sum(axis=(-2, -1))
