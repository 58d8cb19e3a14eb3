"""Tests for shipping a trained default (biaslens.defaults.ship) into a folder of models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from biaslens.defaults import load_default
from biaslens.defaults.data import make_data
from biaslens.defaults.recipes import DATASETS, RECIPES
from biaslens.defaults.ship import ship
from biaslens.models import build_model, save_checkpoint


def test_ship_copies_the_weights_with_their_provenance(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DATASETS, "faces", {**DATASETS["faces"], "n": 12, "size": 16})
    make_data("faces", tmp_path)
    torch.manual_seed(0)
    vae = build_model("vae", image_size=16, latent_dim=4, hidden_dim=4)
    run = tmp_path / "run-vae"
    save_checkpoint(vae, run / "checkpoints" / "latest" / "vae")
    (run / "result.json").write_text(json.dumps(
        {"status": "completed", "step": 3, "steps": 3, "wall_s": 1.0, "images_per_s": 2.0}))
    dest = tmp_path / "models"
    ship("vae", tmp_path, {"recon_mse": 0.25}, dest)
    extra = json.loads((dest / "vae" / "config.json").read_text())["extra"]
    assert extra["command"] == f"biaslens models defaults train vae --root {tmp_path}"
    assert extra["training"]["kwargs"] == RECIPES["vae"].kwargs
    assert extra["training"]["status"] == "completed"
    assert extra["data"]["content_hash"].startswith("sha256:") and extra["data"]["n"] == 12
    assert extra["quality"] == {"recon_mse": 0.25}
    shipped = load_default("vae", root=dest)
    for a, b in zip(shipped.state_dict().values(), vae.state_dict().values()):
        assert torch.equal(a, b)
