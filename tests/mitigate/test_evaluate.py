"""Per-group detection comparison: hand-checked numbers and bootstrap properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.errors import DataError
from biaslens.mitigate.evaluate import compare_detectors


def test_hand_computed_means_accuracy_and_gap():
    groups = np.array(["a", "a", "b", "b"])
    res = compare_detectors({"m": [0.9, 0.7, 0.2, 0.6]}, groups, n_boot=50)
    d = res.detectors["m"]
    np.testing.assert_allclose(d.mean_prob, [0.8, 0.4])
    np.testing.assert_allclose(d.accuracy, [1.0, 0.5])
    assert d.gap_prob == pytest.approx(0.4)
    assert d.gap_acc == pytest.approx(0.5)
    assert (d.best, d.worst) == ("a", "b")
    out = res.to_dict()
    assert out["detectors"]["m"]["overall_accuracy"] == pytest.approx(0.75)


def test_equal_detectors_have_zero_gap_change_and_a_clear_reduction_is_found():
    rng = np.random.default_rng(0)
    groups = np.repeat(["lf", "lm", "df", "dm"], 60)
    biased = np.clip(rng.normal(0.9, 0.05, 240) - 0.4 * (groups == "df"), 0, 1)
    fair = np.clip(rng.normal(0.9, 0.05, 240), 0, 1)
    res = compare_detectors({"cnn": biased, "dbvae": fair, "same": biased}, groups,
                            n_boot=300, seed=1)
    same = res.gap_change["same - cnn"]["gap_prob"]
    assert same["difference"] == 0 and same["ci"] == [0.0, 0.0]
    assert same["verdict"] == "no significant change"
    red = res.gap_change["dbvae - cnn"]["gap_prob"]
    assert red["verdict"] == "reduced" and red["ci"][1] < 0
    assert res.detectors["cnn"].worst == "df"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(1, 12))
def test_cis_contain_the_point_estimate_and_stay_in_range(seed, G, n):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(G), n)
    p = rng.random(G * n)
    d = compare_detectors({"x": p}, groups, n_boot=100, seed=seed).detectors["x"]
    lo, hi = d.mean_prob_ci
    assert np.all(lo <= d.mean_prob + 1e-12) and np.all(d.mean_prob <= hi + 1e-12)
    assert np.all((0 <= d.accuracy_ci[0]) & (d.accuracy_ci[1] <= 1))
    assert 0 <= d.gap_prob_ci[0] <= d.gap_prob_ci[1] <= 1


def test_bad_inputs_are_data_errors():
    with pytest.raises(DataError, match="rows"):
        compare_detectors({"m": [0.1, 0.2]}, ["a"])
    with pytest.raises(DataError, match="reference"):
        compare_detectors({"m": [0.1]}, ["a"], reference="z")
    with pytest.raises(DataError, match="finite"):
        compare_detectors({"m": [np.nan]}, ["a"])
