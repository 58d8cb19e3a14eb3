"""Dataset bias statistics: prevalence, attribute correlations, intersectional groups.

The first audit: *is the data biased?* Everything here is pure numpy on an ``(N, A)``
bool attribute matrix (plus optional integer group columns); no file reads, no
printing. Rendering lives in :mod:`biaslens.report.tables`, the CLI in
:mod:`biaslens.cli.data_stats`.

Formulas (``X`` the bool matrix as floats, ``c = X.sum(0)`` the positive counts,
``C = X.T @ X`` the co-occurrence counts):

- prevalence ``p_j = c_j / N`` with a Wilson score interval;
- covariance (``ddof=1``) ``S = (C - c c^T / N) / (N - 1)``, the same as ``np.cov``;
- phi coefficient ``phi_ij = S_ij / sqrt(S_ii S_jj)`` (Pearson's r of two binary
  columns, the same as ``np.corrcoef``). A constant column has zero variance, so its
  phi is **NaN** (undefined), never a crash; ranking puts NaN last.

Identities: CelebA holds about 30 photos per person, and photos of one person are not
independent. With ``clusters`` (the person in each row) every interval resamples people:
the top correlations' bootstrap, and the prevalence, group-share and group-rate intervals
(a cluster bootstrap of the ratio estimators, percentile; Wilson intervals assume
independent rows and are used only without identities). ``DatasetStats.resampling``
says which unit was resampled.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biaslens.errors import BiasLensError, DataError
from biaslens.io import json_float, json_floats
from biaslens.names import canonical_name, display_name, resolve_attribute
from biaslens.stats import (Clusters, as_clusters, bootstrap_ci,
                            resample_unit, wilson_ci)

__all__ = [
    "CorrelatedAttribute",
    "DatasetStats",
    "IntersectionalGroup",
    "correlation_matrices",
    "dataset_stats",
    "intersectional_groups",
    "top_correlated",
]


def _as_bool_matrix(attrs: np.ndarray, attribute_names: Sequence[str]) -> np.ndarray:
    """Validate ``attrs`` as an (N, A) matrix of 0/1 values and return it as bool."""
    a = np.asarray(attrs)
    if a.ndim != 2:
        raise DataError(f"attributes must be a 2-D (N, A) array, got shape {a.shape}",
                        field="attrs")
    if a.shape[1] != len(attribute_names):
        raise DataError(f"attributes have {a.shape[1]} columns but {len(attribute_names)} "
                        "attribute names were given", field="attribute_names")
    if a.dtype != bool:
        bad = ~np.isin(a, (0, 1))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DataError(f"attribute values must be 0/1 or bool, got {a[row, col]!r} "
                            f"at row {row}", field=attribute_names[col])
        a = a.astype(bool)
    return a


# --------------------------------------------------------------------------- matrices


def correlation_matrices(attrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Phi correlation and covariance (``ddof=1``) of all attribute pairs at once.

    Computed from the co-occurrence counts ``X.T @ X`` (one matrix product, no loop over
    pairs). Rows/columns of constant attributes are NaN in ``phi``.

    Parameters
    ----------
    attrs : (N, A) bool array

    Returns
    -------
    phi, cov : (A, A) float arrays
    """
    x = np.asarray(attrs, dtype=np.float64)               # (N, A)
    n = x.shape[0]
    counts = x.sum(axis=0)                                 # (A,)
    co = x.T @ x                                           # (A, A) exact integer counts
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (co - np.outer(counts, counts) / n) / (n - 1) if n > 1 else np.full_like(co, np.nan)
        var = np.diag(cov)
        phi = cov / np.sqrt(np.outer(var, var))
    phi[~np.isfinite(phi)] = np.nan                        # constant columns: undefined
    return np.clip(phi, -1.0, 1.0), cov


# --------------------------------------------------------------------------- top-k


@dataclass
class CorrelatedAttribute:
    """One attribute ranked by its correlation with the (signed) target.

    ``phi`` and ``cov`` already carry the target's sign (for ``-Male`` they are the
    correlations with "not Male"). ``ci_lo``/``ci_hi`` are the percentile-bootstrap
    interval of ``phi``; ``p_given_target``/``p_given_not`` are P(attr | target) and
    P(attr | not target) for the signed target.
    """

    name: str
    index: int
    phi: float
    cov: float
    ci_lo: float
    ci_hi: float
    p_given_target: float
    p_given_not: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "index": self.index, "phi": json_float(self.phi),
                "cov": json_float(self.cov), "ci_lo": json_float(self.ci_lo),
                "ci_hi": json_float(self.ci_hi),
                "p_given_target": json_float(self.p_given_target),
                "p_given_not": json_float(self.p_given_not)}


