"""GAN training (train/gan.py): exact resume, collapse guard, losses and inits, EMA."""

import json

import pytest
import torch

from biaslens.errors import BiasLensError
from biaslens.train import TrainingDiverged, train_gan

from .conftest import TINY_D, TINY_G, latest_weights, train_tiny_gan


def test_gan_resume_is_exact(tmp_path, data64):
    train_tiny_gan(data64, tmp_path / "full", 6)
    train_tiny_gan(data64, tmp_path / "half", 3)
    r = train_tiny_gan(data64, tmp_path / "half", 6, resume=True)
    assert r.status == "completed" and r.step == 6
    for name in ("generator", "discriminator"):
        a, b = latest_weights(tmp_path / "full", name), latest_weights(tmp_path / "half", name)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)
    # the training did change the weights
    train_tiny_gan(data64, tmp_path / "one", 1)
    g1 = latest_weights(tmp_path / "one", "generator")
    g6 = latest_weights(tmp_path / "full", "generator")
    assert any(not torch.equal(g1[k], g6[k]) for k in g1)
    lines = [json.loads(x) for x in (tmp_path / "half" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]
    cfg = json.loads((tmp_path / "full" / "config.json").read_text())
    assert cfg["command"] == "test" and cfg["batch_size"] == 8 and cfg["family"] == "gan"


def test_gan_collapse_guard(tmp_path, data64):
    # a generator whose output cannot vary: zero weights in the last layer (tanh(0) = 0)
    with pytest.raises(TrainingDiverged, match="collapse"):
        train_gan(data64, out=tmp_path / "k", steps=20, batch_size=8, lr=0.0,
                  generator_config=TINY_G, discriminator_config=TINY_D, log_every=1,
                  sample_every=0, checkpoint_every=0, device="cpu", collapse_std=10.0,
                  collapse_patience=2)


def test_gan_losses_and_inits_are_options(tmp_path, data64):
    # The course's pair (BCE, BatchNorm D, PyTorch init) still trains through the engine.
    r = train_gan(data64, out=tmp_path / "course", steps=2, batch_size=8,
                  generator_config=TINY_G, discriminator="coursera_dcgan_discriminator",
                  discriminator_config={"hidden_dim": 4}, loss="bce", init="default",
                  log_every=1, sample_every=0, checkpoint_every=0, device="cpu")
    assert r.status == "completed" and r.config["loss"] == "bce"
    # hinge: D's loss is 2 when D outputs 0 everywhere, and lr_d is recorded
    r = train_tiny_gan(data64, tmp_path / "hinge", 1, lr_d=1e-3)
    assert r.config["lr_d"] == 1e-3 and r.config["init"] == "dcgan"
    for bad in ({"loss": "wgan"}, {"init": "xavier"}):
        with pytest.raises(BiasLensError, match="must be"):
            train_tiny_gan(data64, tmp_path / "bad", 1, **bad)


def test_ema_beta_half_life_and_rampup():
    from biaslens.train.gan import ema_beta

    # after ema_kimg thousand images the old average weighs one half
    b = ema_beta(10_000, 64, ema_kimg=10.0, ema_rampup=None)
    assert b ** (10_000 / 64) == pytest.approx(0.5)
    # early on the half-life is capped at 5 % of the images seen
    assert ema_beta(10, 64, 10.0, 0.05) == pytest.approx(0.5 ** (64 / (10 * 64 * 0.05)))
    assert ema_beta(10, 64, 10.0, 0.05) < ema_beta(1000, 64, 10.0, 0.05) < b


def test_update_ema_lerps_parameters_and_copies_buffers():
    from biaslens.models import build_model
    from biaslens.train.gan import update_ema

    torch.manual_seed(0)
    a = build_model("coursera_dcgan_generator", hidden_dim=4)
    torch.manual_seed(1)
    m = build_model("coursera_dcgan_generator", hidden_dim=4)
    for b in m.buffers():
        if b.dtype.is_floating_point:
            b.add_(1.0)
    before = [p.clone() for p in a.parameters()]
    update_ema(a, m, 0.75)
    for p0, pe, pm in zip(before, a.parameters(), m.parameters()):
        torch.testing.assert_close(pe, 0.75 * p0 + 0.25 * pm)
    assert all(torch.equal(x, y) for x, y in zip(a.buffers(), m.buffers()))


def test_gan_ema_is_checkpointed_and_resumes_exactly(tmp_path, data64):
    train_tiny_gan(data64, tmp_path / "full", 6, ema_kimg=0.02)
    train_tiny_gan(data64, tmp_path / "half", 3, ema_kimg=0.02)
    r = train_tiny_gan(data64, tmp_path / "half", 6, ema_kimg=0.02, resume=True)
    assert r.config["ema_kimg"] == 0.02 and r.config["ema_rampup"] == 0.05
    a = latest_weights(tmp_path / "full", "generator_ema")
    b = latest_weights(tmp_path / "half", "generator_ema")
    assert a.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the average differs from the last weights, and training G is unchanged by it
    g = latest_weights(tmp_path / "full", "generator")
    assert any(not torch.equal(a[k], g[k]) for k in a if k.endswith("weight"))
    train_tiny_gan(data64, tmp_path / "plain", 6)
    p = latest_weights(tmp_path / "plain", "generator")
    assert all(torch.equal(p[k], g[k]) for k in p)
    with pytest.raises(BiasLensError, match="ema_kimg"):
        train_tiny_gan(data64, tmp_path / "bad", 1, ema_kimg=0.0)
