import numpy as np
from hypothesis import given, settings, strategies as st
from sklearn.metrics import roc_auc_score

from biaslens.train import auto_pos_weight, evaluate_scores, rank_auc


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 40))
def test_rank_auc_matches_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 3)) < 0.5
    s = np.round(rng.normal(size=(n, 3)), 1)          # rounding creates ties
    auc = rank_auc(y, s)
    for j in range(3):
        if 0 < y[:, j].sum() < n:
            assert np.isclose(auc[j], roc_auc_score(y[:, j], s[:, j]))
        else:
            assert np.isnan(auc[j])


def test_evaluate_scores_accuracy():
    y = np.array([[1, 0], [0, 0], [1, 1]], bool)
    logits = np.array([[2.0, -1], [1.0, -1], [3.0, -2]])
    ev = evaluate_scores(y, logits, ["a", "b"]).to_dict()
    assert ev["accuracy"] == {"a": 2 / 3, "b": 2 / 3}
    assert ev["auc"]["a"] == 1.0 and ev["auc"]["b"] == 0.0


def test_auto_pos_weight_is_clipped_odds():
    attrs = np.array([[1, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 0]], bool)
    w = auto_pos_weight(attrs, clip=50)
    assert np.allclose(w, [3.0, 50.0, 1 / 3])