def _phi_from_counts(w_t: np.ndarray, w_j: np.ndarray, w_tj: np.ndarray,
                     n: float | np.ndarray) -> np.ndarray:
    """Phi of target vs attributes from (weighted) counts; broadcasting over resamples."""
    with np.errstate(invalid="ignore", divide="ignore"):
        num = n * w_tj - w_t * w_j
        den = np.sqrt(w_t * (n - w_t) * w_j * (n - w_j))
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return np.clip(out, -1.0, 1.0)


def top_correlated(attrs: np.ndarray, attribute_names: Sequence[str], target: str, *,
                   k: int = 10, n_boot: int = 1000, level: float = 0.95, seed: int | None = 0,
                   phi: np.ndarray | None = None, cov: np.ndarray | None = None,
                   clusters: Clusters | np.ndarray | None = None
                   ) -> list[CorrelatedAttribute]:
    """The ``k`` attributes most correlated with ``target`` (both signs, ranked by ``|phi|``).

    ``target`` may be negated (``-Male``, ``Female``): the signs of phi and covariance
    flip. The target itself is excluded by index; attributes with NaN phi (constant
    columns) rank last. Bootstrap CIs resample rows (or the ``clusters``, e.g. people):
    each resample is a multiplicity count ``w`` per unit (b, U) and all needed counts
    come from ``w @ X_U`` at once (``X_U`` the per-unit sums).

    Parameters
    ----------
    attrs : (N, A) bool array
    attribute_names : names of the A columns (CelebA spelling; aliases accepted in target)
    target : e.g. ``"Male"``, ``"-Male"``, ``"WearingLipstick"``
    k : how many to return (``k <= 0`` or ``k >= A - 1`` returns all others)
    n_boot : bootstrap resamples (0 disables CIs: NaN bounds)
    phi, cov : precomputed matrices from :func:`correlation_matrices` (optional)
    clusters : the cluster (identity) of every row, or a :class:`biaslens.stats.Clusters`

    Examples
    --------
    >>> x = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [0, 1, 0]], bool)
    >>> [c.name for c in top_correlated(x, ["a", "b", "c"], "a", n_boot=0)]
    ['b', 'c']
    """
    x = _as_bool_matrix(attrs, attribute_names)
    names = list(attribute_names)
    clusters = as_clusters(clusters, x.shape[0])
    t_idx, sign = resolve_attribute(target, names)
    if phi is None or cov is None:
        phi, cov = correlation_matrices(x)
    n, a = x.shape
    others = np.array([j for j in range(a) if j != t_idx], dtype=int)
    signed = sign * phi[t_idx, others]
    key = np.where(np.isnan(signed), -1.0, np.abs(signed))  # NaN ranks last
    order = others[np.argsort(-key, kind="stable")]
    if 0 < k < len(order):
        order = order[:k]

    t = x[:, t_idx] if sign > 0 else ~x[:, t_idx]            # the signed target column (N,)
    sel = x[:, order]                                          # (N, k)
    n_t = t.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        p_t = (sel & t[:, None]).sum(0) / n_t
        p_not = (sel & ~t[:, None]).sum(0) / (n - n_t)

    if n_boot > 0 and len(order):
        # Columns [t, sel..., sel & t] so one product gives every count per resample.
        # Columns [1, t, sel..., sel & t] so one product gives every count per resample.
        cols = np.column_stack([np.ones(n), t, sel, sel & t[:, None]]).astype(np.float64)
        if clusters is not None:
            cols = clusters.aggregate(cols)                    # (C, 2+2k) per-person sums
        kk = len(order)
        units = len(cols)

        def stat(w: np.ndarray) -> np.ndarray:                # w (b, U) -> (b, k)
            s = w @ cols                                       # (b, 2+2k)
            return _phi_from_counts(s[:, 1:2], s[:, 2:2 + kk], s[:, 2 + kk:], s[:, :1])

        chunk = int(max(1, min(64, 4_000_000 // max(units, 1))))  # bound memory at ~32 MB
        with warnings.catch_warnings():
            # A column constant in every resample has an undefined (NaN) interval.
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            lo, hi, _ = bootstrap_ci(stat, n, n_boot=n_boot, level=level, seed=seed,
                                     chunk=chunk, clusters=clusters, weights="units")
    else:
        lo = hi = np.full(len(order), np.nan)
    return [CorrelatedAttribute(name=names[j], index=int(j), phi=float(sign * phi[t_idx, j]),
                                cov=float(sign * cov[t_idx, j]), ci_lo=float(lo[i]),
                                ci_hi=float(hi[i]), p_given_target=float(p_t[i]),
                                p_given_not=float(p_not[i]))
            for i, j in enumerate(order)]


def ratio_intervals(num: np.ndarray, den: np.ndarray, clusters: Clusters, *, n_boot: int,
                    level: float = 0.95, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-bootstrap percentile intervals of ratios ``sum(num) / sum(den)`` per column.

    ``num``, ``den`` are per-row ``(N, k)`` (``den`` may be ``(N,)``); they are summed per
    cluster once, and each resample of clusters is one ``(b, C) @ (C, k)`` product.
    Ratios with a zero denominator in a resample are NaN and skipped.
    """
    num_c = clusters.aggregate(num)
    den_c = clusters.aggregate(den.reshape(len(den), -1))

    def stat(w: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ num_c) / (w @ den_c)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        lo, hi, _ = bootstrap_ci(stat, clusters.n_rows, n_boot=n_boot, level=level, seed=seed,
                                 clusters=clusters, weights="units")
    return lo, hi


# --------------------------------------------------------------------------- groups


@dataclass
class IntersectionalGroup:
    """One cell of the cross product of the group columns.

    ``values`` maps column name to its integer value (bool attributes: 0/1). ``small``
    is True when ``count < min_group`` or ``share < min_share``. ``target_rate`` is
    P(target | group) with its Wilson interval when a target was given (else NaN).
    """

    values: dict[str, int]
    count: int
    share: float
    ci_lo: float
    ci_hi: float
    small: bool
    target_rate: float = float("nan")
    target_lo: float = float("nan")
    target_hi: float = float("nan")

    @property
    def label(self) -> str:
        """Readable key such as ``Male=1, skin_type=0``."""
        return ", ".join(f"{k}={v}" for k, v in self.values.items())

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "values": dict(self.values), "count": self.count,
                "share": json_float(self.share), "ci_lo": json_float(self.ci_lo),
                "ci_hi": json_float(self.ci_hi),
                "small": self.small, "target_rate": json_float(self.target_rate),
                "target_lo": json_float(self.target_lo), "target_hi": json_float(self.target_hi)}


def intersectional_groups(columns: np.ndarray, column_names: Sequence[str], *,
                          min_group: int = 30, min_share: float | None = None,
                          target: np.ndarray | None = None, level: float = 0.95,
                          clusters: Clusters | np.ndarray | None = None, n_boot: int = 1000,
                          seed: int | None = 0) -> list[IntersectionalGroup]:
    """Counts and shares of every combination of the group columns, with Wilson CIs
    (cluster-bootstrap CIs over ``clusters``, e.g. people, when given and ``n_boot > 0``).

    All combinations of the values seen in each column are listed, including empty ones
    (an intersection that never occurs is the most under-represented of all), in
    lexicographic order of the values. Counting is one ``bincount`` over combined codes.

    Parameters
    ----------
    columns : (N, G) integer or bool array, one column per group variable
    column_names : the G names (used as keys in ``values``)
    min_group : groups with fewer rows are flagged ``small``
    min_share : optionally also flag groups whose share is below this fraction
    target : optional (N,) bool column; adds P(target | group) per group
    clusters, n_boot, seed : the identity of every row; the intervals then resample
        identities (``n_boot`` resamples, percentile), not rows

    Examples
    --------
    >>> g = intersectional_groups(np.array([[0, 1], [1, 1], [1, 1]]), ["a", "b"], min_group=2)
    >>> [(x.label, x.count, x.small) for x in g]
    [('a=0, b=1', 1, True), ('a=1, b=1', 2, False)]
    """
    cols = np.asarray(columns)
    if cols.ndim == 1:
        cols = cols[:, None]
    if cols.ndim != 2 or cols.shape[1] != len(column_names):
        raise DataError(f"group columns have shape {cols.shape} but {len(column_names)} "
                        "names were given", field="groups")
    if cols.shape[1] == 0:
        raise BiasLensError("at least one group column is needed")
    n = cols.shape[0]
    levels, codes = [], []
    for g in range(cols.shape[1]):
        u, inv = np.unique(cols[:, g].astype(np.int64), return_inverse=True)
        levels.append(u)
        codes.append(inv.reshape(-1))
    sizes = tuple(len(u) for u in levels)
    if n == 0:
        return []
    cell = np.ravel_multi_index(codes, sizes)              # (N,) combined code
    m = int(np.prod(sizes))
    counts = np.bincount(cell, minlength=m)
    share = counts / n
    clusters = as_clusters(clusters, n)
    boot = clusters is not None and n_boot > 0
    onehot = None
    if boot:
        onehot = np.zeros((n, m))
        onehot[np.arange(n), cell] = 1.0
        lo, hi = ratio_intervals(onehot, np.ones(n), clusters, n_boot=n_boot, level=level,
                                 seed=seed)
    else:
        lo, hi = wilson_ci(counts, n, level)
    if target is not None:
        tgt = np.asarray(target, dtype=bool).reshape(-1)
        if tgt.shape[0] != n:
            raise DataError(f"target has {tgt.shape[0]} rows, groups have {n}", field="target")
        pos = np.bincount(cell, weights=tgt.astype(np.float64), minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = pos / counts
        if boot:
            t_lo, t_hi = ratio_intervals(onehot * tgt[:, None], onehot, clusters,
                                         n_boot=n_boot, level=level, seed=seed)
        else:
            t_lo, t_hi = wilson_ci(pos, counts, level)
    else:
        rate = t_lo = t_hi = np.full(m, np.nan)
    small = counts < min_group
    if min_share is not None:
        small |= share < min_share
    out = []
    for c in range(m):
        idx = np.unravel_index(c, sizes)
        values = {str(name): int(levels[g][i])
                  for g, (name, i) in enumerate(zip(column_names, idx))}
        out.append(IntersectionalGroup(values=values, count=int(counts[c]), share=float(share[c]),
                                       ci_lo=float(lo[c]), ci_hi=float(hi[c]),
                                       small=bool(small[c]), target_rate=float(rate[c]),
                                       target_lo=float(t_lo[c]), target_hi=float(t_hi[c])))
    return out


# --------------------------------------------------------------------------- all together


@dataclass
class DatasetStats:
    """Everything :func:`dataset_stats` measured; ``to_dict()`` is strict JSON (NaN -> null)."""

    n: int
    attribute_names: list[str]
    counts: np.ndarray                 # (A,) positives per attribute
    prevalence: np.ndarray             # (A,)
    prevalence_lo: np.ndarray          # (A,) Wilson interval
    prevalence_hi: np.ndarray
    phi: np.ndarray                    # (A, A), NaN for constant columns
    cov: np.ndarray                    # (A, A), ddof=1
    level: float = 0.95
    target: str | None = None          # display name, e.g. "-Male"
    target_index: int | None = None
    target_sign: int = 1
    top: list[CorrelatedAttribute] = field(default_factory=list)
    group_columns: list[str] = field(default_factory=list)
    groups: list[IntersectionalGroup] = field(default_factory=list)
    min_group: int = 30
    min_share: float | None = None
    n_boot: int = 0
    seed: int | None = 0
    split: str | None = None
    #: what the intervals resampled (:func:`biaslens.stats.resample_unit`) and how the
    #: prevalence/group intervals were made ("wilson" or "cluster_bootstrap")
    resampling: dict[str, Any] = field(default_factory=dict)
    interval_method: str = "wilson"

    @property
    def small_groups(self) -> list[IntersectionalGroup]:
        """The groups flagged as below the size threshold."""
        return [g for g in self.groups if g.small]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "split": self.split, "level": self.level,
            "attribute_names": list(self.attribute_names),
            "prevalence": [
                {"name": nm, "count": int(c), "prevalence": json_float(p), "ci_lo": json_float(lo),
                 "ci_hi": json_float(hi)}
                for nm, c, p, lo, hi in zip(self.attribute_names, self.counts, self.prevalence,
                                            self.prevalence_lo, self.prevalence_hi)],
            "phi": json_floats(self.phi), "cov": json_floats(self.cov),
            "target": self.target, "target_index": self.target_index,
            "target_sign": self.target_sign,
            "top_correlated": [c.to_dict() for c in self.top],
            "n_boot": self.n_boot, "seed": self.seed,
            "group_columns": list(self.group_columns),
            "min_group": self.min_group, "min_share": self.min_share,
            "groups": [g.to_dict() for g in self.groups],
            "small_groups": [g.label for g in self.small_groups],
            "resampling": dict(self.resampling), "interval_method": self.interval_method,
        }


def _group_column(name: str, x: np.ndarray, attribute_names: Sequence[str],
                  group_columns: Mapping[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """Resolve a group name against attributes and extra group columns (aliases allowed)."""
    valid = list(attribute_names) + [g for g in group_columns if g not in attribute_names]
    canon = canonical_name(name, valid)                     # UnknownNameError lists both
    if canon in group_columns:
        col = np.asarray(group_columns[canon]).reshape(-1)
        if col.shape[0] != x.shape[0]:
            raise DataError(f"group column has {col.shape[0]} rows, attributes have "
                            f"{x.shape[0]}", field=canon)
        return canon, col
    return canon, x[:, list(attribute_names).index(canon)].astype(np.int64)


def dataset_stats(attrs: np.ndarray, attribute_names: Sequence[str], *,
                  target: str | None = None, groups: Sequence[str] | None = None,
                  group_columns: Mapping[str, np.ndarray] | None = None,
                  k: int = 10, n_boot: int = 1000, level: float = 0.95,
                  min_group: int = 30, min_share: float | None = None,
                  seed: int | None = 0, split: str | None = None,
                  clusters: Clusters | np.ndarray | None = None) -> DatasetStats:
    """Bias statistics of a labelled dataset (the first audit).

    Parameters
    ----------
    attrs : (N, A) bool (or 0/1) attribute matrix
    attribute_names : the A names (CelebA spelling)
    target : attribute to rank correlations against; ``-Male``/``Female`` flip signs
    groups : names of the columns to cross into intersectional groups; each is an
        attribute (aliases accepted) or a key of ``group_columns``
    group_columns : extra integer label columns by name, e.g.
        ``{"skin_type": cache.groups[:, 0]}``
    k : number of top correlated attributes to report
    n_boot : bootstrap resamples for the top correlations' CIs
    min_group, min_share : flag groups with fewer rows / a smaller share
    split : recorded only (the caller selects the rows)
    clusters : the identity (person) of every row, or a :class:`biaslens.stats.Clusters`;
        every interval then resamples identities (``n_boot`` resamples) instead of
        assuming independent rows

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 3)) < 0.5
    >>> s = dataset_stats(x, ["Male", "Smiling", "Young"], target="-Male", groups=["Male"],
    ...                   n_boot=50)
    >>> s.target, len(s.top), sum(g.count for g in s.groups)
    ('-Male', 2, 200)
    """
    x = _as_bool_matrix(attrs, attribute_names)
    names = [str(n) for n in attribute_names]
    n = x.shape[0]
    if n == 0:
        raise DataError("no rows to describe (empty dataset or split)", field="attrs")
    group_columns = dict(group_columns or {})
    clusters = as_clusters(clusters, n)
    counts = x.sum(axis=0).astype(np.int64)
    clustered = clusters is not None and n_boot > 0
    if clustered:
        lo, hi = ratio_intervals(x.astype(np.float64), np.ones(n), clusters, n_boot=n_boot,
                                 level=level, seed=seed)
    else:
        lo, hi = wilson_ci(counts, n, level)
    phi, cov = correlation_matrices(x)

    t_name, t_idx, t_sign, top, t_col = None, None, 1, [], None
    if target is not None:
        t_idx, t_sign = resolve_attribute(target, names)
        t_name = display_name(t_idx, t_sign, names)
        top = top_correlated(x, names, target, k=k, n_boot=n_boot, level=level, seed=seed,
                             phi=phi, cov=cov, clusters=clusters)
        t_col = x[:, t_idx] if t_sign > 0 else ~x[:, t_idx]

    g_names: list[str] = []
    g_list: list[IntersectionalGroup] = []
    if groups:
        resolved = [_group_column(g, x, names, group_columns) for g in groups]
        g_names = [r[0] for r in resolved]
        if len(set(g_names)) != len(g_names):
            raise BiasLensError(f"group columns repeat a name: {', '.join(g_names)}")
        cols = np.column_stack([r[1] for r in resolved])
        g_list = intersectional_groups(cols, g_names, min_group=min_group, min_share=min_share,
                                       target=t_col, level=level, clusters=clusters,
                                       n_boot=n_boot, seed=seed)

    return DatasetStats(n=n, attribute_names=names, counts=counts, prevalence=counts / n,
                        prevalence_lo=lo, prevalence_hi=hi, phi=phi, cov=cov, level=level,
                        target=t_name, target_index=t_idx, target_sign=t_sign, top=top,
                        group_columns=g_names, groups=g_list, min_group=min_group,
                        min_share=min_share,
                        n_boot=n_boot if target is not None or clustered else 0,
                        seed=seed, split=split, resampling=resample_unit(n, clusters),
                        interval_method="cluster_bootstrap" if clustered else "wilson")
