"""Uncertainty helpers shared by every audit: binomial CIs, bootstrap, multiple testing.

Pure numpy; no I/O. Every random function takes ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import stats as _st

from biaslens.errors import DataError


def wilson_ci(k: np.ndarray | float, n: np.ndarray | float, level: float = 0.95
              ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n`` (vectorized).

    Well-behaved at 0 and 1 and for small n, unlike the normal approximation.
    Where ``n == 0`` both bounds are NaN.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo, hi = centre - half, centre + half
    # exact bounds at the edges (rounding would leave 1 - 1e-16)
    lo = np.where(k == 0, 0.0, lo)
    hi = np.where(k == n, 1.0, hi)
    empty = n == 0
    lo = np.where(empty, np.nan, np.clip(lo, 0.0, 1.0))
    hi = np.where(empty, np.nan, np.clip(hi, 0.0, 1.0))
    return lo, hi


def row_bincount(labels: np.ndarray, k: int, weights: np.ndarray | None = None
                 ) -> np.ndarray:
    """Counts of each value ``0..k-1`` in every row of ``labels`` ``(b, m)``: ``(b, k)`` floats.

    One ``np.bincount`` over row-offset labels; the workhorse of the vectorized bootstraps
    (resample indices -> per-unit counts, or resampled cells -> per-cell counts).

    >>> row_bincount(np.array([[0, 0, 2], [1, 2, 2]]), 3)
    array([[2., 0., 1.],
           [0., 1., 2.]])
    """
    b = labels.shape[0]
    flat = (labels + k * np.arange(b)[:, None]).ravel()
    w = None if weights is None else np.asarray(weights).ravel()
    return np.bincount(flat, weights=w, minlength=b * k).reshape(b, k).astype(np.float64)


def bootstrap_indices(n: int, n_boot: int, seed: int | None = 0) -> np.ndarray:
    """(n_boot, n) int array of resampling indices, drawn with replacement."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_boot, n))


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True, eq=False)
class Clusters:
    """Rows grouped into clusters (e.g. the photos of one person), stored CSR-like.

    Cluster ``c`` holds rows ``order[offsets[c]:offsets[c + 1]]``. Clusters are numbered
    in order of first appearance, so with one row per cluster cluster ``c`` *is* row
    ``c`` and a cluster bootstrap draws exactly the rows a row bootstrap draws from the
    same seed.

    Attributes
    ----------
    codes : (n,) int64, the cluster of every row.
    order : (n,) int64, the rows sorted by cluster (stable: row order inside a cluster).
    offsets : (C + 1,) int64, where each cluster's rows start in ``order``.

    Examples
    --------
    >>> c = Clusters.from_labels(["b", "a", "b", "c"])
    >>> c.codes.tolist(), c.sizes.tolist()
    ([0, 1, 0, 2], [2, 1, 1])
    >>> rows, owner = c.expand(np.array([[0, 2], [1, 1]]))
    >>> rows.tolist(), owner.tolist()
    ([0, 2, 3, 1, 1], [0, 0, 0, 1, 1])
    """

    codes: np.ndarray
    order: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_labels(cls, labels: Any) -> Clusters:
        """Clusters of equal labels (any 1-d array of ints or strings)."""
        lab = np.asarray(labels).reshape(-1)
        if lab.size == 0:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(1, np.int64))
        _, first, inv = np.unique(lab, return_index=True, return_inverse=True)
        rank = np.empty(len(first), np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))   # first appearance
        codes = rank[inv.reshape(-1)]
        order = np.argsort(codes, kind="stable").astype(np.int64)
        offsets = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(first)))].astype(np.int64)
        return cls(codes, order, offsets)

    @classmethod
    def rows(cls, n: int) -> Clusters:
        """Every row its own cluster (the ordinary row bootstrap)."""
        r = np.arange(n, dtype=np.int64)
        return cls(r, r, np.arange(n + 1, dtype=np.int64))

    @property
    def n_rows(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_clusters(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def sizes(self) -> np.ndarray:
        """(C,) rows per cluster."""
        return np.diff(self.offsets)

    def subset(self, rows: np.ndarray) -> Clusters:
        """The clusters of ``rows`` (an index or bool mask), renumbered."""
        return Clusters.from_labels(self.codes[np.asarray(rows)])

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Per-cluster sums ``(C, ...)`` of per-row ``values`` ``(n, ...)``: one
        ``np.add.reduceat`` over the rows in cluster order (every cluster is non-empty)."""
        v = np.asarray(values, dtype=np.float64)
        if self.n_clusters == 0:
            return np.zeros((0, *v.shape[1:]))
        return np.add.reduceat(v[self.order], self.offsets[:-1], axis=0)

    def expand(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of drawn clusters: ``draws`` (b, k) cluster indices -> ``(rows, owner)``.

        ``rows`` lists the rows of every drawn cluster (resample by resample, draw by
        draw) and ``owner`` the resample each belongs to; computed with ``np.repeat`` over
        the CSR offsets, no loop over clusters.
        """
        draws = np.asarray(draws, dtype=np.int64)
        sizes = self.sizes[draws].ravel()                      # (b*k,) rows per draw
        starts = self.offsets[draws].ravel()                   # where each draw's rows start
        total = int(sizes.sum())
        # position j of the output belongs to draw d(j); its row is order[starts[d] + rank]
        first = np.cumsum(sizes) - sizes                       # output start of each draw
        pos = np.arange(total, dtype=np.int64) + np.repeat(starts - first, sizes)
        owner = np.repeat(np.repeat(np.arange(draws.shape[0]), draws.shape[1]), sizes)
        return self.order[pos], owner

    def unit_weights(self, rng: np.random.Generator, b: int) -> np.ndarray:
        """(b, C) multiplicity of every cluster in ``b`` resamples of ``C`` clusters (one
        ``rng.integers`` call)."""
        c = self.n_clusters
        return row_bincount(rng.integers(0, c, size=(b, c)), c)

    def row_weights(self, unit_weights: np.ndarray) -> np.ndarray:
        """(b, n) multiplicity of every row, from the clusters' ``(b, C)``."""
        return unit_weights[:, self.codes]


def as_clusters(clusters: Any, n: int, *, field: str = "clusters") -> Clusters | None:
    """``None``, a :class:`Clusters` or per-row labels -> :class:`Clusters` (or None),
    checked against ``n`` rows."""
    if clusters is None:
        return None
    c = clusters if isinstance(clusters, Clusters) else Clusters.from_labels(clusters)
    if c.n_rows != n:
        raise DataError(f"has {c.n_rows} rows, the data has {n}", field=field)
    return c


def resample_unit(n: int, clusters: Clusters | None) -> dict[str, Any]:
    """What a bootstrap resampled, for results: ``{"unit", "n_units", "n_rows", "text"}``.

    >>> resample_unit(5000, None)["text"]
    'bootstrap over 5,000 images'
    """
    if clusters is None:
        return {"unit": "images", "n_units": int(n), "n_rows": int(n),
                "text": f"bootstrap over {n:,} images"}
    k = clusters.n_clusters
    return {"unit": "identities", "n_units": k, "n_rows": int(n),
            "text": f"bootstrap over {k:,} identities ({n:,} images)"}


def bootstrap_weights(n: int, n_boot: int, *, seed: int | None = 0,
                      clusters: Clusters | None = None, chunk: int = 64):
    """Yield ``(b, U)`` unit multiplicities per chunk: rows, or clusters when given.

    A unit is drawn ``U`` times with replacement per resample; with ``clusters`` a unit
    is a whole cluster (all its rows go in or out together). Rows and clusters use the
    same ``rng.integers`` call, so with one row per cluster the draws are identical.
    """
    rng = np.random.default_rng(seed)
    units = Clusters.rows(n) if clusters is None else clusters
    for start in range(0, n_boot, chunk):
        yield units.unit_weights(rng, min(chunk, n_boot - start))


def bootstrap_ci(statistic: Callable[[np.ndarray], np.ndarray], n: int, *, n_boot: int = 1000,
                 level: float = 0.95, seed: int | None = 0, chunk: int = 64,
                 clusters: Clusters | None = None, weights: bool | str = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bootstrap of ``statistic`` over resamples of ``range(n)``.

    By default ``statistic`` receives an index array of shape ``(b, n)`` (a chunk of
    resamples) and must return an array of shape ``(b, ...)``, so it can be vectorized
    over resamples. With ``weights=True`` it receives the ``(b, n)`` multiplicity of every
    row instead (how often it was drawn); with ``weights="units"`` the ``(b, U)``
    multiplicity of every resampling unit (a row, or a cluster), for statistics written
    over per-unit sums (:meth:`Clusters.aggregate`): the cheapest form when clusters are
    large. ``clusters`` (:class:`Clusters`, e.g. the identities of face images) resamples
    whole clusters; a clustered resample has a varying number of rows, so it needs
    ``weights``. Returns ``(lo, hi, samples)`` with ``samples`` of shape ``(n_boot, ...)``.

    The same seed draws the same ``rng.integers`` whether rows or clusters are the unit, so
    with one row per cluster a clustered bootstrap equals the row bootstrap exactly.
    """
    if clusters is not None and not weights:
        raise ValueError("a cluster bootstrap draws a varying number of rows: write the "
                         "statistic over row multiplicities and pass weights=True")
    if clusters is not None and clusters.n_rows != n:
        raise ValueError(f"clusters cover {clusters.n_rows} rows, the data has {n}")
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        if not weights:
            parts.append(np.asarray(statistic(rng.integers(0, n, size=(b, n)))))
            continue
        units = Clusters.rows(n) if clusters is None else clusters
        w = units.unit_weights(rng, b)
        parts.append(np.asarray(statistic(w if weights == "units" else units.row_weights(w))))
    samples = np.concatenate(parts, axis=0)
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(samples, [alpha, 1 - alpha], axis=0)
    return lo, hi, samples


def benjamini_hochberg(pvalues: np.ndarray, q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini–Hochberg step-up procedure.

    Returns ``(reject, adjusted)``: a bool mask of discoveries at false-discovery rate
    ``q`` and the BH-adjusted p-values (same shape as ``pvalues``; NaNs never rejected).
    """
    p = np.asarray(pvalues, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    m = int(ok.sum())
    adjusted = np.full_like(flat, np.nan)
    if m:
        pv = flat[ok]
        order = np.argsort(pv)
        ranked = pv[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(ranked, 1.0)
        adjusted[ok] = adj
    reject = np.zeros(flat.shape, dtype=bool)
    reject[ok] = adjusted[ok] <= q
    return reject.reshape(p.shape), adjusted.reshape(p.shape)


# --------------------------------------------------------------------------- proportions


def rogan_gladen(p_obs: np.ndarray | float, tpr: np.ndarray | float,
                 fpr: np.ndarray | float) -> np.ndarray:
    """Rogan–Gladen prevalence ``(p_obs − FPR)/(TPR − FPR)`` clipped to [0, 1].

    NaN where ``TPR ≤ FPR`` (a classifier no better than chance carries no information).

    >>> float(rogan_gladen(0.5, 0.9, 0.1))
    0.5
    >>> round(float(rogan_gladen(0.24, 0.8, 0.1)), 6)
    0.2
    """
    p, t, f = (np.asarray(v, dtype=float) for v in (p_obs, tpr, fpr))
    den = t - f
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip((p - f) / den, 0.0, 1.0)
    return np.where(den > 0, out, np.nan)


def share_correction(q_obs: np.ndarray, tpr: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    """Correct observed intersectional shares ``(..., 2^g)`` for classifier error.

    Builds ``M = ⊗_k [[1−FPR_k, 1−TPR_k], [FPR_k, TPR_k]]`` (``P(observed | true)`` per
    attribute, bit order as :func:`group_cells`), solves ``M q = q_obs``, clips at 0 and
    renormalizes. NaN when some ``TPR_k ≤ FPR_k``.
    """
    q_obs = np.asarray(q_obs, dtype=float)
    tpr, fpr = np.atleast_1d(tpr).astype(float), np.atleast_1d(fpr).astype(float)
    if np.any(~(tpr > fpr)):
        return np.full_like(q_obs, np.nan)
    m = np.ones((1, 1))
    for t, f in zip(tpr, fpr):
        m = np.kron(m, np.array([[1 - f, 1 - t], [f, t]]))
    q = np.linalg.solve(m, q_obs.reshape(-1, q_obs.shape[-1]).T).T.reshape(q_obs.shape)
    q = np.clip(q, 0.0, None)
    s = q.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0, q / s, np.nan)


def newcombe_diff_ci(p1: np.ndarray, lo1: np.ndarray, hi1: np.ndarray, p2: np.ndarray,
                     lo2: np.ndarray, hi2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for ``p1 − p2`` from the two Wilson intervals."""
    d = p1 - p2
    return (d - np.sqrt((p1 - lo1) ** 2 + (hi2 - p2) ** 2),
            d + np.sqrt((hi1 - p1) ** 2 + (p2 - lo2) ** 2))


def katz_ratio_ci(k1: np.ndarray, n1: int, k2: np.ndarray, n2: int, level: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two proportions with the Katz log interval (NaN where a count is 0)."""
    z = _st.norm.ppf(0.5 + level / 2)
    k1, k2 = np.asarray(k1, float), np.asarray(k2, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (k1 / n1) / (k2 / n2)
        se = np.sqrt(1 / k1 - 1 / n1 + 1 / k2 - 1 / n2)
        lo, hi = r * np.exp(-z * se), r * np.exp(z * se)
    bad = (k1 == 0) | (k2 == 0)
    return np.where(k2 == 0, np.nan, r), np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
