"""Per-attribute classifier metrics and the head check, against sklearn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from biaslens.audit.classifier import (
    check_heads,
    classifier_metrics,
    opposite_name,
    weighted_auc,
)


def _data(n=400, a=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random((n, a)) < np.linspace(0.2, 0.6, a)
    z = np.round(rng.normal(size=(n, a)) + 1.5 * y, 1)          # rounded: many ties
    return y, z


def test_point_metrics_equal_sklearn():
    y, z = _data()
    m = classifier_metrics(y, z, list("abcd"), n_boot=0)
    for j in range(4):
        assert m.auc[j] == pytest.approx(roc_auc_score(y[:, j], z[:, j]), abs=1e-12)
        assert m.balanced_accuracy[j] == pytest.approx(
            balanced_accuracy_score(y[:, j], z[:, j] > 0), abs=1e-12)
        assert m.accuracy[j] == pytest.approx(np.mean((z[:, j] > 0) == y[:, j]))
        assert m.predicted_rate[j] - m.true_rate[j] == pytest.approx(m.rate_difference[j])
    assert np.isnan(m.auc_ci).all()                              # no bootstrap asked


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_weighted_auc_is_the_auc_of_repeated_rows(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    y = rng.random((n, 3)) < 0.5
    z = rng.integers(0, 4, (n, 3)).astype(float)                # heavy ties
    w = rng.integers(0, 4, n)
    rows = np.repeat(np.arange(n), w)
    got = weighted_auc(y, z, w[None].astype(float))[0]
    for j in range(3):
        yr = y[rows, j]
        if yr.all() or not yr.any():
            assert np.isnan(got[j])
        else:
            assert got[j] == pytest.approx(roc_auc_score(yr, z[rows, j]), abs=1e-12)


def test_bootstrap_cis_cover_the_estimate_and_follow_the_seed():
    y, z = _data(n=300)
    m = classifier_metrics(y, z, list("abcd"), n_boot=200, seed=1)
    for name in ("auc", "balanced_accuracy", "rate_difference", "accuracy", "true_rate"):
        ci, v = getattr(m, f"{name}_ci"), getattr(m, name)
        assert (ci[0] <= v + 1e-12).all() and (v <= ci[1] + 1e-12).all(), name
    again = classifier_metrics(y, z, list("abcd"), n_boot=200, seed=1)
    np.testing.assert_array_equal(m.auc_ci, again.auc_ci)
    wider = classifier_metrics(y[:60], z[:60], list("abcd"), n_boot=200, seed=1)
    assert (np.diff(wider.auc_ci, axis=0) > np.diff(m.auc_ci, axis=0)).all()


def test_heads_inverted_chance_and_ok_are_named():
    rng = np.random.default_rng(0)
    n = 500
    y = rng.random((n, 3)) < 0.4
    z = np.stack([2 * y[:, 0] - 1 + rng.normal(0, 0.5, n),      # good
                  -(2 * y[:, 1] - 1) + rng.normal(0, 0.5, n),   # inverted ("Female")
                  np.zeros(n)], axis=1)                          # constant: chance
    heads = check_heads(classifier_metrics(y, z, ["Smiling", "Male", "Young"], n_boot=100))
    status = {h.attribute: h.status for h in heads}
    assert status == {"Smiling": "ok", "Male": "inverted", "Young": "chance"}
    msg = heads[1].message
    assert "Male" in msg and "--attribute-names" in msg and "Female" in msg


def test_one_class_column_is_untested_and_json_is_strict():
    import json

    y = np.zeros((10, 1), bool)
    m = classifier_metrics(y, np.linspace(-1, 1, 10)[:, None], ["Bald"], n_boot=20)
    assert check_heads(m)[0].status == "untested"
    json.dumps(m.to_dict(), allow_nan=False)


def test_opposite_names():
    assert [opposite_name(n) for n in ("Male", "Female", "-Bald", "Bald", "No_Beard")] == \
        ["Female", "Male", "Bald", "-Bald", "Beard"]


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="must both be"):
        classifier_metrics(np.zeros((3, 2), bool), np.zeros((3, 1)), ["a", "b"])
