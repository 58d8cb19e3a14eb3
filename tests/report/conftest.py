"""Tiny models and cache for the report tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

NAMES = ["Male", "Smiling", "Young"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from biaslens.models import build_model, save_checkpoint
    from biaslens.world.synth import synthesize_cache

    root = tmp_path_factory.mktemp("tiny_report")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    paths = {
        "generator": save_checkpoint(build_model("coursera_dcgan_generator", z_dim=16,
                                                 hidden_dim=8), root / "generator"),
        "classifier": save_checkpoint(build_model("coursera_classifier", hidden_dim=8,
                                                  attribute_names=NAMES), root / "classifier"),
    }
    paths["cache"] = synthesize_cache("celeba", 160, root / "cache", size=64, seed=0).path
    torch.set_num_threads(old)
    return paths


@pytest.fixture(scope="session")
def small_report(tiny):
    """A report built from the tiny models (small audit sizes)."""
    from biaslens.data.cache import load_cache
    from biaslens.models import load_checkpoint
    from biaslens.report.html import build_report

    torch.set_num_threads(1)
    gen, _ = load_checkpoint(tiny["generator"])
    clf, _ = load_checkpoint(tiny["classifier"])
    return build_report(load_cache(tiny["cache"]), generator=gen, classifier=clf,
                        targets=["Male", "-Smiling", "Young"], protected=["Male", "skin_type"],
                        mitigation={"dbvae/compare.json": {"auc": {"before": 0.8, "after": 0.9}}},
                        steer_n=8, steer_steps=4, population_n=64, n_boot=30, seed=0)
