"""Tests for the reconstruction audit with hand-built "VAEs" of known behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from biaslens.audit.reconstruct import ReconstructOptions, balanced_sample, reconstruct_audit
from biaslens.errors import BiasLensError, DataError, UnknownNameError

torch.set_num_threads(1)
NAMES = ["Male", "Young"]


class PixelClassifier(torch.nn.Module):
    """Male logit = 10 · channel-0 pixel (0, 0); Young is noise-free constant."""

    attribute_names = NAMES

    def forward(self, x):
        return torch.stack([10 * x[:, 0, 0, 0], torch.ones(len(x))], 1)


class GroupVAE(torch.nn.Module):
    """Identity, except: Male images get +0.2 on channel 2 (error 0.1 in [0, 1] units on a
    third of the values), darker-skin images get their Male pixel negated (label lost)."""

    def encode(self, x):
        return x.flatten(1), torch.zeros(len(x), x[0].numel())

    def decode(self, z):
        x = z.view(-1, 3, 4, 4)
        out = x.clone()
        male, dark = x[:, 0, 0, 0] > 0, x[:, 1, 0, 0] > 0
        out[male, 2] += 0.2
        out[dark, 0, 0, 0] = -x[dark, 0, 0, 0]
        return out


def _pool(n=80, seed=0):
    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.5
    skin = (rng.random(n) < 0.4).astype(np.int64)
    imgs = np.full((n, 4, 4, 3), 127, np.uint8)  # 127 -> -0.0039, away from the clip
    imgs[:, 0, 0, 0] = np.where(male, 255, 0)
    imgs[:, 0, 0, 1] = np.where(skin == 1, 255, 0)
    imgs[:, :, :, 2] = 0
    attrs = np.column_stack([male, rng.random(n) < 0.5])
    return imgs, attrs, skin


def test_known_worst_group_errors_and_preservation():
    imgs, attrs, skin = _pool()
    res = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES,
                            groups=["Male", "skin_type"], group_columns={"skin_type": skin},
                            per_group=5, n_boot=200)
    assert res.group_labels == ["Male=0,skin_type=0", "Male=0,skin_type=1",
                                "Male=1,skin_type=0", "Male=1,skin_type=1"]
    assert res.n.tolist() == [5, 5, 5, 5]
    flip = 1.0 / 48          # one of 48 values off by 1 in [0, 1] units
    shift = 16 * 0.1 ** 2 / 48
    np.testing.assert_allclose(res.mse, [0, flip, shift, flip + shift], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(res.l1, [0, 1 / 48, 16 * 0.1 / 48, 1 / 48 + 1.6 / 48],
                               rtol=1e-5, atol=1e-9)
    assert res.worst_group == "Male=1,skin_type=1"
    assert list(res.preserved) == ["Male"]  # skin_type is not a classifier attribute
    np.testing.assert_allclose(res.preserved["Male"], [1, 0, 1, 0])
    np.testing.assert_allclose(res.original_accuracy["Male"], 1.0)
    lo, hi = res.preserved_ci["Male"]
    assert np.all(lo <= res.preserved["Male"]) and np.all(res.preserved["Male"] <= hi)
    assert np.all(res.mse_ci[0] <= res.mse + 1e-12) and np.all(res.mse <= res.mse_ci[1] + 1e-12)
    assert res.mse_gap == pytest.approx(flip + shift, rel=1e-5)
    assert res.examples.shape == (4, 2, 4, 4, 4, 3)
    np.testing.assert_array_equal(res.examples[0, 0], res.examples[0, 1])  # identity group
    data = res.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["worst_group"] == "Male=1,skin_type=1" and data["by_group"][1]["n"] == 5


def test_balanced_sample_caps_excludes_negatives_and_lists_missing():
    cols = np.array([[0, 0]] * 10 + [[0, 1]] * 2 + [[1, 0]] * 7 + [[1, -1]] * 5)
    cells, picked, missing = balanced_sample(cols, 4, seed=1)
    assert cells == [(0, 0), (0, 1), (1, 0)]
    assert [len(p) for p in picked] == [4, 2, 4]
    assert missing == [(1, 1)]
    for c, p in zip(cells, picked):
        assert (cols[p] == c).all()
    again = balanced_sample(cols, 4, seed=1)[1]
    other = balanced_sample(cols, 4, seed=2)[1]
    assert all(np.array_equal(a, b) for a, b in zip(picked, again))
    assert not all(np.array_equal(a, b) for a, b in zip(picked, other))


def test_small_group_and_no_classifier():
    imgs, attrs, skin = _pool(40)
    res = reconstruct_audit(GroupVAE(), None, imgs, attrs, NAMES, groups=["Male"],
                            per_group=1000, n_boot=0, n_show=2)
    assert res.n.sum() == 40 and res.preserved == {}
    assert np.isnan(res.mse_ci[0]).all()


def test_conditional_vae_gets_the_true_condition():
    class CondVAE(torch.nn.Module):
        condition_names = ("Male",)

        def encode(self, x, c):
            return x.flatten(1), x.flatten(1)

        def decode(self, z, c):  # writes the condition into the Male pixel
            x = z.view(-1, 3, 4, 4).clone()
            x[:, 0, 0, 0] = 2 * c[:, 0] - 1
            return x

    imgs, attrs, _ = _pool(30)
    res = reconstruct_audit(CondVAE(), PixelClassifier(), imgs, attrs, NAMES,
                            groups=["Male"], per_group=10, n_boot=0)
    np.testing.assert_allclose(res.preserved["Male"], 1.0)
    assert res.settings["conditional"]


def test_determinism():
    imgs, attrs, skin = _pool()
    kw = dict(groups=["Male", "skin_type"], group_columns={"skin_type": skin}, per_group=6,
              n_boot=50, seed=4)
    a = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    b = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    assert a.to_dict() == b.to_dict()


def test_an_options_object_and_keywords_are_the_same_call():
    imgs, attrs, skin = _pool()
    kw = dict(groups=["Male", "skin_type"], per_group=6, n_boot=20, seed=4)
    a = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES,
                          ReconstructOptions(**kw), group_columns={"skin_type": skin})
    b = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES,
                          group_columns={"skin_type": skin}, **kw)
    assert a.to_dict() == b.to_dict()
    with pytest.raises(BiasLensError, match="did you mean 'per_group'"):
        reconstruct_audit(GroupVAE(), None, imgs, attrs, NAMES, per_grup=3)


def test_clear_errors():
    imgs, attrs, skin = _pool(20)
    with pytest.raises(UnknownNameError, match="skin_type"):
        reconstruct_audit(GroupVAE(), None, imgs, attrs, NAMES, groups=["skin_typ"],
                          group_columns={"skin_type": skin})
    with pytest.raises(DataError, match="attrs"):
        reconstruct_audit(GroupVAE(), None, imgs, attrs[:5], NAMES, groups=["Male"])
    with pytest.raises(BiasLensError, match="not a VAE"):
        reconstruct_audit(torch.nn.Identity(), None, imgs, attrs, NAMES, groups=["Male"])


def test_gaps_are_decided_for_a_real_difference_and_not_for_none():
    imgs, attrs, skin = _pool(400, seed=1)
    kw = dict(groups=["Male", "skin_type"], group_columns={"skin_type": skin}, per_group=40,
              n_boot=300)
    res = reconstruct_audit(GroupVAE(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    # darker-skinned faces lose their Male label: preserved 1 vs 0 in every pair of groups
    assert res.preservation_gap["Male"] == 1.0
    assert res.preservation_gap_groups["Male"][1].endswith("skin_type=1")
    lo, hi = res.preservation_gap_ci["Male"]
    assert 0 < lo < 1.0 <= hi + 1e-12
    assert res.mse_gap_ci[0] > 0 and res.best_group == "Male=0,skin_type=0"
    assert res.decided == {"mse": True, "Male": True}
    assert res.settings["gap_level_per_pair"] == pytest.approx(1 - 0.05 / 6)

    class Identity(torch.nn.Module):
        def encode(self, x):
            return x.flatten(1), torch.zeros(len(x), x[0].numel())

        def decode(self, z):
            return z.view(-1, 3, 4, 4)

    same = reconstruct_audit(Identity(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    assert same.preservation_gap["Male"] == 0.0 and same.mse_gap == 0.0
    assert same.decided == {"mse": False, "Male": False}
    data = same.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["decided"] == {"mse": False, "Male": False}
