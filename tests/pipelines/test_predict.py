"""pipelines.predict: the table of a classifier on a cache, and the head check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.errors import BiasLensError
from biaslens.models import build_model
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.pipelines import inputs
from biaslens.pipelines.predict import (
    check_classifier,
    matched_attributes,
    predict_cache,
    predict_table,
)


def test_matched_attributes_keep_sign_and_spelling():
    names = list(CELEBA_ATTRIBUTES)
    got = matched_attributes(["Male", "Female", "-Smiling", "smiling", "Halo"], names)
    assert got == {"Male": ("Male", 1), "Female": ("Male", -1), "-Smiling": ("Smiling", -1),
                   "smiling": ("Smiling", 1)}


def test_table_rows_labels_and_negated_truth(tiny):
    cache = inputs.open_cache(tiny["cache"])
    torch.manual_seed(0)
    clf = build_model("coursera_classifier", hidden_dim=4,
                      attribute_names=["Female", "Smiling", "Halo"])
    table = predict_table(clf, cache, split="val")
    rows = np.flatnonzero(cache.split == 1)
    np.testing.assert_array_equal(table.index, rows)
    male = cache.attrs[rows, cache.attribute_names.index("Male")]
    np.testing.assert_array_equal(table.labels["Female"], ~male)   # complement of Male
    assert set(table.labels) == set(cache.attribute_names) | {"Female"}
    assert table.logits.shape == (len(rows), 3) and "skin_type" in table.groups
    result = predict_cache(clf, cache, split="val", n_boot=0)
    assert result.metrics.attribute_names == ["Female", "Smiling"]  # Halo: no label
    assert result.to_dict()["unlabelled"] == ["Halo"]


def test_check_needs_a_shared_attribute_and_the_cache_size(tiny):
    cache = inputs.open_cache(tiny["cache"])
    clf = build_model("coursera_classifier", hidden_dim=4, attribute_names=["Halo"])
    with pytest.raises(BiasLensError, match="labels none of the classifier's outputs"):
        check_classifier(clf, cache, split="all", n_boot=0)
    big = build_model("resnet_classifier", image_size=128, widths=[4], blocks=1)
    with pytest.raises(BiasLensError, match="128×128 images"):
        predict_table(big, cache)
