"""GroupFrame against fairlearn's MetricFrame (the oracle) and hand-computed values."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairlearn.metrics as flm
from biaslens.audit.frame import GroupFrame, encode_groups
from biaslens.errors import BiasLensError, DataError, UnknownNameError

FL_METRICS = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "accuracy": __import__("sklearn.metrics", fromlist=["accuracy_score"]).accuracy_score,
    "count": flm.count,
}


def assert_close(a, b, tol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], atol=tol, rtol=0)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 40))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    y_true, y_pred = np.array(draw(bits)), np.array(draw(bits))
    k = draw(st.integers(1, 2))
    sf = {f"f{j}": np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
          for j in range(k)}
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n)))
    return y_true, y_pred, sf, w


def fairlearn_frame(y_true, y_pred, sf, w):
    params = {m: {"sample_weight": w} for m in FL_METRICS if m != "count"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return flm.MetricFrame(metrics=FL_METRICS, y_true=y_true, y_pred=y_pred,
                               sensitive_features=pd.DataFrame(sf), sample_params=params)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_frame_matches_fairlearn(problem):
    y_true, y_pred, sf, w = problem
    ours = GroupFrame(y_true, y_pred, sensitive_features=sf, sample_weight=w)
    ref = fairlearn_frame(y_true, y_pred, sf, w)
    bg = ref.by_group
    # fairlearn lists every combination of feature values (unobserved ones as NaN rows,
    # skipped by its aggregations); ours lists the observed ones, in the same order
    bg = bg[bg["count"].notna()]
    labels = ["|".join(f"f{j}={v}" for j, v in enumerate(np.atleast_1d(idx)))
              for idx in bg.index]
    assert ours.groups == labels
    for m in FL_METRICS:
        assert_close(ours.by_group[m], bg[m].to_numpy(float))
        assert_close(ours.overall[m], float(ref.overall[m]))
        assert_close(ours.group_min()[m], float(ref.group_min()[m]))
        assert_close(ours.group_max()[m], float(ref.group_max()[m]))
        for method in ("between_groups", "to_overall"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d, r = ref.difference(method=method)[m], ref.ratio(method=method)[m]
            assert_close(ours.difference(method)[m], float(d))
            assert_close(ours.ratio(method)[m], float(r))


def test_hand_computed_rates():
    # group a: y=[1,1,0] yhat=[1,0,0]; group b: y=[0,0] yhat=[1,0] (no positives → TPR 0)
    f = GroupFrame([1, 1, 0, 0, 0], [1, 0, 0, 1, 0], sensitive_features=list("aaabb"))
    assert f.groups == ["sensitive_feature_0=a", "sensitive_feature_0=b"]
    assert f.by_group["true_positive_rate"].tolist() == [0.5, 0.0]
    assert f.by_group["false_positive_rate"].tolist() == [0.0, 0.5]
    assert f.by_group["selection_rate"].tolist() == pytest.approx([1 / 3, 0.5])
    assert f.by_group["count"].tolist() == [3.0, 2.0]
    assert f.overall["accuracy"] == pytest.approx(3 / 5)
    assert f.difference()["selection_rate"] == pytest.approx(0.5 - 1 / 3)
    assert f.ratio()["selection_rate"] == pytest.approx((1 / 3) / 0.5)


def test_single_group_gives_zero_difference_and_unit_ratio():
    f = GroupFrame([1, 0, 1], [1, 1, 0], sensitive_features=[7, 7, 7])
    assert f.difference()["selection_rate"] == 0.0
    assert f.ratio()["selection_rate"] == 1.0


def test_intersections_and_labels():
    enc = encode_groups({"Male": [1, 0, 1, 1], "skin_type": [0, 0, 1, 0]})
    assert enc.labels == ["Male=0|skin_type=0", "Male=1|skin_type=0", "Male=1|skin_type=1"]
    assert enc.codes.tolist() == [1, 0, 2, 1]


def test_fast_integer_path_equals_unique():
    rng = np.random.default_rng(1)
    col = rng.integers(-5, 50, 1000)
    enc = encode_groups(col)
    uniq, inv = np.unique(col, return_inverse=True)
    assert enc.codes.tolist() == inv.tolist()
    assert [v[0] for v in enc.values] == uniq.tolist()


def test_unweighted_bootstrap_ci_brackets_and_is_seeded():
    rng = np.random.default_rng(0)
    n = 400
    y, p, g = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    a = GroupFrame(y, p, sensitive_features=g, n_boot=200, seed=3)
    b = GroupFrame(y, p, sensitive_features=g, n_boot=200, seed=3)
    lo, hi = a.by_group_ci()["selection_rate"]
    est = a.by_group["selection_rate"]
    assert np.all(lo <= est) and np.all(est <= hi) and np.all(hi - lo > 0)
    assert np.array_equal(lo, b.by_group_ci()["selection_rate"][0])
    dlo, dhi = a.difference_ci()["true_positive_rate"]
    assert dlo <= a.difference()["true_positive_rate"] <= dhi
    # multinomial resampling has the binomial spread of a rate: compare with Wilson width
    from biaslens.stats import wilson_ci
    k = (p[g == 0] == 1).sum()
    wlo, whi = wilson_ci(k, (g == 0).sum())
    assert abs((hi[0] - lo[0]) - (whi - wlo)) < 0.05


def test_weighted_bootstrap_runs_and_brackets():
    rng = np.random.default_rng(2)
    n = 200
    y, p, g = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 3, n)
    f = GroupFrame(y, p, sensitive_features=g, sample_weight=rng.random(n) + 0.5, n_boot=100)
    lo, hi = f.overall_ci()["accuracy"]
    assert lo <= f.overall["accuracy"] <= hi
    lo, hi = f.ratio_ci("to_overall")["selection_rate"]
    assert 0 <= lo <= hi <= 1


def test_errors():
    with pytest.raises(DataError, match="y_pred"):
        GroupFrame([0, 1], [0, 2], sensitive_features=[0, 1])
    with pytest.raises(DataError, match="rows"):
        GroupFrame([0, 1], [0, 1, 1], sensitive_features=[0, 1])
    with pytest.raises(DataError, match="sample_weight"):
        GroupFrame([0, 1], [0, 1], sensitive_features=[0, 1], sample_weight=[1, -1])
    with pytest.raises(UnknownNameError, match="selection_rate"):
        GroupFrame([0, 1], [0, 1], sensitive_features=[0, 1], metrics=["nope"])
    with pytest.raises(BiasLensError, match="n_boot"):
        GroupFrame([0, 1], [0, 1], sensitive_features=[0, 1]).overall_ci()
    with pytest.raises(BiasLensError, match="method"):
        GroupFrame([0, 1], [0, 1], sensitive_features=[0, 1]).difference("nope")


def test_minus_one_one_labels_equal_zero_one():
    y, p = np.array([1, -1, 1, -1]), np.array([1, 1, -1, -1])
    a = GroupFrame(y, p, sensitive_features=[0, 0, 1, 1])
    b = GroupFrame((y == 1).astype(int), (p == 1).astype(int), sensitive_features=[0, 0, 1, 1])
    assert a.to_dict() == b.to_dict()


def test_per_group_rates_get_wilson_intervals_that_never_collapse():
    """A small group whose every positive is found: the bootstrap of its TPR is always 1,
    [1, 1]; the Wilson interval of 5 / 5 is [0.57, 1]. Weighted rows keep the bootstrap."""
    from biaslens.stats import wilson_ci

    y = np.array([1] * 5 + [0] * 3 + [1, 0] * 20)
    p = np.array([1] * 5 + [0] * 3 + [1, 1] * 20)
    g = np.array([0] * 8 + [1] * 40)
    f = GroupFrame(y, p, sensitive_features=g, n_boot=200, seed=0)
    lo, hi = f.by_group_ci()["true_positive_rate"]
    wlo, whi = wilson_ci(5, 5)
    assert lo[0] == pytest.approx(wlo) and hi[0] == pytest.approx(whi) and lo[0] < 0.6
    # every metric that is a share of rows, from the counts of the confusion table
    for m, (k, n) in {"selection_rate": (5, 8), "false_positive_rate": (0, 3),
                      "accuracy": (8, 8)}.items():
        lo, hi = f.by_group_ci()[m]
        assert (lo[0], hi[0]) == pytest.approx(tuple(map(float, wilson_ci(k, n)))), m
    w = GroupFrame(y, p, sensitive_features=g, n_boot=200, seed=0, sample_weight=np.ones(48))
    assert w.by_group_ci()["true_positive_rate"][0][0] == 1.0   # the bootstrap's [1, 1]


def test_the_overall_rates_get_wilson_intervals_too():
    from biaslens.stats import wilson_ci

    y = np.array([1] * 5 + [0] * 3)
    f = GroupFrame(y, y, sensitive_features=[0, 1] * 4, n_boot=100, seed=0)
    lo, hi = f.overall_ci()["true_positive_rate"]
    assert (lo, hi) == pytest.approx(tuple(map(float, wilson_ci(5, 5))))
    assert f.overall_ci()["count"] == (8.0, 8.0)       # not a rate: the bootstrap's
