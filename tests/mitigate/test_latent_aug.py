"""LatentAugmentation on a generator with known hyperplanes; the planted-bias pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biaslens.errors import BiasLensError
from biaslens.mitigate.latent_aug import (
    PREMISE_MIN_AUC,
    LatentAugmentation,
    LatentAugOptions,
    category_of,
    changes_by_target,
    premise_check,
    run_latent_aug,
    summarize_by_category,
)
from biaslens.mitigate.world_generator import WorldGenerator
from biaslens.names import CELEBA_ATTRIBUTES

T, G = "Wearing_Earrings", "Male"


class LinearGenerator(nn.Module):
    """z -> a flat image whose channels encode two known linear scores (cheap, exact)."""

    def __init__(self, w_t, w_g, z_dim):
        super().__init__()
        self.z_dim = z_dim
        self.register_buffer("W", torch.tensor(np.stack([w_t, w_g]), dtype=torch.float32))

    def forward(self, z):
        s = torch.tanh(z.float() @ self.W.T / 3)                 # (n, 2) in (-1, 1)
        img = torch.zeros(len(z), 3, 8, 8)
        img[:, 0] = s[:, :1, None]
        img[:, 1] = s[:, 1:, None]
        return img


class ReadOut(nn.Module):
    """Classifier protocol: logits are the encoded scores (threshold 0.5 = score 0)."""

    attribute_names = (T, G)
    image_size = 8

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return 20 * x[:, :2, 0, 0] + 0 * self.dummy


def _known(seed=0, d=6, cos=0.6):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w_t = q[:, 0]
    w_g = cos * q[:, 0] + np.sqrt(1 - cos**2) * q[:, 1]
    return w_t, w_g, LinearGenerator(w_t, w_g, d)


def test_fit_recovers_known_hyperplanes_and_pairs_follow_the_contract():
    w_t, w_g, gen = _known()
    aug = LatentAugmentation(T, G, n_fit=800, n_aug=50, seed=0).fit(gen, ReadOut())
    assert aug.w_t_ @ w_t > 0.98 and aug.w_g_ @ w_g > 0.98
    assert abs(aug.b_t_) < 0.1 and abs(aug.b_g_) < 0.1
    assert aug.cos_theta_ == pytest.approx(0.6, abs=0.05)
    p = aug.generate_pairs(40)
    # the fitted planes: target score kept, protected score negated
    np.testing.assert_allclose(p.z_prime @ aug.w_t_, p.z @ aug.w_t_, atol=1e-6)
    np.testing.assert_allclose(p.z_prime @ aug.w_g_ + aug.b_g_, -(p.z @ aug.w_g_ + aug.b_g_),
                               atol=1e-6)
    # labels: z' inherits the target label and flips the protected one
    assert (p.labels_prime[:, 0] == p.labels[:, 0]).all()
    assert (p.labels_prime[:, 1] == ~p.labels[:, 1]).all()
    # and the generator agrees: G(z') really has the other protected value (true plane)
    assert ((p.z_prime @ w_g > 0) != (p.z @ w_g > 0)).mean() > 0.9
    assert p.images.dtype == np.uint8 and p.images.shape == (40, 8, 8, 3)
    # the premise: both attributes are linear in z, and G(z') is read as labelled
    assert p.premise["holds"] and p.premise["message"] == ""
    assert min(p.premise["hyperplane_auc"]) > 0.95
    assert min(p.premise["prime_agreement"]) > 0.9
    assert p.to_dict()["premise"] == p.premise
    d = aug.to_dict()
    assert d["names"] == [T, G] and len(d["thresholds"]) == 2


class FoldedGenerator(LinearGenerator):
    """The target is |w_t·z| > 0.67: a slab, which no hyperplane in z separates."""

    def forward(self, z):
        img = super().forward(z)
        img[:, 0] = torch.where(img[:, 0].abs() > 0.22, 0.5, -0.5)
        return img


def test_premise_check_flags_a_target_that_is_not_linear_in_z():
    w_t, w_g, _ = _known(4)
    gen = FoldedGenerator(w_t, w_g, 6)
    aug = LatentAugmentation(T, G, n_fit=800, n_aug=400, seed=0).fit(gen, ReadOut())
    p = aug.generate_pairs().premise
    assert not p["holds"] and p["hyperplane_auc"][0] < 0.65    # the target: about chance
    assert p["hyperplane_auc"][1] > 0.95                       # Male stays linear
    assert T in p["message"] and f"{PREMISE_MIN_AUC}" in p["message"]


@pytest.mark.parametrize("seed", range(5))
def test_premise_check_on_scores_and_labels(seed):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((500, 2))
    y = np.stack([s[:, 0] > 0, rng.random(500) < 0.5], axis=1)     # linear vs unrelated
    p = premise_check(["a", "b"], s, y, y, y)
    assert p["hyperplane_auc"][0] == 1.0 and 0.4 < p["hyperplane_auc"][1] < 0.6
    assert p["holds"] and p["prime_agreement"] == [1.0, 1.0]
    q = premise_check(["b", "a"], s[:, ::-1], y[:, ::-1], y[:, ::-1], ~y[:, ::-1])
    assert not q["holds"] and q["prime_agreement"] == [0.0, 0.0] and "b" in q["message"]


def test_precision_is_a_checked_option():
    assert LatentAugOptions().precision == "auto"
    with pytest.raises(BiasLensError, match="precision"):
        LatentAugOptions(precision="fp16")


def test_changes_by_target_counts_the_verdicts_of_every_seed():
    def row(seed, target, verdict, auc):
        c = {"difference": -1.0, "ci": [-2.0, 1.0], "verdict": verdict}
        return {"target": target, "category": category_of(target), "seed": seed,
                "change": {"deo": c, "ba": c, "ap": c},
                "pairs": {"premise": {"hyperplane_auc": [auc, 0.9], "holds": auc >= 0.8}}}
    rows = [row(0, "Smiling", "reduced", 0.9), row(1, "Smiling", "increased", 0.7),
            row(0, "Young", "no significant change", 0.85)]
    by = changes_by_target(rows)
    assert by["Smiling"]["seeds"] == [0, 1] and by["Young"]["seeds"] == [0]
    assert (by["Smiling"]["deo"]["reduced"], by["Smiling"]["deo"]["increased"]) == (1, 1)
    assert by["Young"]["deo"]["no significant change"] == 1
    assert by["Smiling"]["hyperplane_auc"] == [0.9, 0.7]
    assert by["Smiling"]["premise_holds"] == [True, False]


def test_domain_mode_multi_protected_and_validation():
    w_t, w_g, gen = _known(1)
    dom = LatentAugmentation(T, G, n_fit=600, mode="domain", seed=1).fit(gen, ReadOut())
    assert dom.w_t_.shape == (2, 6)
    z = np.random.default_rng(0).standard_normal((10, 6))
    zc = dom.complement(z)
    np.testing.assert_allclose(zc @ dom.w_g_ + dom.b_g_, -(z @ dom.w_g_ + dom.b_g_), atol=1e-6)
    with pytest.raises(BiasLensError, match="mode"):
        LatentAugmentation(T, G, mode="nope").fit(gen, ReadOut())
    with pytest.raises(BiasLensError, match="fit"):
        LatentAugmentation(T, G).generate_pairs(2)
    with pytest.raises(BiasLensError, match="two protected"):
        LatentAugmentation(T, [G, T], mode="domain").fit(gen, ReadOut())


def test_f1_thresholds_from_validation_data():
    w_t, w_g, gen = _known(2)
    z = np.random.default_rng(3).standard_normal((200, 6))
    from biaslens.tensors import to_uint8_numpy

    imgs = to_uint8_numpy(gen(torch.tensor(z, dtype=torch.float32)))
    labels = np.stack([z @ w_t > 0, z @ w_g > 0], axis=1)
    aug = LatentAugmentation(T, G, n_fit=300).fit(gen, ReadOut(), val_images=imgs,
                                                  val_labels=labels)
    assert aug.thresholds_.shape == (2,) and np.all((aug.thresholds_ > 0) & (aug.thresholds_ < 1))
    with pytest.raises(Exception, match="val_labels"):
        LatentAugmentation(T, G, n_fit=300).fit(gen, ReadOut(), val_images=imgs,
                                                val_labels=labels[:, :1])


def test_planted_bias_pipeline_reports_a_baseline_gap_and_the_change(tmp_path):
    """Tiny end-to-end run: target tied to Male in the training world, independent in
    the test world. The baseline must show a DEO gap; the result states, with a CI,
    whether augmentation changed it (at this scale usually not significantly)."""
    torch.set_num_threads(1)
    gen = WorldGenerator(z_dim=8, attributes=(T, G), cosines={f"{T},{G}": 0.9}, seed=0)
    real = gen.sample_dataset(320, seed=1)
    test = WorldGenerator(z_dim=8, attributes=(T, G), seed=5).sample_dataset(160, seed=2)
    res = run_latent_aug(real, gen, target=T, protected=G, test=(test.images, test.attrs),
                         out=tmp_path, n_fit=200, n_aug=64, epochs=3, batch_size=32,
                         arch="standard_cnn", n_boot=60, seed=0).to_dict()
    assert res["baseline"]["deo"] > 5          # the planted shortcut shows as a DEO gap
    for m in ("deo", "ba", "ap"):
        c = res["change"][m]
        assert c["ci"][0] <= c["ci"][1]
        assert c["verdict"] in ("reduced", "increased", "no significant change")
    assert res["pairs"]["n"] == 64
    assert res["category"] == "gender-independent"
    summary = summarize_by_category([res])
    assert summary["gender-independent"]["deo"]["baseline"] == pytest.approx(
        res["baseline"]["deo"])


def test_category_mapping_covers_the_26_targets():
    from biaslens.mitigate.latent_aug import CATEGORIES

    names = [a for v in CATEGORIES.values() for a in v]
    assert len(names) == len(set(names)) == 26
    assert set(names) <= set(CELEBA_ATTRIBUTES)
    assert category_of("Male") == "other"


def test_constant_labelling_classifier_is_a_clear_error():
    class Constant(ReadOut):
        def forward(self, x):
            return torch.stack([x[:, 0, 0, 0] * 20, torch.full((len(x),), 5.0)], 1)

    _, _, gen = _known(4)
    with pytest.raises(Exception, match="same Male label"):
        LatentAugmentation(T, G, n_fit=100).fit(gen, Constant())


def test_batched_generation_and_scores_match_one_pass():
    """tensors.generate_from_latents and classifier_scores (resizing to the classifier's
    size) batch without changing a number."""
    from biaslens.mitigate.latent_aug import classifier_scores
    from biaslens.tensors import generate_from_latents

    _, _, gen = _known(5)
    z = np.random.default_rng(0).standard_normal((7, 6))
    imgs = generate_from_latents(gen, z, batch_size=3)
    assert imgs.shape == (7, 3, 8, 8) and imgs.device.type == "cpu"
    torch.testing.assert_close(imgs, gen(torch.tensor(z, dtype=torch.float32)))
    assert len(generate_from_latents(gen, z[:0])) == 0
    big = torch.nn.functional.interpolate(imgs, size=(16, 16), mode="nearest")
    s = classifier_scores(ReadOut(), big, [1, 0], batch_size=2)
    ref = torch.sigmoid(ReadOut()(imgs)[:, [1, 0]]).detach().numpy()
    np.testing.assert_allclose(s, ref, rtol=1e-5)
    assert classifier_scores(ReadOut(), big[:0], [0]).shape == (0, 1)
