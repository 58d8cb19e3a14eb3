"""Latent-space geometry (ALGORITHMS.md §4.3–4.6): property tests on random unit normals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.errors import DataError
from biaslens.mitigate.latent import (
    NearParallelError,
    NearParallelWarning,
    complementary_z,
    complementary_z_domain,
    complementary_z_multi,
    f1_threshold,
    fit_hyperplanes,
    least_norm_shift,
)

SEEDS = st.integers(0, 2**31 - 1)
DIMS = st.integers(3, 40)


def unit(rng, d):
    w = rng.standard_normal(d)
    return w / np.linalg.norm(w)


def planes(seed, d, max_cos=0.95):
    """Random unit normals (target, protected) with |cos θ| <= max_cos, and offsets."""
    rng = np.random.default_rng(seed)
    while True:
        w_t, w_g = unit(rng, d), unit(rng, d)
        if abs(w_t @ w_g) <= max_cos:
            return rng, w_t, rng.normal(), w_g, rng.normal()


@settings(max_examples=60, deadline=None)
@given(SEEDS, DIMS)
def test_complementary_keeps_target_and_negates_protected(seed, d):
    rng, w_t, b_t, w_g, b_g = planes(seed, d)
    z = rng.standard_normal((16, d)) * 2
    zc = complementary_z(z, w_t, b_t, w_g, b_g)
    np.testing.assert_allclose(zc @ w_t + b_t, z @ w_t + b_t, atol=1e-6)
    np.testing.assert_allclose(zc @ w_g + b_g, -(z @ w_g + b_g), atol=1e-6)
    # an involution: the complement of the complement is z
    np.testing.assert_allclose(complementary_z(zc, w_t, b_t, w_g, b_g), z, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(SEEDS, DIMS)
def test_closed_form_is_the_least_norm_solution(seed, d):
    rng, w_t, b_t, w_g, b_g = planes(seed, d)
    z = rng.standard_normal((8, d))
    zc = complementary_z(z, w_t, b_t, w_g, b_g)
    W = np.stack([w_g, w_t], axis=1)
    ref = least_norm_shift(z, W, np.stack([-(z @ w_g + b_g) - b_g, z @ w_t], axis=1))
    np.testing.assert_allclose(zc, ref, atol=1e-8)
    # any other feasible point (add a null-space direction) is farther from z
    v = rng.standard_normal(d)
    v -= W @ np.linalg.lstsq(W, v, rcond=None)[0]
    if np.linalg.norm(v) > 1e-6:
        other = zc + v
        np.testing.assert_allclose(other @ w_t, zc @ w_t, atol=1e-8)
        assert np.all(np.linalg.norm(other - z, axis=1) > np.linalg.norm(zc - z, axis=1))


@settings(max_examples=40, deadline=None)
@given(SEEDS, DIMS)
def test_ablations(seed, d):
    rng, w_t, b_t, w_g, b_g = planes(seed, d)
    z = rng.standard_normal((10, d))
    dg = z @ w_g + b_g
    on = complementary_z(z, w_t, b_t, w_g, b_g, variant="on_hyperplane")
    np.testing.assert_allclose(on @ w_g + b_g, 0, atol=1e-6)
    np.testing.assert_allclose(on @ w_t, z @ w_t, atol=1e-6)
    perp = complementary_z(z, w_t, b_t, w_g, b_g, variant="perp")
    np.testing.assert_allclose(perp @ w_g + b_g, -dg, atol=1e-6)
    np.testing.assert_allclose(perp - z, -2 * dg[:, None] * w_g, atol=1e-9)
    pon = complementary_z(z, w_t, b_t, w_g, b_g, variant="perp_on_hyperplane")
    np.testing.assert_allclose(pon @ w_g + b_g, 0, atol=1e-6)
    # the on-hyperplane point is the midpoint of z and its complement
    full = complementary_z(z, w_t, b_t, w_g, b_g)
    np.testing.assert_allclose(on, (z + full) / 2, atol=1e-8)


def test_single_vector_and_unknown_variant():
    rng, w_t, b_t, w_g, b_g = planes(0, 5)
    z = rng.standard_normal(5)
    assert complementary_z(z, w_t, b_t, w_g, b_g).shape == (5,)
    with pytest.raises(Exception, match="valid"):
        complementary_z(z, w_t, b_t, w_g, b_g, variant="nope")


def test_parallel_planes_raise_and_near_parallel_warns():
    rng = np.random.default_rng(1)
    w = unit(rng, 6)
    z = rng.standard_normal((3, 6))
    with pytest.raises(NearParallelError, match="parallel"):
        complementary_z(z, w, 0.0, -w, 0.2)
    e = unit(rng, 6)
    e -= (e @ w) * w
    e /= np.linalg.norm(e)
    w2 = 0.999 * w + np.sqrt(1 - 0.999**2) * e
    with pytest.warns(NearParallelWarning, match="nearly parallel"):
        zc = complementary_z(z, w, 0.0, w2, 0.1)
    np.testing.assert_allclose(zc @ w2 + 0.1, -(z @ w2 + 0.1), atol=1e-6)


def test_non_unit_normal_is_rejected():
    with pytest.raises(Exception, match="unit norm"):
        complementary_z(np.zeros((1, 3)), np.array([2.0, 0, 0]), 0, np.array([0, 1.0, 0]), 0)


@settings(max_examples=40, deadline=None)
@given(SEEDS, DIMS)
def test_domain_dependent_constraints_and_least_norm(seed, d):
    rng, w_t0, b_t0, w_g, b_g = planes(seed, d)
    w_t1, b_t1 = unit(rng, d), rng.normal()
    if max(abs(w_g @ w_t0), abs(w_g @ w_t1)) > 0.95:
        return
    z = rng.standard_normal((20, d))
    a = (z @ w_g + b_g > 0).astype(int)
    zc = complementary_z_domain(z, w_g, b_g, w_t0, b_t0, w_t1, b_t1)
    np.testing.assert_allclose(zc @ w_g + b_g, -(z @ w_g + b_g), atol=1e-6)
    wt, bt = np.stack([w_t0, w_t1]), np.array([b_t0, b_t1])
    own = np.einsum("nd,nd->n", z, wt[a]) + bt[a]
    other = np.einsum("nd,nd->n", zc, wt[1 - a]) + bt[1 - a]
    np.testing.assert_allclose(other, own, atol=1e-6)
    # the displacement lies in span(w_g, w_t^ā): least norm
    for i in range(len(z)):
        W = np.stack([w_g, wt[1 - a[i]]], axis=1)
        delta = zc[i] - z[i]
        np.testing.assert_allclose(W @ np.linalg.lstsq(W, delta, rcond=None)[0], delta,
                                   atol=1e-8)


def test_domain_with_equal_planes_equals_single():
    rng, w_t, b_t, w_g, b_g = planes(3, 12)
    z = rng.standard_normal((9, 12))
    np.testing.assert_allclose(complementary_z_domain(z, w_g, b_g, w_t, b_t, w_t, b_t),
                               complementary_z(z, w_t, b_t, w_g, b_g), atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(SEEDS, st.integers(4, 40))
def test_multi_protected(seed, d):
    rng = np.random.default_rng(seed)
    W = np.stack([unit(rng, d) for _ in range(3)])
    if np.linalg.svd(W, compute_uv=False)[-1] < 0.2:
        return
    w_t, wg = W[0], W[1:]
    b_t, bg = rng.normal(), rng.normal(size=2)
    z = rng.standard_normal((12, d))
    zc = complementary_z_multi(z, w_t, b_t, wg, bg)
    np.testing.assert_allclose(zc @ w_t, z @ w_t, atol=1e-6)
    np.testing.assert_allclose(zc @ wg.T + bg, -(z @ wg.T + bg), atol=1e-6)
    # with one protected attribute it is the §4.4 closed form
    np.testing.assert_allclose(complementary_z_multi(z, w_t, b_t, wg[:1], bg[:1]),
                               complementary_z(z, w_t, b_t, wg[0], bg[0]), atol=1e-8)


def test_least_norm_rejects_dependent_columns():
    w = np.array([1.0, 0, 0])
    with pytest.raises(NearParallelError):
        least_norm_shift(np.zeros((2, 3)), np.stack([w, w], 1), np.zeros((2, 2)))


def test_fit_hyperplanes_recovers_a_planted_direction():
    rng = np.random.default_rng(0)
    d = 8
    w_true = unit(rng, d)
    z = rng.standard_normal((600, d))
    y = z @ w_true + 0.3 > 0
    for method in ("svm", "logistic"):
        hp = fit_hyperplanes(z, y, ["t"], method=method)
        w, b = hp["t"]
        assert np.linalg.norm(w) == pytest.approx(1.0)
        assert w @ w_true > 0.97
        assert b == pytest.approx(0.3, abs=0.15)
        assert hp.accuracy[0] > 0.95
        assert hp.to_dict()["names"] == ["t"]


def test_fit_hyperplanes_one_class_is_a_data_error():
    with pytest.raises(DataError, match="both classes"):
        fit_hyperplanes(np.zeros((5, 2)), np.ones(5, bool), ["Male"])


def test_f1_threshold_grid_and_refinement():
    # coarse grid: best 0.2 (F1 6/7); the refinement finds 0.25, which separates perfectly
    s = np.array([0.15, 0.25, 0.27, 0.6, 0.7])
    y = np.array([0, 0, 1, 1, 1])
    thr = f1_threshold(s, y)
    assert thr == pytest.approx(0.25)
    assert ((s > thr) == y.astype(bool)).all()
    # brute force over the same candidate set
    coarse = np.round(np.arange(1, 10) * 0.1, 10)
    f1 = lambda t: 2 * ((s > t) & (y == 1)).sum() / ((s > t).sum() + y.sum())  # noqa: E731
    c = coarse[int(np.argmax([f1(t) for t in coarse]))]
    fine = np.round(c - 0.1 + 0.01 * np.arange(1, 20), 10)
    assert thr == fine[int(np.argmax([f1(t) for t in fine]))]
