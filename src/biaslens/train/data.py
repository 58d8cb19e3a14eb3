"""What the training functions eat: uint8 images + labels, from a cache or from arrays.

The engine never needs a DataLoader: images stay uint8 (in RAM, memory-mapped, or on the
GPU when they fit) and every batch is an index gather followed by one conversion on the
device (:func:`biaslens.tensors.to_model_pixels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biaslens.errors import DataError

__all__ = ["TrainData", "as_train_data", "ImageStore"]

SPLITS = {"train": 0, "val": 1, "test": 2}


@dataclass
class TrainData:
    """Images and labels for training (all rows; splits are selected by index).

    Attributes
    ----------
    images : uint8 (N, H, W, 3) numpy array, memmap or CPU tensor.
    attrs : bool (N, A) or None.
    split : int (N,) with 0 train / 1 val / 2 test, or None (everything is train).
    groups : int (N, G) or None, with ``group_names``.
    content_hash : the cache's manifest hash (recorded in run configs), or None.
    """

    images: Any
    attrs: np.ndarray | None = None
    attribute_names: list[str] = field(default_factory=list)
    split: np.ndarray | None = None
    groups: np.ndarray | None = None
    group_names: list[str] = field(default_factory=list)
    content_hash: str | None = None
    source: str = "arrays"

    def __post_init__(self) -> None:
        shape = tuple(self.images.shape)
        if len(shape) != 4 or shape[-1] != 3:
            raise DataError(f"images must be (N, H, W, 3) uint8, got shape {shape}",
                            path=self.source, field="images")
        if self.images.dtype not in (np.uint8, torch.uint8):
            raise DataError(f"images must be uint8, got {self.images.dtype}",
                            path=self.source, field="images")
        n = shape[0]
        for name in ("attrs", "split", "groups"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.asarray(arr)
                if arr.shape[0] != n:
                    raise DataError(f"{name} has {arr.shape[0]} rows but there are {n} images",
                                    path=self.source, field=name)
                setattr(self, name, arr)
        if self.attrs is not None:
            self.attrs = self.attrs.astype(bool, copy=False)
            if not self.attribute_names:
                self.attribute_names = [f"attr_{i}" for i in range(self.attrs.shape[1])]
            if len(self.attribute_names) != self.attrs.shape[1]:
                raise DataError(f"{len(self.attribute_names)} attribute names for "
                                f"{self.attrs.shape[1]} attribute columns",
                                path=self.source, field="attribute_names")
        self.attribute_names = list(self.attribute_names)
        self.group_names = list(self.group_names)

    @property
    def n(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    def indices(self, split: str) -> np.ndarray:
        """Row indices of a split (``train``/``val``/``test``); all rows if no split column."""
        if self.split is None:
            return np.arange(self.n) if split == "train" else np.arange(0)
        return np.flatnonzero(self.split == SPLITS[split])

    def group(self, name: str) -> np.ndarray:
        """The group column ``name`` (e.g. ``is_face``); a clear error if it is missing."""
        if self.groups is None or name not in self.group_names:
            raise DataError(f"the data has no group column {name!r} "
                            f"(group columns: {self.group_names or 'none'})",
                            path=self.source, field="groups")
        return self.groups[:, self.group_names.index(name)]


def as_train_data(data: Any) -> TrainData:
    """Accept a cache path, a loaded ``Cache``, a :class:`TrainData` or a uint8 image array."""
    if isinstance(data, TrainData):
        return data
    if isinstance(data, (str, Path)):
        from biaslens.data.cache import load_cache  # lazy: the cache module is optional here

        data = load_cache(data)
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return TrainData(images=data)
    if hasattr(data, "images") and hasattr(data, "attrs"):  # Cache / CacheView (duck-typed)
        return TrainData(
            images=data.images, attrs=getattr(data, "attrs", None),
            attribute_names=list(getattr(data, "attribute_names", []) or []),
            split=getattr(data, "split", None), groups=getattr(data, "groups", None),
            group_names=list(getattr(data, "group_names", []) or []),
            content_hash=getattr(data, "content_hash", None),
            source=str(getattr(data, "path", "cache")))
    raise DataError(f"cannot train on a {type(data).__name__}: pass a cache folder, a Cache, "
                    "a TrainData or a uint8 (N, H, W, 3) array")


class ImageStore:
    """uint8 images placed once where batches are cheapest to gather.

    On CUDA the whole array moves to the GPU when it takes less than ``gpu_fraction`` of
    free memory; otherwise it stays in (pinned) host RAM. A memmap larger than
    ``max_ram_bytes`` is gathered row-wise from disk (sorted indices for locality).
    """

    def __init__(self, images: Any, device: torch.device, *, gpu_fraction: float = 0.5,
                 max_ram_bytes: int = 8 << 30):
        self.device = device
        nbytes = int(np.prod(images.shape))
        self.memmap = None
        if isinstance(images, torch.Tensor):
            t = images
        elif isinstance(images, np.memmap) and nbytes > max_ram_bytes:
            self.memmap, t = images, None
        else:
            arr = np.asarray(images)
            if not (arr.flags.writeable and arr.flags.c_contiguous):
                arr = np.array(arr, order="C")     # read-only memmap -> one RAM copy
            t = torch.from_numpy(arr)
        if t is not None and device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            t = t.to(device) if nbytes < gpu_fraction * free else t.pin_memory()
        self.data = t

    def gather(self, idx: torch.Tensor) -> torch.Tensor:
        """uint8 (b, H, W, 3) rows ``idx`` (a CPU or device index tensor)."""
        if self.memmap is not None:
            order = np.argsort(idx.cpu().numpy(), kind="stable")
            rows = np.empty((len(order),) + self.memmap.shape[1:], np.uint8)
            rows[order] = self.memmap[np.sort(idx.cpu().numpy())]
            return torch.from_numpy(rows)
        if self.data.device != idx.device:
            idx = idx.to(self.data.device)
        return self.data.index_select(0, idx)


def label_tensor(attrs: np.ndarray | None, columns: Sequence[int] | None = None) -> torch.Tensor:
    """bool (N, A) labels -> float32 CPU tensor, optionally selecting columns."""
    if attrs is None:
        raise DataError("this model needs attribute labels, but the data has none", field="attrs")
    a = attrs if columns is None else attrs[:, list(columns)]
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
