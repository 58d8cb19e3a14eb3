"""Image grids and PNG writing for training samples (torchvision is not a dependency)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from biaslens.io import atomic_write
from biaslens.tensors import to_uint8_numpy

__all__ = ["make_grid", "save_image"]


def make_grid(images: torch.Tensor | np.ndarray, *, nrow: int | None = None,
              padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile a batch into one uint8 image (H', W', 3).

    Parameters
    ----------
    images
        Float NCHW tensor in [-1, 1] (model output) or uint8 NHWC array (cache rows).
    nrow
        Images per row; default ``ceil(sqrt(n))`` so the grid is roughly square.
    padding, pad_value
        Border in pixels between tiles and its grey level.
    """
    if isinstance(images, torch.Tensor):
        arr = to_uint8_numpy(images)
    else:
        arr = np.asarray(images, dtype=np.uint8)
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"expected (n, h, w, 3) images, got shape {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    n, h, w, _ = arr.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    ncol = math.ceil(n / nrow)
    grid = np.full((ncol * (h + padding) + padding, nrow * (w + padding) + padding, 3),
                   pad_value, dtype=np.uint8)
    # place all tiles with one reshape instead of a loop over images
    tiles = np.full((ncol * nrow, h, w, 3), pad_value, dtype=np.uint8)
    tiles[:n] = arr
    tiles = tiles.reshape(ncol, nrow, h, w, 3)
    padded = np.full((ncol, nrow, h + padding, w + padding, 3), pad_value, dtype=np.uint8)
    padded[:, :, padding:, padding:] = tiles
    body = padded.transpose(0, 2, 1, 3, 4).reshape(ncol * (h + padding), nrow * (w + padding), 3)
    grid[: body.shape[0], : body.shape[1]] = body
    return grid


def save_image(images: torch.Tensor | np.ndarray, path: str | Path, **grid_kw) -> Path:
    """Write a batch as one PNG grid, atomically (:func:`biaslens.io.atomic_write`)."""
    grid = make_grid(images, **grid_kw)
    return atomic_write(path, lambda tmp: Image.fromarray(grid).save(tmp, format="PNG"))
