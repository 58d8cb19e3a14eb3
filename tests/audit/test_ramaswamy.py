"""AP/DEO/BA/KL/calibrated threshold/directional BA against direct re-statements."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import gaussian_filter
from sklearn.metrics import average_precision_score

import fairlearn.metrics as flm
from biaslens.audit import ramaswamy as R
from biaslens.errors import BiasLensError, DataError


@st.composite
def scored(draw, min_n=2):
    n = draw(st.integers(min_n, 40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    # few distinct values so ties are common
    s = np.array(draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]),
                               min_size=n, max_size=n)))
    g = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return y, s, g


@settings(max_examples=60, deadline=None)
@given(scored())
def test_ap_matches_sklearn(data):
    y, s, _ = data
    ours = R.average_precision(y, s)
    if y.sum() == 0:
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(100 * average_precision_score(y, s), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(scored())
def test_deo_is_fairlearn_equal_opportunity_x100(data):
    y, s, g = data
    p = (s > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = flm.equal_opportunity_difference(y, p, sensitive_features=g)
    if len(np.unique(g)) == 2:
        assert R.deo(y, p, g) == pytest.approx(100 * ref, abs=1e-9)


def ba_reference(y, yh, g):
    """§4.7 written term by term (loops allowed in the oracle)."""
    terms = []
    for tau in (0, 1):
        for a in (0, 1):
            m = g == a
            if not m.any():
                terms.append(np.nan)
                continue
            p_ta = np.mean(y[m] == tau)
            terms.append(np.sign(p_ta - np.mean(y == tau)) * (np.mean(yh[m] == tau) - p_ta))
    terms = np.array(terms)
    return 100 * np.nanmean(terms) if not np.isnan(terms).all() else np.nan


@settings(max_examples=60, deadline=None)
@given(scored(), st.integers(0, 2**31))
def test_ba_matches_formula(data, seed):
    y, s, g = data
    yh = np.random.default_rng(seed).integers(0, 2, y.size)
    ours, ref = R.bias_amplification(y, yh, g), ba_reference(y, yh, g)
    assert (np.isnan(ours) and np.isnan(ref)) or ours == pytest.approx(ref, abs=1e-9)


def test_ba_binary_reduction_and_no_amplification():
    rng = np.random.default_rng(0)
    y, g = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    # perfect predictions amplify nothing
    assert R.bias_amplification(y, y, g) == 0.0
    yh = rng.integers(0, 2, 500)
    half = 0.5 * sum(np.sign(y[g == a].mean() - y.mean()) * (yh[g == a].mean() - y[g == a].mean())
                     for a in (0, 1))
    assert R.bias_amplification(y, yh, g) == pytest.approx(100 * half)


def kl_reference(s, y, g):
    """The reference recipe with np.histogram and scipy's gaussian_filter, one at a time."""
    out = []
    for c in (0, 1):
        a, b = s[(g == 0) & (y == c)], s[(g == 1) & (y == c)]
        ha = gaussian_filter(np.histogram(a, bins=50)[0], sigma=1)
        hb = gaussian_filter(np.histogram(b, bins=50)[0], sigma=1)
        pa, pb = ha / ha.sum() + 1e-6, hb / hb.sum() + 1e-6
        out += [np.sum(pa * np.log(pa / pb)), np.sum(pb * np.log(pb / pa))]
    return np.array(out)


def test_kl_reference_matches_numpy_histogram_recipe():
    rng = np.random.default_rng(4)
    n = 3000
    y, g = rng.integers(0, 2, n), rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y + 0.5 * g)))
    np.testing.assert_allclose(R.kl_divergence(s, y, g), kl_reference(s, y, g), atol=1e-12)
    # batched histogram equals np.histogram on rows with their own ranges
    idx = rng.integers(0, n, size=(5, n))
    batch = R._kl_batch(s[idx], y[idx].astype(bool), g[idx].astype(bool), "reference")
    for b in range(5):
        np.testing.assert_allclose(batch[b], kl_reference(s[idx[b]], y[idx[b]], g[idx[b]]),
                                   atol=1e-12)


def test_kl_fixed_variant_and_identical_groups():
    rng = np.random.default_rng(5)
    s = rng.random(400)
    y = np.tile([0, 1], 200)
    g = np.repeat([0, 1], 200)
    s[g == 1] = s[g == 0]  # same scores in both groups (and classes line up)
    for variant in ("reference", "fixed"):
        np.testing.assert_allclose(R.kl_divergence(s, y, g, variant=variant), 0, atol=1e-12)
    shifted = np.where(g == 1, np.clip(s * 0.5, 0, 1), s)
    assert (R.kl_divergence(shifted, y, g, variant="fixed") > 0.1).all()
    with pytest.raises(BiasLensError, match="variant"):
        R.kl_divergence(s, y, g, variant="nope")


def test_calibrated_threshold():
    s = np.array([0.9, 0.1, 0.8, 0.3, 0.7, 0.2])
    y = np.array([1, 0, 1, 0, 1, 0])
    thr = R.calibrated_threshold(s, y)
    assert thr == 0.7  # 3rd largest
    assert int((s > thr).sum()) == y.sum() - 1  # strict > predicts cp - 1
    # cp = 0: guarded, predicts no positives instead of wrapping to the minimum
    thr0 = R.calibrated_threshold(s, np.zeros(6, int))
    assert (s > thr0).sum() == 0
    with pytest.raises(DataError):
        R.calibrated_threshold(s, y[:3])


