import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from biaslens.audit.judge_correction import (
    confusion_counts,
    correct_shares,
    intersect_labels,
    solve_shares,
)
from biaslens.errors import BiasLensError, DataError
from biaslens.stats import rogan_gladen


def _confusion(draw, k, n_max=200):
    rows = [draw(st.lists(st.integers(0, n_max), min_size=k, max_size=k)) for _ in range(k)]
    c = np.array(rows)
    c[np.arange(k), np.arange(k)] += 1 + c.sum(1)  # diagonally dominant: invertible, rows > 0
    return c


@st.composite
def problems(draw, k_max=5):
    k = draw(st.integers(2, k_max))
    c = _confusion(draw, k)
    y = np.array(draw(st.lists(st.integers(0, 500), min_size=k, max_size=k)))
    y[draw(st.integers(0, k - 1))] += 1
    return c, y


def test_rogan_gladen_known_values_k2():
    # tpr = 0.8 (true 1 judged 1), fpr = 0.2 (true 0 judged 1): (0.44 - 0.2) / 0.6 = 0.4
    r = correct_shares([[80, 20], [20, 80]], [56, 44], n_boot=0)
    assert r.corrected[1] == pytest.approx(0.4, abs=1e-12)
    assert r.corrected.sum() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 400), st.integers(5, 400), st.integers(0, 400), st.integers(0, 400),
       st.integers(1, 1000), st.floats(0.0, 1.0))
def test_k2_equals_rogan_gladen(n0, n1, fp, fn, n, p):
    # true 0 judged 1 = fp of n0, true 1 judged 0 = fn of n1
    fp, fn = min(fp, n0), min(fn, n1)
    tpr, fpr = (n1 - fn) / n1, fp / n0
    if tpr - fpr < 0.05:
        return  # RG is NaN or ill-conditioned there; the k-group solve needs tpr != fpr
    k = int(round(p * n))
    r = correct_shares([[n0 - fp, fp], [fn, n1 - fn]], [n - k, k], n_boot=0)
    rg = float(rogan_gladen(k / n, tpr, fpr))
    assert r.corrected[1] == pytest.approx(rg, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.lists(st.integers(0, 300), min_size=6, max_size=6))
def test_identity_confusion_gives_raw_shares(k, counts):
    y = np.array(counts[:k])
    y[0] += 1
    r = correct_shares(np.diag(np.full(k, 50)), y, n_boot=20)
    assert np.allclose(r.corrected, y / y.sum())
    assert np.allclose(r.raw, y / y.sum())


@settings(max_examples=60, deadline=None)
@given(problems())
def test_shares_always_on_the_simplex(prob):
    c, y = prob
    r = correct_shares(c, y, n_boot=30, seed=1)
    assert np.all(r.corrected >= 0) and r.corrected.sum() == pytest.approx(1.0)
    lo, hi = r.corrected_ci
    assert np.all(lo >= 0) and np.all(hi <= 1 + 1e-12) and np.all(lo <= hi)


@settings(max_examples=40, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_permutation_equivariance(prob, rnd):
    c, y = prob
    k = len(y)
    perm = np.array(rnd.sample(range(k), k))
    a = correct_shares(c, y, n_boot=0).corrected
    b = correct_shares(c[np.ix_(perm, perm)], y[perm], n_boot=0).corrected
    assert np.allclose(b, a[perm], atol=1e-7)


def test_outside_the_simplex_is_the_constrained_mle():
    # the inverse puts group 0 below zero; EM's maximum must beat every point on a grid
    c = np.array([[70, 20, 10], [10, 80, 10], [10, 10, 80]])
    y = np.array([5, 60, 35])
    pi = solve_shares(c / c.sum(1, keepdims=True), y / y.sum())
    m = c / c.sum(1, keepdims=True)
    assert pi.min() >= 0 and pi[0] == pytest.approx(0, abs=1e-4)

    def loglik(p):
        return (y * np.log(p @ m)).sum(-1)

    g = np.linspace(0, 1, 101)
    a, b = np.meshgrid(g, g)
    grid = np.stack([a.ravel(), b.ravel(), 1 - a.ravel() - b.ravel()], 1)
    grid = grid[grid[:, 2] >= 0]
    assert loglik(pi) >= loglik(grid).max() - 1e-9


def test_rectangular_judge_more_categories_than_groups():
    # 2 true groups, 3 judged bins; the data generated from π = (0.3, 0.7) exactly
    m = np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]])
    q = np.array([0.3, 0.7]) @ m
    assert np.allclose(solve_shares(m, q), [0.3, 0.7], atol=1e-6)
    r = correct_shares((m * 1000).round(), (q * 2000).round(), n_boot=200, seed=0)
    lo, hi = r.corrected_ci
    assert np.all(lo <= [0.3, 0.7]) and np.all([0.3, 0.7] <= hi)


