"""End-to-end behaviour of the training functions on tiny data (CPU, a few steps)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from biaslens.errors import BiasLensError
from biaslens.train import (TrainingDiverged, train_classifier, train_cvae, train_dbvae,
                            train_gan, train_vae)

from .conftest import make_data

TINY_G = {"hidden_dim": 4}
TINY_D = {"ndf": 4}  # the default sn_dcgan_discriminator


def _gan(data, out, steps, **kw):
    return train_gan(data, out=out, steps=steps, batch_size=8, generator_config=TINY_G,
                     discriminator_config=TINY_D, log_every=1, sample_every=0,
                     checkpoint_every=0, device="cpu", seed=3, command="test", **kw)


def _weights(run, name):
    return load_file(str(run / "checkpoints" / "latest" / name / "model.safetensors"))


def test_gan_resume_is_exact(tmp_path, data64):
    _gan(data64, tmp_path / "full", 6)
    _gan(data64, tmp_path / "half", 3)
    r = _gan(data64, tmp_path / "half", 6, resume=True)
    assert r.status == "completed" and r.step == 6
    for name in ("generator", "discriminator"):
        a, b = _weights(tmp_path / "full", name), _weights(tmp_path / "half", name)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)
    # the training did change the weights
    _gan(data64, tmp_path / "one", 1)
    g1, g6 = _weights(tmp_path / "one", "generator"), _weights(tmp_path / "full", "generator")
    assert any(not torch.equal(g1[k], g6[k]) for k in g1)
    lines = [json.loads(x) for x in (tmp_path / "half" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]
    cfg = json.loads((tmp_path / "full" / "config.json").read_text())
    assert cfg["command"] == "test" and cfg["batch_size"] == 8 and cfg["family"] == "gan"


def test_resume_refuses_changed_options_and_existing_run(tmp_path, data64):
    _gan(data64, tmp_path / "r", 1)
    with pytest.raises(BiasLensError, match="lr"):
        train_gan(data64, out=tmp_path / "r", steps=2, batch_size=8, lr=1e-3,
                  generator_config=TINY_G, discriminator_config=TINY_D, device="cpu",
                  seed=3, log_every=1, sample_every=0, checkpoint_every=0, resume=True)
    with pytest.raises(BiasLensError, match="--resume"):
        _gan(data64, tmp_path / "r", 2)


def test_gan_writes_samples_and_stops_on_request(tmp_path, data64):
    calls = []
    r = train_gan(data64, out=tmp_path / "s", steps=50, batch_size=8, generator_config=TINY_G,
                  discriminator_config=TINY_D, sample_every=2, n_samples=4, device="cpu",
                  progress=lambda s, t, m: calls.append(s), should_stop=lambda: len(calls) >= 2)
    assert r.status == "stopped" and r.step == 3
    assert (tmp_path / "s" / "samples" / "step_0000002.png").exists()
    assert (tmp_path / "s" / "checkpoints" / "latest" / "trainer_state.json").exists()


def test_dry_run_writes_nothing(tmp_path, data64):
    r = train_gan(data64, out=tmp_path / "d", dry_run=True)
    assert r.status == "dry_run" and r.config["batch_size"] == 128 and r.config["lr"] == 2e-4
    assert r.config["betas"] == [0.5, 0.999] and not (tmp_path / "d").exists()


def test_classifier_learns_and_evaluates(tmp_path, data64):
    r = train_classifier(data64, out=tmp_path / "c", steps=30, batch_size=12, lr=1e-2,
                         arch="test_tiny_linear_classifier",
                         model_config={"image_size": 64}, pos_weight="auto", eval_every=0,
                         log_every=10, checkpoint_every=0, device="cpu")
    ev = json.loads((tmp_path / "c" / "eval.json").read_text())
    assert ev["n"] == 12 and set(ev["auc"]) == {"Male", "Smiling", "Young"}
    assert ev["auc"]["Male"] > 0.9            # "Male" rows were made darker
    assert r.evaluation["accuracy"] == ev["accuracy"]
    train = data64.attrs[data64.split == 0]
    p = train.mean(0)
    assert np.allclose(r.config["pos_weight_values"], np.clip((1 - p) / p, 0.01, 100))
    losses = [rec["loss"] for rec in map(json.loads, (tmp_path / "c" / "metrics.jsonl")
                                        .read_text().splitlines()) if "loss" in rec]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_divergence_guard_stops_and_keeps_no_bad_checkpoint(tmp_path, data64):
    with pytest.raises(TrainingDiverged, match="NaN") as exc:
        train_classifier(data64, out=tmp_path / "n", steps=10, batch_size=12,
                         arch="test_nan_classifier", model_config={"image_size": 64},
                         log_every=2, checkpoint_every=1, device="cpu")
    # step 1 is checkpointed only after its loss was checked: the guard fires first
    assert exc.value.result.status == "diverged" and exc.value.result.checkpoint is None
    last = json.loads((tmp_path / "n" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "diverged"


def test_gan_collapse_guard(tmp_path, data64):
    # a generator whose output cannot vary: zero weights in the last layer (tanh(0) = 0)
    with pytest.raises(TrainingDiverged, match="collapse"):
        train_gan(data64, out=tmp_path / "k", steps=20, batch_size=8, lr=0.0,
                  generator_config=TINY_G, discriminator_config=TINY_D, log_every=1,
                  sample_every=0, checkpoint_every=0, device="cpu", collapse_std=10.0,
                  collapse_patience=2)


def test_vae_and_cvae_run(tmp_path, data64):
    cfg = {"latent_dim": 4, "hidden_dim": 4}
    r = train_vae(data64, out=tmp_path / "v", steps=2, batch_size=8, model_config=cfg,
                  recon_loss="l1", sample_every=2, n_samples=4, device="cpu")
    assert r.status == "completed" and {"loss", "recon", "kl"} <= set(r.metrics)
    assert (tmp_path / "v" / "samples" / "step_0000002.png").exists()
    r = train_cvae(data64, out=tmp_path / "cv", condition=["male"], steps=2, batch_size=8,
                   model_config=cfg, sample_every=0, device="cpu")
    info = json.loads((tmp_path / "cv" / "checkpoints" / "latest" / "cvae" / "config.json")
                      .read_text())
    assert info["config"]["condition_names"] == ["Male"]


def test_dbvae_resume_exact_across_epoch_boundary(tmp_path):
    data = make_data(n=32, faces=True)      # 24 train rows -> 3 steps per epoch at batch 8
    kw = dict(batch_size=8, model_config={"latent_dim": 3, "n_filters": 2}, log_every=1,
              sample_every=0, checkpoint_every=0, device="cpu", seed=1)
    full = train_dbvae(data, out=tmp_path / "f", steps=5, **kw)
    assert full.config["steps_per_epoch"] == 3 and full.evaluation["n"] == 8
    train_dbvae(data, out=tmp_path / "h", steps=4, **kw)
    train_dbvae(data, out=tmp_path / "h", steps=5, resume=True, **kw)
    a, b = _weights(tmp_path / "f", "dbvae"), _weights(tmp_path / "h", "dbvae")
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = load_file(str(tmp_path / "f" / "checkpoints" / "latest" /
                          "trainer_state.safetensors"))
    p = state["state.p_faces"]
    assert p.shape == (12,) and torch.isclose(p.sum(), torch.tensor(1.0, dtype=p.dtype))


def test_dbvae_needs_face_column(tmp_path, data64):
    with pytest.raises(BiasLensError, match="is_face"):
        train_dbvae(data64, out=tmp_path / "x", steps=1, device="cpu")


def test_gan_losses_and_inits_are_options(tmp_path, data64):
    # The course's pair (BCE, BatchNorm D, PyTorch init) still trains through the engine.
    r = train_gan(data64, out=tmp_path / "course", steps=2, batch_size=8,
                  generator_config=TINY_G, discriminator="coursera_dcgan_discriminator",
                  discriminator_config={"hidden_dim": 4}, loss="bce", init="default",
                  log_every=1, sample_every=0, checkpoint_every=0, device="cpu")
    assert r.status == "completed" and r.config["loss"] == "bce"
    # hinge: D's loss is 2 when D outputs 0 everywhere, and lr_d is recorded
    r = _gan(data64, tmp_path / "hinge", 1, lr_d=1e-3)
    assert r.config["lr_d"] == 1e-3 and r.config["init"] == "dcgan"
    for bad in ({"loss": "wgan"}, {"init": "xavier"}):
        with pytest.raises(BiasLensError, match="must be"):
            _gan(data64, tmp_path / "bad", 1, **bad)


def test_dcgan_init_draws_conv_weights_with_std_002():
    from biaslens.models import build_model, dcgan_init_

    torch.manual_seed(0)
    g = build_model("coursera_dcgan_generator", hidden_dim=16)
    dcgan_init_(g)
    w = torch.cat([m.weight.flatten() for m in g.modules()
                   if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002
    d = build_model("sn_dcgan_discriminator", ndf=8)
    before = [p.clone() for p in d.parameters()]
    dcgan_init_(d)                      # spectrally normalised convs are left alone
    assert all(torch.equal(a, b) for a, b in zip(before, d.parameters()))


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
    _gan(data64, tmp_path / "full", 6, ema_kimg=0.02)
    _gan(data64, tmp_path / "half", 3, ema_kimg=0.02)
    r = _gan(data64, tmp_path / "half", 6, ema_kimg=0.02, resume=True)
    assert r.config["ema_kimg"] == 0.02 and r.config["ema_rampup"] == 0.05
    a, b = _weights(tmp_path / "full", "generator_ema"), _weights(tmp_path / "half", "generator_ema")
    assert a.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the average differs from the last weights, and training G is unchanged by it
    g = _weights(tmp_path / "full", "generator")
    assert any(not torch.equal(a[k], g[k]) for k in a if k.endswith("weight"))
    _gan(data64, tmp_path / "plain", 6)
    p = _weights(tmp_path / "plain", "generator")
    assert all(torch.equal(p[k], g[k]) for k in p)
    with pytest.raises(BiasLensError, match="ema_kimg"):
        _gan(data64, tmp_path / "bad", 1, ema_kimg=0.0)
