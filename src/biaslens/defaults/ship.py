"""Shipping a trained default: its weights into the package, with the provenance.

:func:`ship` copies a run's trained model to ``resources/models/<name>/`` with
``extra`` recording the command, the training keywords and outcome, the data
(:func:`~biaslens.defaults.data.data_record`) and the held-out quality;
:func:`save_generated_grid` draws the fixed-seed sample grid of docs/img/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biaslens.defaults import RESOURCE_MODELS
from biaslens.defaults.data import data_record
from biaslens.defaults.evaluate import generate
from biaslens.defaults.recipes import RECIPES, train_command
from biaslens.io import jsonable

__all__ = ["GRID_SEED", "save_generated_grid", "ship"]

GRID_SEED = 0   # noise seed of the sample grid


def ship(name: str, root: Path, quality: dict[str, Any], dest: Path = RESOURCE_MODELS, *,
         world: str | None = None, n_faces: int | None = None) -> Path:
    """Copy the trained weights to ``dest/<name>`` with the provenance in ``extra``."""
    from biaslens.models import load_checkpoint, save_checkpoint

    rec = RECIPES[name]
    run = root / f"run-{name}"
    model, _ = load_checkpoint(run / "checkpoints" / "latest" / rec.model_folder,
                               expected_architecture=rec.architecture)
    result = json.loads((run / "result.json").read_text())
    extra = {"default_model": name,
             "command": train_command(name, root, world, n_faces),
             "training": {"function": f"biaslens.train.{rec.train_fn}",
                          "kwargs": rec.kwargs,
                          "device": "cpu", "threads": torch.get_num_threads(),
                          "status": result["status"], "step": result["step"],
                          "steps": result["steps"], "wall_s": result["wall_s"],
                          "images_per_s": result["images_per_s"]},
             "data": data_record(rec.dataset, root, world, n_faces),
             "quality": quality}
    return save_checkpoint(model, dest / name, extra=jsonable(extra))


def save_generated_grid(gen: nn.Module, path: Path, *, n: int = 64, seed: int = GRID_SEED) -> Path:
    """Save an 8×8 grid of generated faces (fixed seed) as PNG."""
    from biaslens.train.images import save_image

    return save_image(generate(gen, n, seed=seed), path, nrow=8)