def test_batched_solve_matches_one_by_one():
    rng = np.random.default_rng(0)
    m = rng.dirichlet(np.ones(3), size=(5, 3)) + 2 * np.eye(3)
    m /= m.sum(-1, keepdims=True)
    q = rng.dirichlet(np.ones(3), size=5)
    batch = solve_shares(m, q)
    assert np.allclose(batch, [solve_shares(m[i], q[i]) for i in range(5)])


def test_bootstrap_is_seeded_and_covers_a_known_truth():
    rng = np.random.default_rng(3)
    m = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])
    true = np.array([0.2, 0.5, 0.3])
    c = np.stack([rng.multinomial(400, row) for row in m])
    y = rng.multinomial(3000, true @ m)
    a = correct_shares(c, y, n_boot=300, seed=5)
    b = correct_shares(c, y, n_boot=300, seed=5)
    assert np.array_equal(a.corrected_ci[0], b.corrected_ci[0])
    assert np.all(a.corrected_ci[0] <= true) and np.all(true <= a.corrected_ci[1])
    # the raw shares are biased toward uniform; the correction removes most of it
    assert np.abs(a.corrected - true).sum() < np.abs(a.raw - true).sum()
    d = a.to_dict()
    assert d["shares"] == "corrected" and d["n_calibration"] == 1200 and d["n_generated"] == 3000


def test_confusion_counts_and_intersections():
    t = np.array([0, 1, 2, 2])
    j = np.array([0, 2, 2, 1])
    assert confusion_counts(t, j, 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    codes, names = intersect_labels([np.array([1, 0]), np.array([0, 5])], [2, 6])
    assert codes.tolist() == [6, 5] and len(names) == 12 and names[6] == "1&0"
    with pytest.raises(DataError, match="0..2"):
        confusion_counts(np.array([3]), np.array([0]), 3)


@pytest.mark.parametrize("confusion,counts,match", [
    ([[10, 0], [0, 0]], [5, 5], "no image of group"),
    ([[10, 10], [10, 10]], [5, 5], "singular"),
    ([[10, 0], [0, 10]], [0, 0], "all zero"),
    ([[10, -1], [0, 10]], [5, 5], "non-negative"),
    ([[10, 0], [0, 10]], [5, 5, 1], "k_judged"),
    ([[10], [10]], [5], "cannot be told apart"),
])
def test_bad_inputs_are_named(confusion, counts, match):
    with pytest.raises(BiasLensError, match=match):
        correct_shares(confusion, counts)


def test_judged_categories_the_calibration_never_saw_are_ignored_and_counted():
    # no calibration face was judged "2", yet 10 generated ones were: they cannot be
    # explained by M and are left out of the likelihood, and counted
    c = np.array([[40, 10, 0], [10, 40, 0]])
    r = correct_shares(c, [30, 20, 10], n_boot=50, seed=0)
    base = correct_shares(c[:, :2], [30, 20], n_boot=0)
    assert np.allclose(r.corrected, base.corrected, atol=1e-6)
    assert r.to_dict()["settings"]["unexplained_judged"] == 10
    only_unseen = correct_shares(c, [0, 0, 7], n_boot=10)
    assert np.all(np.isfinite(only_unseen.corrected))
