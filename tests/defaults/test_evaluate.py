"""Tests for the evaluators of the default models (biaslens.defaults.evaluate), on
hand-made models whose expected numbers are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biaslens.defaults.evaluate import classifier_quality, generator_quality
from biaslens.tensors import to_model_pixels
from biaslens.train.evaluate import rank_auc


class _ColumnReader(nn.Module):
    """A 'classifier' whose logit k is the mean of channel (k mod 3) minus a threshold."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.attribute_names = names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean((2, 3))                                      # (n, 3)
        return torch.stack([m[:, k % 3] for k in range(len(self.attribute_names))], 1)


def test_classifier_quality_matches_rank_auc():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    names = ["A", "B", "C"]
    attrs = rng.random((40, 3)) < 0.5
    q = classifier_quality(_ColumnReader(names), images, attrs, names, rendered=["A", "C"])
    logits = to_model_pixels(images).mean((2, 3)).numpy()
    expected = rank_auc(attrs, logits)
    assert q["auc"] == pytest.approx(dict(zip(names, expected)))
    assert q["mean_auc_rendered"] == pytest.approx((expected[0] + expected[2]) / 2)


class _ConstantGenerator(nn.Module):
    """Generates images whose channel means are fixed: (+0.5, -0.5, +0.5)."""

    z_dim = 2

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        v = torch.tensor([0.5, -0.5, 0.5])[None, :, None, None]
        return v.expand(len(z), 3, 4, 4) + 0 * z[:, :1, None, None]


def test_generator_quality_flags_attributes_outside_the_tolerance():
    names = ["A", "B", "C"]
    train_attrs = np.array([[1, 0, 0]] * 3 + [[1, 1, 1]] * 1, dtype=bool)  # prevalence 1, .25, .25
    real = np.zeros((5, 4, 4, 3), np.uint8)
    real[..., [0, 2]] = 255                  # the reader sees (A, B, C) = (1, 0, 1) on them
    q = generator_quality(_ConstantGenerator(), _ColumnReader(names), train_attrs, real,
                          names, names, n=10, tolerance=0.05)
    gen = {a: q["prevalence"][a]["generated"] for a in names}
    assert gen == {"A": 1.0, "B": 0.0, "C": 1.0}
    assert q["misses"] == ["B", "C"] and q["n_within_tolerance"] == 1
    # like for like: the reader reads the same on real and generated faces, no misses
    assert q["misses_of_real"] == [] and q["n_within_tolerance_of_real"] == 3
    assert q["prevalence"]["B"]["difference"] == pytest.approx(-0.25)
