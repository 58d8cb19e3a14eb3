"""Tests for the counterfactual audit with hand-built conditional "VAEs"."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from biaslens.audit.counterfactual import (VARIANTS, CounterfactualOptions,
                                           counterfactual_audit)
from biaslens.errors import BiasLensError, UnknownNameError

torch.set_num_threads(1)
NAMES = ["Male", "Heavy_Makeup", "Young"]


class PixelClassifier(torch.nn.Module):
    """Logit k = 10 · channel-k pixel (0, 0)."""

    attribute_names = NAMES

    def forward(self, x):
        return 10 * x[:, :, 0, 0]


class _CVAE(torch.nn.Module):
    condition_names = ("Male",)

    def encode(self, x, c):
        return x.flatten(1), torch.zeros(len(x), x[0].numel())

    def decode(self, z, c):
        return z.view(-1, 3, 4, 4).clone()


class IgnoresCondition(_CVAE):
    """The decoder ignores the condition: nothing can flip."""


class DecoderCondition(_CVAE):
    """Writes the condition into the Male pixel and adds makeup (+0.5) when c = 0."""

    def decode(self, z, c):
        x = z.view(-1, 3, 4, 4).clone()
        x[:, 0, 0, 0] = (2 * c[:, 0] - 1).clamp(-1, 1)
        x[:, 1, 0, 0] = (0.5 * (1 - 2 * c[:, 0])).clamp(-0.5, 0.5)
        return x


class EncoderCondition(_CVAE):
    """Routes the condition through z at the encoder; the decoder ignores c."""

    def encode(self, x, c):
        z = x.clone()
        z[:, 0, 0, 0] = 2 * c[:, 0] - 1
        return z.flatten(1), torch.zeros(len(x), x[0].numel())


def _pool(n=40, seed=0):
    rng = np.random.default_rng(seed)
    attrs = rng.random((n, 3)) < 0.5
    imgs = np.full((n, 4, 4, 3), 127, np.uint8)
    imgs[:, 0, 0, 0] = np.where(attrs[:, 0], 255, 0)   # classified Male = true Male
    imgs[:, 0, 0, 1] = np.where(attrs[:, 0], 0, 255)   # makeup exactly on the women
    imgs[:, 0, 0, 2] = np.where(attrs[:, 2], 255, 0)
    return imgs, attrs


def test_decoder_that_ignores_the_condition_flips_nothing():
    imgs, attrs = _pool()
    res = counterfactual_audit(IgnoresCondition(), PixelClassifier(), imgs, attrs, NAMES,
                               n=40, n_boot=50)
    for v in VARIANTS:
        assert res.flip_rate[v] == 0.0
        lo, hi = res.flip_rate_ci[v]
        assert lo == 0.0 and 0 < hi < 0.2
    assert res.to_target["decoder_flip"] == 0.0 and res.to_target["recon"] == 1.0
    for rows in res.shifts.values():
        assert all(s.logit_shift == 0.0 for s in rows)


def test_decoder_condition_flips_and_adds_makeup_when_female():
    imgs, attrs = _pool()
    res = counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES,
                               groups=["Male", "Young"], n=40, n_boot=100, n_show=3)
    assert res.flip_rate["recon"] == 0.0 and res.flip_rate["encoder_flip"] == 0.0
    assert res.flip_rate["decoder_flip"] == 1.0 and res.flip_rate["scaled"] == 1.0
    assert res.flip_vs_recon["decoder_flip"] == 1.0 and res.flip_vs_recon["recon"] == 0.0
    assert res.to_target["decoder_flip"] == 1.0
    np.testing.assert_allclose(res.flip_rate_by_group["decoder_flip"], 1.0)
    assert res.group_n.sum() == 40 and len(res.group_labels) == 4
    n_male = int(attrs[:, 0].sum())
    assert res.direction_n == {"Male 0→1": 40 - n_male, "Male 1→0": n_male}
    to_female = res.shifts["Male 1→0"]
    assert to_female[0].name == "Heavy_Makeup"
    assert to_female[0].logit_shift == pytest.approx(10.0)    # −0.5 → +0.5, ×10
    assert to_female[0].prevalence_shift == pytest.approx(1.0)
    assert to_female[0].ci_low <= 10.0 <= to_female[0].ci_high + 1e-9
    assert res.shifts["Male 0→1"][0].logit_shift == pytest.approx(-10.0)
    assert all(s.name != "Male" for rows in res.shifts.values() for s in rows)
    young = [s for s in to_female if s.name == "Young"][0]
    assert young.logit_shift == 0.0
    # pairs: original | recon | decoder flip | encoder flip | scaled
    assert res.pairs.shape == (3, 5, 4, 4, 3)
    np.testing.assert_array_equal(res.pairs[:, 0], imgs[np.sort(
        np.random.default_rng(0).permutation(40))[:3]])
    assert (res.pairs[:, 2, 0, 0, 0] != res.pairs[:, 1, 0, 0, 0]).all()
    json.dumps(res.to_dict(), allow_nan=False)


def test_encoder_routed_condition_shows_in_the_control():
    imgs, attrs = _pool()
    res = counterfactual_audit(EncoderCondition(), PixelClassifier(), imgs, attrs, NAMES,
                               n=20, n_boot=0)
    assert res.flip_rate["encoder_flip"] == 1.0 and res.flip_vs_recon["encoder_flip"] == 1.0
    assert res.flip_rate["decoder_flip"] == 0.0
    lo, hi = res.flip_vs_recon_ci["encoder_flip"]
    assert lo < 1.0 == hi
    assert res.n == 20


def test_determinism_and_subsampling():
    imgs, attrs = _pool(60)
    kw = dict(n=25, n_boot=50, seed=3)
    a = counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    b = counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES, **kw)
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.pairs, b.pairs)


def test_an_options_object_and_keywords_are_the_same_call():
    imgs, attrs = _pool(30)
    a = counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES,
                             CounterfactualOptions(n=20, n_boot=20, seed=1))
    b = counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES,
                             n=20, n_boot=20, seed=1)
    assert a.to_dict() == b.to_dict()
    with pytest.raises(BiasLensError, match="counterfactual_audit has no option 'scal'"):
        counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES, scal=3)


def test_clear_errors():
    imgs, attrs = _pool(10)
    with pytest.raises(UnknownNameError, match="Valid names"):
        counterfactual_audit(DecoderCondition(), PixelClassifier(), imgs, attrs, NAMES,
                             condition="Smiling")
    with pytest.raises(BiasLensError, match="not a conditional VAE"):
        counterfactual_audit(torch.nn.Identity(), PixelClassifier(), imgs, attrs, NAMES)

    class NoMale(PixelClassifier):
        attribute_names = ["Young", "Heavy_Makeup", "Smiling"]

    with pytest.raises(BiasLensError, match="no attribute 'Male'"):
        counterfactual_audit(DecoderCondition(), NoMale(), imgs, attrs, NAMES)


class AlwaysMale(_CVAE):
    """Draws every face as a man, whatever c: half right overall, never right one way."""

    def decode(self, z, c):
        x = z.view(-1, 3, 4, 4).clone()
        x[:, 0, 0, 0] = 1.0
        return x


def test_to_target_by_direction_separates_the_two_flips():
    imgs, attrs = _pool()
    res = counterfactual_audit(AlwaysMale(), PixelClassifier(), imgs, attrs, NAMES,
                               n=40, n_boot=0)
    n_male = int(attrs[:, 0].sum())
    assert res.to_target["decoder_flip"] == pytest.approx((40 - n_male) / 40)
    by_dir = res.to_target_by_direction["decoder_flip"]
    assert by_dir["Male 0→1"][0] == 1.0 and by_dir["Male 1→0"][0] == 0.0
    assert by_dir["Male 1→0"][1] == 0.0 < by_dir["Male 1→0"][2] < 0.3     # Wilson bounds
    assert res.to_target_by_direction["recon"]["Male 0→1"][0] == 0.0      # women lost
    json.dumps(res.to_dict(), allow_nan=False)
    assert res.to_dict()["variants"]["decoder_flip"]["to_target_by_direction"]["Male 0→1"][0] == 1
