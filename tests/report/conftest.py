"""The report built once from the shared tiny models (tests/conftest.py)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def small_report(tiny):
    """A report (results and figures) built from the tiny models (small audit sizes)."""
    from biaslens.data.cache import load_cache
    from biaslens.models import load_checkpoint
    from biaslens.pipelines.report import build_report
    from biaslens.report import Report

    torch.set_num_threads(1)
    gen, _ = load_checkpoint(tiny["generator"])
    clf, _ = load_checkpoint(tiny["classifier"])
    return Report.of(build_report(load_cache(tiny["cache"]), generator=gen, classifier=clf,
                        targets=["Male", "-Smiling", "Young"], protected=["Male", "skin_type"],
                        mitigation={"dbvae/compare.json": {"auc": {"before": 0.8, "after": 0.9}}},
                        steer_n=8, steer_steps=4, population_n=64, n_boot=50, seed=0))
