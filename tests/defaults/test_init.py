"""Tests for the shipped default models (the loader, biaslens.defaults): provenance,
interfaces and held-out quality smoke tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens import defaults
from biaslens.defaults.evaluate import generate
from biaslens.defaults.recipes import RECIPES
from biaslens.errors import CheckpointError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.tensors import to_model_pixels
from biaslens.train.evaluate import rank_auc

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def fresh_faces():
    """256 freshly rendered faces of the default world (a seed the training data never used)."""
    from biaslens.world import World
    from biaslens.world.render import render_faces

    sample = World.preset("celeba").sample(256, seed=12345)
    images = render_faces(sample.attrs, sample.skin_tone, seed=12345, size=64)
    return images, np.asarray(sample.attrs, dtype=bool)


@pytest.fixture(scope="module")
def classifier():
    return defaults.load_default("classifier")


# ------------------------------------------------------------------ loader

def test_every_default_is_shipped_and_small():
    assert defaults.available_defaults() == list(defaults.DEFAULT_NAMES)
    total = sum(f.stat().st_size for n in defaults.DEFAULT_NAMES
                for f in defaults.default_model_path(n).iterdir())
    assert total <= 25 * 2**20


@pytest.mark.parametrize("name", defaults.DEFAULT_NAMES)
def test_default_records_its_provenance_and_quality(name):
    info = defaults.default_info(name)
    assert info["architecture"] == defaults.DEFAULT_ARCHITECTURES[name]
    extra = info["extra"]
    # the models trained before the recipes moved into the CLI record `defaults_train`
    assert extra["command"].replace("defaults_train", "defaults train").endswith(
        f"defaults train {name} --root runs/defaults")
    assert extra["data"]["content_hash"].startswith("sha256:")
    assert extra["training"]["kwargs"] == RECIPES[name].kwargs
    assert extra["quality"], "no held-out quality recorded"


def test_unknown_and_missing_defaults_are_clear_errors(tmp_path):
    with pytest.raises(UnknownNameError, match="Valid names: generator"):
        defaults.default_model_path("gan")
    with pytest.raises(CheckpointError, match="not shipped.*defaults train vae"):
        defaults.default_model_path("vae", root=tmp_path)
    assert defaults.available_defaults(root=tmp_path) == []


# ------------------------------------------------------------------ interfaces

def test_generator_interface_and_output_range():
    gen = defaults.load_default("generator")
    out = generate(gen, 64, seed=1)
    assert out.shape == (64, 3, 64, 64) and gen.z_dim == 64
    assert out.min() >= -1 and out.max() <= 1
    assert out.std() > 0.2                                      # not a flat image
    assert out.std(0).mean() > 0.05                             # not one face for every z


def test_classifier_interface(classifier):
    assert tuple(classifier.attribute_names) == tuple(CELEBA_ATTRIBUTES)
    assert classifier(torch.zeros(2, 3, 64, 64)).shape == (2, 40)


def test_vae_and_cvae_interfaces(fresh_faces):
    x = to_model_pixels(fresh_faces[0][:8])
    vae, cvae = defaults.load_default("vae"), defaults.load_default("cvae")
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (8, vae.z_dim)
    assert vae.decode(mu).shape == x.shape
    assert tuple(cvae.condition_names) == ("Male",)
    c = torch.ones(8, 1)
    assert cvae.decode(cvae.encode(x, c)[0], c).shape == x.shape


# ------------------------------------------------------------------ quality smoke tests

@pytest.mark.parametrize("attribute", ["Eyeglasses", "Wearing_Hat", "Male", "Smiling"])
def test_classifier_separates_strongly_rendered_attributes(classifier, fresh_faces, attribute):
    images, attrs = fresh_faces
    j = CELEBA_ATTRIBUTES.index(attribute)
    y = attrs[:, j]
    assert 0 < y.sum() < len(y)
    logits = classifier(to_model_pixels(images)).detach().numpy()[:, j]
    majority = max(y.mean(), 1 - y.mean())
    assert rank_auc(y, logits) > 0.9
    assert ((logits > 0) == y).mean() >= majority


def test_vae_reconstructs_better_than_the_mean_face(fresh_faces):
    x = to_model_pixels(fresh_faces[0][:64])
    vae = defaults.load_default("vae")
    with torch.no_grad():
        recon, _, _ = vae(x)
    mse = (recon - x).pow(2).mean()
    baseline = (x - x.mean(0, keepdim=True)).pow(2).mean()
    assert mse < 0.6 * baseline


def test_cvae_decoder_flip_gives_the_requested_sex(classifier, fresh_faces):
    """The shipped CVAE honours its condition (docs/validation.md §4): decoding a face's
    latent with the other sex is read as that sex. Measured on three held-out sets of
    1,000: 0.991–0.994 overall, woman→man 0.993–0.997, man→woman 0.988–0.995. On these 256
    faces the Wilson lower bound of the overall rate and of each direction must reach 0.9
    (the issue's target; the CVAE before the 3,200-step recipe: 0.09 and 0.42)."""
    from biaslens.audit.counterfactual import counterfactual_audit
    from biaslens.stats import wilson_ci

    images, attrs = fresh_faces
    res = counterfactual_audit(defaults.load_default("cvae"), classifier, images, attrs,
                               CELEBA_ATTRIBUTES, n=len(images), n_boot=0, precision="fp32")
    assert res.to_target_ci["decoder_flip"][0] >= 0.9, res.to_target["decoder_flip"]
    for direction, (rate, low, _) in res.to_target_by_direction["decoder_flip"].items():
        assert low >= 0.9, f"{direction}: decoder flip read as requested in {rate:.2f}"
    # the control: flipping c at the encoder leaves the classified sex of the recon
    changed = res.flip_vs_recon["encoder_flip"] * res.n
    assert wilson_ci(changed, res.n)[0] <= 0.05
    assert res.to_target["scaled"] >= res.to_target["decoder_flip"]   # ×2 at least as strong


def test_generator_latent_is_linear_in_black_hair_and_not_in_smiling(classifier):
    """Ramaswamy et al.'s premise on the shipped generator (docs/mitigation.md §2.7): a
    hyperplane in z separates the classifier's reading of Black_Hair (held-out AUC 0.99 on
    5,000 z) but not of Smiling (0.63), which is why augmenting Smiling adds noisy labels.
    1,500 z to fit, 1,000 fresh pairs: the AUC's sampling error is about 0.02."""
    from biaslens.mitigate.latent_aug import LatentAugmentation

    gen = defaults.load_default("generator")
    auc = {}
    for target in ("Black_Hair", "Smiling"):
        aug = LatentAugmentation(target, "Male", n_fit=1500, n_aug=1000, seed=0)
        premise = aug.fit(gen, classifier).generate_pairs().premise
        auc[target] = premise["hyperplane_auc"]
        assert premise["holds"] == (target == "Black_Hair"), premise["message"]
    assert auc["Black_Hair"][0] > 0.93 and auc["Smiling"][0] < 0.72, auc
    assert min(auc["Black_Hair"][1], auc["Smiling"][1]) > 0.88      # Male is linear in z


def test_dbvae_tells_faces_from_nonfaces(fresh_faces):
    from biaslens.world.nonface import render_nonfaces

    faces = fresh_faces[0][:64]
    non = render_nonfaces(64, seed=12345, size=64)
    dbvae = defaults.load_default("dbvae")
    with torch.no_grad():
        logit = dbvae.classify(to_model_pixels(np.concatenate([faces, non])))[:, 0].numpy()
    y = np.r_[np.ones(64, bool), np.zeros(64, bool)]
    assert ((logit > 0) == y).mean() > 0.9
