"""Named fairness metrics against fairlearn (oracle), wrapper == frame, and the report."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairlearn.metrics as flm
from biaslens.audit import fairness as F
from biaslens.audit.frame import GroupFrame
from biaslens.errors import BiasLensError

NAMES = ["demographic_parity_difference", "demographic_parity_ratio",
         "equal_opportunity_difference", "equal_opportunity_ratio",
         "equalized_odds_difference", "equalized_odds_ratio"]


def same(a, b, tol=1e-9):
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    return abs(a - b) <= tol


@st.composite
def problems(draw):
    n = draw(st.integers(1, 30))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    k = draw(st.integers(1, 2))
    sf = {f"s{j}": np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
          for j in range(k)}
    w = (np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n)))
         if draw(st.booleans()) else None)
    return np.array(draw(bits)), np.array(draw(bits)), sf, w


@settings(max_examples=40, deadline=None)
@given(problems(), st.sampled_from(["between_groups", "to_overall"]),
       st.sampled_from(["worst_case", "mean"]))
def test_named_metrics_match_fairlearn(problem, method, agg):
    y, p, sf, w = problem
    for name in NAMES:
        kw = {"agg": agg} if name.startswith("equalized_odds") else {}
        ours = getattr(F, name)(y, p, sensitive_features=sf, method=method, sample_weight=w,
                                **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(flm, name)(y, p, sensitive_features=pd.DataFrame(sf), method=method,
                                     sample_weight=w, **kw)
        assert same(ours, float(ref)), (name, ours, ref)


def test_no_positive_group_and_doc_example():
    # TPR by group {a: .5, b: 1, c: 0 (no positives)} → EOpp difference 1.0 (ALGORITHMS §5)
    y = [1, 1, 1, 0, 0]
    p = [1, 0, 1, 1, 0]
    g = ["a", "a", "b", "c", "c"]
    assert F.equal_opportunity_difference(y, p, sensitive_features=g) == 1.0
    assert F.equal_opportunity_ratio(y, p, sensitive_features=g) == 0.0


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_wrappers_equal_frame_and_report(method):
    rng = np.random.default_rng(0)
    n = 500
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    sf = {"Male": rng.integers(0, 2, n), "skin_type": rng.integers(0, 2, n)}
    w = rng.random(n) + 0.1
    frame = GroupFrame(y, p, sensitive_features=sf, sample_weight=w)
    d, r = frame.difference(method), frame.ratio(method)
    kw = dict(sensitive_features=sf, method=method, sample_weight=w)
    assert F.demographic_parity_difference(y, p, **kw) == d["selection_rate"]
    assert F.demographic_parity_ratio(y, p, **kw) == r["selection_rate"]
    assert F.equal_opportunity_difference(y, p, **kw) == d["true_positive_rate"]
    assert F.equal_opportunity_ratio(y, p, **kw) == r["true_positive_rate"]
    assert F.equalized_odds_difference(y, p, **kw) == max(d["true_positive_rate"],
                                                          d["false_positive_rate"])
    assert F.equalized_odds_ratio(y, p, **kw, agg="mean") == pytest.approx(
        (r["true_positive_rate"] + r["false_positive_rate"]) / 2)
    rep = F.fairness_report(y, p, sensitive_features=sf, sample_weight=w, n_boot=50)
    disp = rep.disparities[method]
    for name in NAMES:
        v = disp[name]["value"]
        assert v == pytest.approx(getattr(F, name)(y, p, **kw), abs=1e-12)
        lo, hi = disp[name]["ci"]
        assert lo <= hi
    assert rep.groups == frame.groups
    assert rep.by_group["selection_rate"] == frame.by_group["selection_rate"].tolist()


def test_report_json_and_ramaswamy_section():
    rng = np.random.default_rng(1)
    n = 300
    g = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    s = np.clip(0.5 * y + 0.3 * rng.random(n) + 0.1 * g, 0, 1)
    p = (s > 0.5).astype(int)
    rep = F.fairness_report(y, p, sensitive_features={"Male": g}, y_score=s, n_boot=40, seed=2)
    d = rep.to_dict()
    json.dumps(d)  # JSON-able
    assert d["ramaswamy"] is not None
    assert d["ramaswamy"]["deo"] >= 0
    eopp = rep.disparities["between_groups"]["equal_opportunity_difference"]["value"]
    assert rep.ramaswamy.point["deo"] == pytest.approx(100 * eopp)
    # three groups: Ramaswamy metrics skipped with a note, not an error
    rep3 = F.fairness_report(y, p, sensitive_features=rng.integers(0, 3, n), y_score=s,
                             n_boot=0)
    assert rep3.ramaswamy is None and "skipped" in rep3.notes[0]
    assert np.isnan(rep3.overall_ci["accuracy"][0])


def test_report_is_seeded():
    rng = np.random.default_rng(3)
    y, p, g = (rng.integers(0, 2, 200) for _ in range(3))
    a = F.fairness_report(y, p, sensitive_features=g, n_boot=30, seed=5).to_dict()
    b = F.fairness_report(y, p, sensitive_features=g, n_boot=30, seed=5).to_dict()
    c = F.fairness_report(y, p, sensitive_features=g, n_boot=30, seed=6).to_dict()
    assert a == b and a != c


def test_bad_agg():
    with pytest.raises(BiasLensError, match="agg"):
        F.equalized_odds_difference([0, 1], [0, 1], sensitive_features=[0, 1], agg="max")


def test_one_predicted_class_is_not_read_as_fair():
    y = np.array([0, 1] * 20)
    s = np.array([0] * 20 + [1] * 20)
    r = F.fairness_report(y, np.ones(40, int), sensitive_features=s, n_boot=0)
    dp = r.disparities["between_groups"]["demographic_parity_difference"]["value"]
    assert dp == 0.0                                   # equal by construction ...
    assert r.verdict.startswith("the classifier predicts 1 for all 40 rows")
    assert r.notes[0] == r.verdict and r.to_dict()["verdict"] == r.verdict
    one_true = F.fairness_report(np.ones(40, int), y, sensitive_features=s, n_boot=0)
    assert "y_true holds one class (1)" in one_true.verdict and "FPR" in one_true.verdict
    assert F.fairness_report(y, y[::-1], sensitive_features=s, n_boot=0).verdict is None


# ---------------------------------------------------------------- identities (clusters)
def _clustered_predictions(n_people=60, per=30, seed=0):
    """Predictions with a person effect: the classifier is right or wrong about a person
    in most of their photos (as a real classifier is)."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_people), per)
    g = (rng.random(n_people) < 0.5)[ids]
    y = rng.random(n_people * per) < rng.beta(0.7, 0.7, n_people)[ids]
    flip = rng.random(n_people * per) < rng.beta(0.5, 2.0, n_people)[ids]
    yh = y ^ flip
    score = np.clip(np.where(yh, 0.7, 0.3) + rng.normal(0, 0.1, y.size), 0, 1)
    return y, yh, score, g, ids


