"""VAE and conditional-VAE training (train/vae.py) on tiny data."""

import json

from biaslens.train import train_cvae, train_vae


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


def test_cvae_with_latent_adversary_logs_it_and_refuses_bad_settings(tmp_path, data64):
    import pytest

    from biaslens.errors import BiasLensError

    cfg = {"latent_dim": 4, "hidden_dim": 4, "decoder_condition": "every"}
    r = train_cvae(data64, out=tmp_path / "adv", condition=["Male"], steps=2, batch_size=8,
                   model_config=cfg, adversary=0.1, sample_every=0, device="cpu")
    assert {"confusion", "adv_loss", "adv_acc"} <= set(r.metrics)
    info = json.loads((tmp_path / "adv" / "checkpoints" / "latest" / "cvae" / "config.json")
                      .read_text())
    assert info["config"]["adversary_hidden"] == 64          # the default width
    with pytest.raises(BiasLensError, match="needs a condition"):
        train_vae(data64, out=tmp_path / "v", steps=1, adversary=0.1, device="cpu")
    with pytest.raises(BiasLensError, match="adversary_hidden > 0"):
        train_cvae(data64, out=tmp_path / "z", steps=1, adversary=0.1, device="cpu",
                   model_config={"latent_dim": 4, "hidden_dim": 4, "adversary_hidden": 0})