def test_bootstrap_report_centres_on_point_estimates():
    rng = np.random.default_rng(6)
    n = 2000
    y, g = rng.integers(0, 2, n), rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(2 * rng.normal(size=n) + 2 * (y - 0.5) + 0.7 * g)))
    p = s > R.calibrated_threshold(s, y)
    rep = R.ramaswamy_metrics(y, p, s, g, n_boot=60, seed=0)
    assert rep.ap == pytest.approx(rep.point["ap"], abs=2 * rep.ap_pm + 1e-9)
    assert rep.deo == pytest.approx(rep.point["deo"], abs=rep.deo_pm + 1e-9)
    assert rep.ap_pm > 0 and rep.kl > 0
    assert rep.to_dict()["n_boot"] == 60
    assert R.ramaswamy_metrics(y, p, s, g, n_boot=60, seed=0) == rep


def dba_reference(a, t, pred, direction):
    vals = []
    for i in range(a.shape[1]):
        for j in range(t.shape[1]):
            ai, tj = a[:, i], t[:, j]
            y_at = np.mean(ai * tj) > ai.mean() * tj.mean()
            if direction == "A->T":
                delta = pred[ai == 1, j].mean() - tj[ai == 1].mean()
            else:
                delta = pred[tj == 1, i].mean() - ai[tj == 1].mean()
            vals.append(delta if y_at else -delta)
    return np.mean(vals)


@pytest.mark.parametrize("direction", ["A->T", "T->A"])
def test_directional_ba_matches_formula(direction):
    rng = np.random.default_rng(7)
    n = 300
    a = rng.integers(0, 2, (n, 2))
    t = (rng.random((n, 3)) < 0.3 + 0.4 * a[:, :1]).astype(int)
    pred_shape = t.shape if direction == "A->T" else a.shape
    pred = rng.integers(0, 2, pred_shape)
    res = R.directional_bias_amplification(a, t, pred, direction=direction, n_boot=50)
    assert res.value == pytest.approx(dba_reference(a, t, pred, direction), abs=1e-12)
    assert res.ci[0] <= res.ci[1]
    # predictions equal to the truth amplify nothing
    same = t if direction == "A->T" else a
    assert R.directional_bias_amplification(a, t, same, direction=direction).value == 0


def test_directional_ba_amplified_correlation_is_positive():
    rng = np.random.default_rng(8)
    n = 2000
    a = rng.integers(0, 2, n)
    t = (rng.random(n) < np.where(a == 1, 0.7, 0.3)).astype(int)
    t_hat = a.copy()  # the model predicts the task from the attribute alone: amplified
    assert R.directional_bias_amplification(a, t, t_hat).value > 0.1
    with pytest.raises(DataError, match="predictions"):
        R.directional_bias_amplification(a, t, np.stack([t, t], 1))


# ---------------------------------------------------------------- identities (clusters)
@settings(max_examples=25, deadline=None)
@given(st.integers(5, 50), st.integers(0, 2**31 - 1), st.sampled_from(["reference", "fixed"]))
def test_weighted_resamples_equal_index_resamples(n, seed, variant):
    """The clustered (weighted) forms of AP, KL and the count tables give, on one row per
    identity, the index-resampling numbers: same draws, same statistics."""
    rng = np.random.default_rng(seed)
    y, g = rng.random(n) < 0.5, rng.random(n) < 0.5
    s = np.round(rng.random(n), 1)                      # ties, as real scores have
    yh = s > 0.5
    a = R.ramaswamy_metrics(y, yh, s, g, n_boot=40, seed=seed, kl_variant=variant)
    b = R.ramaswamy_metrics(y, yh, s, g, n_boot=40, seed=seed, kl_variant=variant,
                            clusters=np.arange(n))
    for k in ("ap", "ap_pm", "deo", "deo_pm", "ba", "ba_pm", "kl", "kl_pm"):
        assert getattr(b, k) == pytest.approx(getattr(a, k), abs=1e-9, nan_ok=True)
    w = np.random.default_rng(seed).integers(0, 3, (4, n)).astype(float)
    idx = np.stack([np.repeat(np.arange(n), wi.astype(int)) for wi in w])  \
        if len({int(v) for v in w.sum(1)}) == 1 else None
    if idx is not None:                                 # equal-length resamples only
        np.testing.assert_allclose(R._ap_weighted(y, s, w), R._ap_batch(y[idx], s[idx]),
                                   atol=1e-12)


@pytest.mark.parametrize("direction", ["A->T", "T->A"])
def test_directional_ba_clustered(direction):
    rng = np.random.default_rng(0)
    n = 200
    a, t, p = (rng.random((n, 2)) < 0.5 for _ in range(3))
    rows = R.directional_bias_amplification(a, t, p, direction=direction, n_boot=60)
    clus = R.directional_bias_amplification(a, t, p, direction=direction, n_boot=60,
                                            clusters=np.arange(n))
    np.testing.assert_allclose(clus.ci, rows.ci, atol=1e-12)
    assert clus.to_dict()["resampling"]["unit"] == "identities"
    # 10 photos of each of 20 people, identical labels per person: much wider
    ids = np.repeat(np.arange(20), 10)
    a, t, p = a[ids * 10], t[ids * 10], p[ids * 10]
    r2 = R.directional_bias_amplification(a, t, p, direction=direction, n_boot=200)
    c2 = R.directional_bias_amplification(a, t, p, direction=direction, n_boot=200,
                                          clusters=ids)
    assert np.diff(c2.ci)[0] > 2 * np.diff(r2.ci)[0]
