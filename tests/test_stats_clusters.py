"""Cluster bootstrap (:class:`biaslens.stats.Clusters`): photos of one person resampled
together. Properties: one row per cluster gives the row bootstrap's draws exactly;
duplicated rows (the same person photographed k times) widen the clustered interval."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from biaslens.errors import DataError
from biaslens.stats import (Clusters, as_clusters, bootstrap_ci, bootstrap_weights,
                            resample_unit)

labels = st.lists(st.integers(0, 6), min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(labels, st.integers(0, 2**31 - 1))
def test_expand_lists_the_rows_of_each_drawn_cluster(lab, seed):
    c = Clusters.from_labels(lab)
    draws = np.random.default_rng(seed).integers(0, c.n_clusters, size=(3, c.n_clusters))
    rows, owner = c.expand(draws)
    lab = np.asarray(lab)
    # the reference, one Python loop: the rows of every drawn cluster, in row order
    first = list(dict.fromkeys(lab.tolist()))            # clusters by first appearance
    want_rows, want_owner = [], []
    for b, row in enumerate(draws):
        for d in row:
            members = np.flatnonzero(lab == first[d]).tolist()
            want_rows += members
            want_owner += [b] * len(members)
    assert rows.tolist() == want_rows and owner.tolist() == want_owner
    # multiplicities from the expansion == the cluster multiplicities mapped to rows
    w = np.zeros((3, len(lab)))
    np.add.at(w, (owner, rows), 1)
    mult = np.stack([np.bincount(r, minlength=c.n_clusters) for r in draws])
    np.testing.assert_array_equal(w, c.row_weights(mult))
    assert c.sizes.sum() == len(lab) and c.n_rows == len(lab)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=50),
       st.integers(0, 2**31 - 1), st.booleans())
def test_one_row_per_cluster_draws_exactly_the_row_bootstrap(x, seed, shuffled):
    """Same seed -> same draws: clusters are numbered by first appearance, so any unique
    labels (here a permutation of large ids) make cluster c row c."""
    x = np.asarray(x)
    n = len(x)
    ids = np.random.default_rng(1).permutation(n) * 7 + 1000 if shuffled else np.arange(n)
    rows = bootstrap_ci(lambda idx: x[idx].mean(1), n, n_boot=150, seed=seed)
    clus = bootstrap_ci(lambda w: (w @ x) / w.sum(1), n, n_boot=150, seed=seed,
                        clusters=Clusters.from_labels(ids), weights=True)
    np.testing.assert_allclose(clus[2], rows[2], rtol=0, atol=1e-12)
    np.testing.assert_allclose([clus[0], clus[1]], [rows[0], rows[1]], atol=1e-12)
    units = bootstrap_ci(lambda w: (w @ x) / w.sum(1), n, n_boot=150, seed=seed,
                         clusters=Clusters.from_labels(ids), weights="units")
    np.testing.assert_allclose(units[2], rows[2], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=20, max_size=60),
       st.integers(3, 6), st.integers(0, 2**31 - 1))
def test_duplicated_rows_widen_the_clustered_interval(x, k, seed):
    """Every row repeated k times (k photos of each person): the row bootstrap believes it
    has k·n independent rows and narrows by about sqrt(k); the clustered one does not."""
    x = np.asarray(x)
    assume(np.std(x) > 0.05)
    dup = np.repeat(x, k)
    ids = np.repeat(np.arange(len(x)), k)
    mean_w = lambda w: (w @ dup) / w.sum(1)             # noqa: E731
    lo_r, hi_r, _ = bootstrap_ci(lambda idx: dup[idx].mean(1), len(dup), n_boot=400, seed=seed)
    lo_c, hi_c, _ = bootstrap_ci(mean_w, len(dup), n_boot=400, seed=seed,
                                 clusters=Clusters.from_labels(ids), weights=True)
    assert hi_c - lo_c > 1.3 * (hi_r - lo_r)
    # and the clustered interval on the duplicated data is the row interval of the
    # originals: the same resamples of people, each counted k times
    lo_o, hi_o, _ = bootstrap_ci(lambda idx: x[idx].mean(1), len(x), n_boot=400, seed=seed)
    assert (lo_c, hi_c) == pytest.approx((lo_o, hi_o), abs=1e-12)


def test_clusters_need_weights_and_matching_rows():
    c = Clusters.from_labels([0, 0, 1])
    with pytest.raises(ValueError, match="weights=True"):
        bootstrap_ci(lambda idx: idx.mean(1), 3, n_boot=5, clusters=c)
    with pytest.raises(ValueError, match="cover 3 rows"):
        bootstrap_ci(lambda w: w.sum(1), 4, n_boot=5, clusters=c, weights=True)
    with pytest.raises(DataError, match="has 3 rows, the data has 4"):
        as_clusters([0, 0, 1], 4)
    assert as_clusters(None, 4) is None and as_clusters(c, 3) is c


def test_subset_aggregate_and_unit_text():
    c = Clusters.from_labels(["p", "q", "p", "r", "q"])
    np.testing.assert_array_equal(c.aggregate(np.arange(5.0)), [2.0, 5.0, 3.0])
    s = c.subset(np.array([1, 3, 4]))
    assert s.codes.tolist() == [0, 1, 0] and s.n_clusters == 2
    assert resample_unit(5, c) == {"unit": "identities", "n_units": 3, "n_rows": 5,
                                   "text": "bootstrap over 3 identities (5 images)"}
    assert resample_unit(1234, None)["text"] == "bootstrap over 1,234 images"
    chunks = list(bootstrap_weights(5, 70, seed=0, clusters=c))
    assert [w.shape for w in chunks] == [(64, 3), (6, 3)]
    assert all((w.sum(1) == 3).all() for w in chunks)
    empty = Clusters.from_labels([])
    assert empty.n_clusters == 0 and empty.n_rows == 0
