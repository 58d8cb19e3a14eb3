"""Fairness of a classifier on a cache: the one function the report and the app call."""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.audit.fairness import fairness_report
from biaslens.data.cache import load_cache
from biaslens.errors import BiasLensError
from biaslens.io import jsonable
from biaslens.models import load_checkpoint
from biaslens.pipelines.fairness import (
    cache_fairness,
    fairness_logits,
    sensitive_columns,
)


@pytest.fixture(scope="module")
def clf_cache(tiny):
    clf, _ = load_checkpoint(tiny["classifier"])
    return clf, load_cache(tiny["cache"])


def test_targets_protected_or_not_predicted_are_skipped(clf_cache):
    clf, cache = clf_cache
    out = cache_fairness(clf, cache, ["Male", "-Smiling", "Wearing_Hat", "Young"],
                         ["Male", "skin_type"], n_boot=20)
    assert [t for t, _ in out] == ["Smiling", "Young"]
    assert all(sum(r.counts) == 16 for _, r in out)  # the test split of the 160-face cache
    assert out[0][1].feature_names == ["Male", "skin_type"]


def test_given_logits_and_the_audit_by_hand_agree(clf_cache):
    clf, cache = clf_cache
    rows, z = fairness_logits(clf, cache)
    [(_, a)] = cache_fairness(clf, cache, ["Young"], ["Male"], n_boot=20, seed=1)
    [(_, b)] = cache_fairness(clf, cache, ["Young"], ["Male"], n_boot=20, seed=1,
                              logits=(rows, z))
    names = list(cache.attribute_names)
    score = 1 / (1 + np.exp(-z[:, list(clf.attribute_names).index("Young")].astype(float)))
    c = fairness_report(np.asarray(cache.attrs[rows, names.index("Young")]), score > 0.5,
                        sensitive_features=sensitive_columns(cache, ["Male"], rows),
                        y_score=score, n_boot=20, seed=1)
    assert jsonable(a.to_dict()) == jsonable(b.to_dict()) == jsonable(c.to_dict())  # NaN: None
    assert a.ramaswamy is not None  # two groups and scores: the Ramaswamy metrics too


def test_a_classifier_of_another_size_is_refused(clf_cache, monkeypatch):
    clf, cache = clf_cache
    monkeypatch.setattr(clf, "image_size", 32, raising=False)
    with pytest.raises(BiasLensError, match="32×32 images but the cache"):
        cache_fairness(clf, cache, ["Young"], ["Male"])


def test_a_cache_with_identities_resamples_people(clf_cache):
    import dataclasses

    clf, cache = clf_cache
    people = dataclasses.replace(cache, identities=np.arange(len(cache), dtype=np.int64) // 4)
    [(_, rows)] = cache_fairness(clf, cache, ["Young"], ["Male"], n_boot=30)
    [(_, clus)] = cache_fairness(clf, people, ["Young"], ["Male"], n_boot=30)
    test_rows = np.flatnonzero(cache.split == 2)
    assert rows.resampling["unit"] == "images" and rows.resampling["n_units"] == 16
    assert clus.resampling == {"unit": "identities",
                               "n_units": len(np.unique(test_rows // 4)), "n_rows": 16,
                               "text": clus.resampling["text"]}
    assert clus.ramaswamy is None or clus.ramaswamy.resampling["unit"] == "identities"
    assert clus.overall == rows.overall                      # the estimates do not change


def test_predictions_csv_with_an_identity_column(tmp_path):
    from biaslens.pipelines.fairness import predictions_fairness

    rng = np.random.default_rng(0)
    n = 120
    person = np.arange(n) // 6
    y, yh, g = rng.random(n) < 0.5, rng.random(n) < 0.5, rng.random(n) < 0.5
    path = tmp_path / "preds.csv"
    path.write_text("y,y_hat,Male,person\n" + "".join(
        f"{int(a)},{int(b)},{int(c)},p{d}\n" for a, b, c, d in zip(y, yh, g, person)))
    rows = predictions_fairness(path, y_true="y", y_pred="y_hat", sensitive=["Male"], n_boot=50)
    clus = predictions_fairness(path, y_true="y", y_pred="y_hat", sensitive=["Male"],
                                n_boot=50, identity="person")
    assert rows.resampling["unit"] == "images"
    assert clus.resampling["text"] == "bootstrap over 20 identities (120 images)"
    with pytest.raises(Exception, match="'who'"):
        predictions_fairness(path, y_true="y", y_pred="y_hat", sensitive=["Male"],
                             identity="who")
