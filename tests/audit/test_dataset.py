"""Tests for biaslens.audit.dataset: hand-computed values, properties, names, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biaslens.audit.dataset import (
    correlation_matrices,
    dataset_stats,
    intersectional_groups,
    top_correlated,
)
from biaslens.errors import DataError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.stats import wilson_ci

# Four rows, three columns; a and b agree on 3 of 4 rows, c is the negation of a.
X = np.array([[1, 1, 0],
              [1, 1, 0],
              [0, 0, 1],
              [0, 1, 1]], dtype=bool)
NAMES = ["a", "b", "c"]


def test_phi_hand_computed():
    phi, cov = correlation_matrices(X)
    # a, b: n11=2, n10=0, n01=1, n00=1 -> phi = (2*1 - 0*1) / sqrt(2*2*3*1) = 2/sqrt(12)
    assert phi[0, 1] == pytest.approx(2 / np.sqrt(12))
    assert phi[0, 2] == pytest.approx(-1.0)
    # cov(a, b) with ddof=1: (n11 - c_a c_b / N) / (N - 1) = (2 - 2*3/4) / 3
    assert cov[0, 1] == pytest.approx((2 - 2 * 3 / 4) / 3)
    np.testing.assert_allclose(phi, np.corrcoef(X.T.astype(float)), atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(X.T.astype(float), ddof=1), atol=1e-12)


def test_constant_column_gives_nan_not_crash():
    x = np.column_stack([X, np.ones(4, bool)])
    phi, cov = correlation_matrices(x)
    assert np.isnan(phi[3]).all() and np.isnan(phi[:, 3]).all()
    assert np.isfinite(phi[:3, :3]).all()
    np.testing.assert_allclose(cov[3], 0.0)
    top = top_correlated(x, NAMES + ["d"], "a", n_boot=20)
    assert [c.name for c in top][-1] == "d"  # NaN ranks last
    assert np.isnan(top[-1].phi)
    s = dataset_stats(x, NAMES + ["d"], target="a", n_boot=20)
    d = s.to_dict()
    json.dumps(d, allow_nan=False)  # strict JSON: NaN became null
    assert d["phi"][3][0] is None


@settings(max_examples=40, deadline=None)
@given(arrays(bool, st.tuples(st.integers(2, 40), st.integers(1, 6))))
def test_phi_properties(x):
    phi, cov = correlation_matrices(x)
    np.testing.assert_allclose(phi, phi.T, equal_nan=True)
    ok = ~np.isnan(phi)
    assert (np.abs(phi[ok]) <= 1.0).all()
    const = x.all(0) | ~x.any(0)
    nc = np.flatnonzero(~const)
    assert np.isnan(phi[const]).all()
    if len(nc) >= 2:
        ref = np.corrcoef(x[:, nc].T.astype(float))
        np.testing.assert_allclose(phi[np.ix_(nc, nc)], ref, atol=1e-9)
    np.testing.assert_allclose(cov, np.atleast_2d(np.cov(x.T.astype(float), ddof=1)),
                               atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 60), st.integers(1, 4))),
       st.integers(1, 50))
def test_group_counts_sum_to_n_and_ci_contains_share(x, min_group):
    groups = intersectional_groups(x, [f"g{i}" for i in range(x.shape[1])], min_group=min_group)
    assert sum(g.count for g in groups) == x.shape[0]
    assert all(g.ci_lo - 1e-12 <= g.share <= g.ci_hi + 1e-12 for g in groups)
    assert all(g.small == (g.count < min_group) for g in groups)
    # every combination of observed values is listed exactly once
    assert len({g.label for g in groups}) == np.prod([len(np.unique(c)) for c in x.T])


@settings(max_examples=20, deadline=None)
@given(arrays(bool, st.tuples(st.integers(2, 50), st.just(3))))
def test_prevalence_ci_contains_estimate(x):
    s = dataset_stats(x, NAMES)
    assert np.all(s.prevalence_lo <= s.prevalence + 1e-12)
    assert np.all(s.prevalence <= s.prevalence_hi + 1e-12)
    np.testing.assert_array_equal(s.counts, x.sum(0))


def test_prevalence_uses_wilson():
    s = dataset_stats(X, NAMES, level=0.9)
    lo, hi = wilson_ci(X.sum(0), 4, 0.9)
    np.testing.assert_allclose(s.prevalence_lo, lo)
    np.testing.assert_allclose(s.prevalence_hi, hi)
    np.testing.assert_allclose(s.prevalence, [0.5, 0.75, 0.5])


def _random_attrs(n=400, seed=1):
    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.4
    x = rng.random((n, 40)) < 0.3
    x[:, 20] = male
    x[:, 36] = np.where(male, rng.random(n) < 0.05, rng.random(n) < 0.8)  # Wearing_Lipstick
    x[:, 24] = np.where(male, rng.random(n) < 0.4, rng.random(n) < 0.95)  # No_Beard
    return x


def test_top_correlated_ranks_by_abs_phi_both_signs():
    x = _random_attrs()
    top = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=5, n_boot=200, seed=3)
    phi, _ = correlation_matrices(x)
    assert [c.name for c in top][:2] == ["Wearing_Lipstick", "No_Beard"]
    assert all(c.index != 20 for c in top)
    mags = [abs(c.phi) for c in top]
    assert mags == sorted(mags, reverse=True)
    expect = np.sort(np.abs(np.delete(phi[20], 20)))[::-1][:5]
    np.testing.assert_allclose(mags, expect)
    for c in top:
        assert c.ci_lo <= c.phi <= c.ci_hi
        assert c.p_given_target == pytest.approx(x[x[:, 20], c.index].mean())
        assert c.p_given_not == pytest.approx(x[~x[:, 20], c.index].mean())


def test_negated_target_flips_signs():
    x = _random_attrs()
    pos = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=6, n_boot=100, seed=0)
    for spelling in ("-Male", "Female"):
        neg = top_correlated(x, CELEBA_ATTRIBUTES, spelling, k=6, n_boot=100, seed=0)
        assert [c.name for c in neg] == [c.name for c in pos]
        for p, q in zip(pos, neg):
            assert q.phi == pytest.approx(-p.phi)
            assert q.cov == pytest.approx(-p.cov)
            assert q.ci_lo == pytest.approx(-p.ci_hi) and q.ci_hi == pytest.approx(-p.ci_lo)
            assert q.p_given_target == pytest.approx(p.p_given_not)
    assert dataset_stats(x, CELEBA_ATTRIBUTES, target="-Male", n_boot=10).target == "-Male"


def test_bootstrap_is_seeded():
    x = _random_attrs()
    a = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=3, n_boot=100, seed=7)
    b = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=3, n_boot=100, seed=7)
    c = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=3, n_boot=100, seed=8)
    assert [t.ci_lo for t in a] == [t.ci_lo for t in b]
    assert [t.ci_lo for t in a] != [t.ci_lo for t in c]


def test_bootstrap_matches_explicit_resampling():
    """The weighted-count statistic equals phi recomputed on explicitly resampled rows."""
    x = _random_attrs(n=60, seed=4)
    top = top_correlated(x, CELEBA_ATTRIBUTES, "Male", k=2, n_boot=30, seed=5, level=0.5)
    rng = np.random.default_rng(5)  # the same stream bootstrap_ci uses
    idx = rng.integers(0, 60, size=(30, 60))
    phis = np.array([[np.corrcoef(x[i, 20], x[i, c.index])[0, 1] for c in top] for i in idx])
    lo, hi = np.nanquantile(phis, [0.25, 0.75], axis=0)
    np.testing.assert_allclose([c.ci_lo for c in top], lo, atol=1e-9)
    np.testing.assert_allclose([c.ci_hi for c in top], hi, atol=1e-9)


def test_unknown_names_list_valid_ones():
    x = _random_attrs(n=50)
    with pytest.raises(UnknownNameError, match="Valid names: 5_o_Clock_Shadow"):
        dataset_stats(x, CELEBA_ATTRIBUTES, target="Mael")
    with pytest.raises(UnknownNameError, match="skin_type"):
        dataset_stats(x, CELEBA_ATTRIBUTES, groups=["Male", "skintone"],
                      group_columns={"skin_type": np.zeros(50, int)})


def test_aliases_and_cache_group_columns():
    x = _random_attrs(n=300)
    skin = (np.arange(300) % 10 == 0).astype(np.int16)
    s = dataset_stats(x, CELEBA_ATTRIBUTES, target="WearingLipstick",
                      groups=["Male", "skin_type"], group_columns={"skin_type": skin},
                      min_group=31, n_boot=20)
    assert s.target == "Wearing_Lipstick" and s.group_columns == ["Male", "skin_type"]
    assert [g.label for g in s.groups] == ["Male=0, skin_type=0", "Male=0, skin_type=1",
                                           "Male=1, skin_type=0", "Male=1, skin_type=1"]
    for g in s.groups:
        m = (x[:, 20] == g.values["Male"]) & (skin == g.values["skin_type"])
        assert g.count == m.sum()
        assert g.small == (m.sum() < 31)
        assert g.target_rate == pytest.approx(x[m, 36].mean())
    assert {g.label for g in s.small_groups} == {g.label for g in s.groups if g.count < 31}


def test_empty_intersections_are_listed_and_share_threshold():
    cols = np.array([[0, 0], [0, 0], [1, 1], [1, 1], [1, 1], [0, 0]])
    g = intersectional_groups(cols, ["a", "b"], min_group=1, min_share=0.4)
    assert [(x.label, x.count) for x in g] == [("a=0, b=0", 3), ("a=0, b=1", 0),
                                               ("a=1, b=0", 0), ("a=1, b=1", 3)]
    assert [x.small for x in g] == [False, True, True, False]


def test_bad_input_is_a_clear_data_error():
    with pytest.raises(DataError, match="field 'b'"):
        dataset_stats(np.array([[0, 2], [1, 0]]), ["a", "b"])
    with pytest.raises(DataError, match="columns"):
        dataset_stats(np.zeros((3, 2), bool), NAMES)
    with pytest.raises(DataError, match="no rows"):
        dataset_stats(np.zeros((0, 3), bool), NAMES)


def test_to_dict_is_json_and_complete():
    x = _random_attrs(n=100)
    s = dataset_stats(x, CELEBA_ATTRIBUTES, target="Male", groups=["Male", "Young"], n_boot=20,
                      split="train")
    d = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert d["n"] == 100 and d["split"] == "train" and len(d["prevalence"]) == 40
    assert len(d["phi"]) == 40 and len(d["top_correlated"]) == 10
    assert sum(g["count"] for g in d["groups"]) == 100


# ---------------------------------------------------------------- identities (clusters)
def _people(n_people: int, per: int, seed: int, n_attr: int = 3):
    """Labels with a person effect: each person has their own prevalence per attribute,
    and their ``per`` photos are drawn from it (CelebA: ~30 photos per person)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 0.5, (n_people, n_attr))
    ids = np.repeat(np.arange(n_people), per)
    return rng.random((n_people * per, n_attr)) < p[ids], ids