@settings(max_examples=15, deadline=None)
@given(st.integers(10, 60), st.integers(0, 2**31 - 1))
def test_one_row_per_identity_equals_the_row_bootstrap(n, seed):
    """Same draws: the clustered path uses the weighted-row path's rng.integers calls."""
    rng = np.random.default_rng(seed)
    y, yh, g = rng.random(n) < 0.5, rng.random(n) < 0.5, rng.random(n) < 0.5
    s = rng.random(n)
    rows = F.fairness_report(y, yh, sensitive_features=g, y_score=s, n_boot=40, seed=seed,
                             sample_weight=np.ones(n))
    clus = F.fairness_report(y, yh, sensitive_features=g, y_score=s, n_boot=40, seed=seed,
                             clusters=np.arange(n) * 3 + 11)
    for method in F.METHODS:
        for name in F.DISPARITIES:
            np.testing.assert_allclose(clus.disparities[method][name]["ci"],
                                       rows.disparities[method][name]["ci"], atol=1e-12)
    np.testing.assert_allclose(clus.by_group_ci["selection_rate"],
                               rows.by_group_ci["selection_rate"], atol=1e-12)
    assert clus.resampling["unit"] == "identities" and rows.resampling["unit"] == "images"


def test_identities_widen_the_fairness_intervals():
    y, yh, s, g, ids = _clustered_predictions()
    rows = F.fairness_report(y, yh, sensitive_features=g, y_score=s, n_boot=300)
    clus = F.fairness_report(y, yh, sensitive_features=g, y_score=s, n_boot=300, clusters=ids)
    width = lambda r, m: np.diff(r.disparities["between_groups"][m]["ci"])[0]  # noqa: E731
    for m in ("demographic_parity_difference", "equalized_odds_difference"):
        assert width(clus, m) > 1.5 * width(rows, m)
        assert clus.disparities["between_groups"][m]["value"] == \
            rows.disparities["between_groups"][m]["value"]
    assert clus.ramaswamy.deo_pm > 1.5 * rows.ramaswamy.deo_pm
    assert clus.ramaswamy.resampling["n_units"] == 60
    d = json.loads(json.dumps(clus.to_dict(), allow_nan=False))
    assert d["resampling"]["text"] == "bootstrap over 60 identities (1,800 images)"
    assert d["ramaswamy"]["resampling"]["unit"] == "identities"


def test_a_group_without_positives_is_counted_and_noted():
    y = np.array([0] * 6 + [1, 0] * 6)
    yh = np.array([0] * 6 + [1, 1] * 6)
    g = np.array([0] * 6 + [1] * 12)
    r = F.fairness_report(y, yh, sensitive_features=g, n_boot=0)
    assert r.positives == [0, 6] and r.negatives == [6, 6]
    assert any("no positive rows, so the true-positive rate" in n for n in r.notes)
