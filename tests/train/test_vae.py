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
