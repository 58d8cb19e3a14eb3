import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as st_

from biaslens.stats import benjamini_hochberg, bootstrap_ci, wilson_ci


def test_wilson_known_value():
    # 8 of 10, 95%: the textbook Wilson interval (0.4902, 0.9433)
    lo, hi = wilson_ci(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)


def test_wilson_vectorized_and_bounded():
    k = np.array([0, 1, 5, 10])
    n = np.array([10, 10, 10, 10])
    lo, hi = wilson_ci(k, n)
    assert lo[0] == 0.0 and hi[-1] == pytest.approx(1.0)
    assert np.all(lo <= k / n) and np.all(k / n <= hi)


def test_wilson_empty_group_is_nan():
    lo, hi = wilson_ci(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_estimate(k, n):
    k = min(k, n)
    lo, hi = wilson_ci(k, n)
    assert 0 <= lo <= k / n + 1e-12 <= hi + 2e-12 <= 1 + 2e-12


def test_bootstrap_mean_ci_covers_and_is_deterministic():
    x = np.random.default_rng(1).normal(3.0, 1.0, size=400)
    lo, hi, samples = bootstrap_ci(lambda idx: x[idx].mean(axis=1), len(x), n_boot=500, seed=7)
    lo2, hi2, _ = bootstrap_ci(lambda idx: x[idx].mean(axis=1), len(x), n_boot=500, seed=7)
    assert samples.shape == (500,)
    assert lo < x.mean() < hi
    assert (lo, hi) == (lo2, hi2)
    # width close to the normal-theory interval
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.2)


def test_bh_matches_scipy():
    p = np.random.default_rng(0).uniform(size=50) ** 2
    reject, adj = benjamini_hochberg(p, q=0.1)
    assert np.allclose(adj, st_.false_discovery_control(p, method="bh"))
    assert np.array_equal(reject, adj <= 0.1)


@settings(max_examples=50)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_bh_adjusted_at_least_raw_and_monotone(ps):
    p = np.array(ps)
    _, adj = benjamini_hochberg(p)
    assert np.all(adj >= p - 1e-12)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= -1e-12)


def test_bh_ignores_nan():
    reject, adj = benjamini_hochberg(np.array([0.001, np.nan, 0.5]))
    assert reject.tolist() == [True, False, False]
    assert np.isnan(adj[1])