@settings(max_examples=25, deadline=None)
@given(st.integers(8, 40), st.integers(0, 2**31 - 1))
def test_one_photo_per_person_is_the_row_bootstrap(n, seed):
    x = np.random.default_rng(seed).random((n, 3)) < 0.5
    names = ["Male", "Smiling", "Young"]
    ids = np.random.default_rng(seed + 1).permutation(n) + 500   # unique ids, any order
    rows = top_correlated(x, names, "Male", n_boot=80, seed=seed)
    clus = top_correlated(x, names, "Male", n_boot=80, seed=seed, clusters=ids)
    for a, b in zip(rows, clus):
        assert a.name == b.name
        np.testing.assert_array_equal(a.phi, b.phi)            # NaN (a constant column) too
        np.testing.assert_allclose([a.ci_lo, a.ci_hi], [b.ci_lo, b.ci_hi], atol=1e-12)


def test_photos_of_one_person_widen_every_interval():
    x, ids = _people(100, 30, seed=0)
    names = ["Male", "Smiling", "Young"]
    rows = dataset_stats(x, names, target="Male", groups=["Smiling"], n_boot=300)
    clus = dataset_stats(x, names, target="Male", groups=["Smiling"], n_boot=300,
                         clusters=ids)
    assert rows.interval_method == "wilson" and clus.interval_method == "cluster_bootstrap"
    assert rows.resampling["unit"] == "images" and rows.resampling["n_units"] == 3000
    assert clus.resampling == {"unit": "identities", "n_units": 100, "n_rows": 3000,
                               "text": "bootstrap over 100 identities (3,000 images)"}
    w_rows = rows.prevalence_hi - rows.prevalence_lo
    w_clus = clus.prevalence_hi - clus.prevalence_lo
    assert np.all(w_clus > 2 * w_rows)              # ~sqrt(design effect) ≈ 4 here
    for a, b in zip(rows.top, clus.top):
        assert b.ci_hi - b.ci_lo > 1.5 * (a.ci_hi - a.ci_lo)
    for a, b in zip(rows.groups, clus.groups):
        assert b.ci_hi - b.ci_lo > 2 * (a.ci_hi - a.ci_lo)
        assert b.target_hi - b.target_lo > 1.5 * (a.target_hi - a.target_lo)
    d = json.loads(json.dumps(clus.to_dict(), allow_nan=False))
    assert d["resampling"]["unit"] == "identities" and d["interval_method"] == "cluster_bootstrap"
    # point estimates do not depend on the resampling unit
    np.testing.assert_array_equal(rows.prevalence, clus.prevalence)


def test_clusters_must_cover_the_rows():
    with pytest.raises(DataError, match="has 3 rows, the data has 4"):
        dataset_stats(np.zeros((4, 1), bool), ["Male"], clusters=[0, 1, 2])
