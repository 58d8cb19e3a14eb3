"""Fixtures shared across test folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

NAMES = ["Male", "Smiling", "Young"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Checkpoint folders (generator, classifier, cvae) and a 64 px cache of 160 faces."""
    from biaslens.models import build_model, save_checkpoint
    from biaslens.world.synth import synthesize_cache

    root = tmp_path_factory.mktemp("tiny")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    paths = {
        "generator": save_checkpoint(build_model("coursera_dcgan_generator", z_dim=16,
                                                 hidden_dim=8), root / "generator"),
        "classifier": save_checkpoint(build_model("coursera_classifier", hidden_dim=8,
                                                  attribute_names=NAMES), root / "classifier"),
        "cvae": save_checkpoint(build_model("cvae", condition_names=["Male"], image_size=64,
                                            latent_dim=8, hidden_dim=8), root / "cvae"),
    }
    paths["cache"] = synthesize_cache("celeba", 160, root / "cache", size=64, seed=0).path
    torch.set_num_threads(old)
    return paths
