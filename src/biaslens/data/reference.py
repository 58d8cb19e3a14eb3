"""Reference images for audits that compare a model with its training data.

A reference is named by a short spec (CLI ``--reference``):

* ``world`` or ``world:PRESET`` — faces rendered from a synthetic world preset (the data
  the shipped default models were trained on is ``world:celeba``);
* a cache folder (``biaslens data ingest`` / ``data synth``) — a seeded sample of its
  training split (all rows if it has no training split);
* ``none`` — no reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biaslens.errors import BiasLensError

__all__ = ["ReferenceSet", "load_reference", "sample_images", "sample_training_images"]


@dataclass
class ReferenceSet:
    """uint8 images ``(m, H, W, 3)`` and a description for reports."""

    images: np.ndarray
    description: str


def sample_images(images, n: int, seed: int = 0, rows: np.ndarray | None = None) -> np.ndarray:
    """A seeded sample of at most ``n`` of ``images`` (of ``rows`` of it when given), read
    in ascending row order: uint8 ``(m, H, W, 3)``."""
    rows = np.arange(len(images)) if rows is None else np.asarray(rows)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(rows, size=min(n, len(rows)), replace=False))
    return np.asarray(images[take])


def sample_training_images(cache, n: int, seed: int = 0) -> np.ndarray:
    """A seeded sample (sorted rows) of at most ``n`` images of ``cache``'s training split,
    or of all rows when it has no training split: uint8 ``(m, H, W, 3)``."""
    rows = np.flatnonzero(np.asarray(cache.split) == 0)
    return sample_images(cache.images, n, seed, rows if len(rows) else None)


def load_reference(spec: str | Path, *, n: int = 2000, seed: int = 0,
                   image_size: int = 64) -> ReferenceSet | None:
    """Resolve a reference spec to at most ``n`` images (``None`` for ``"none"``).

    Raises :class:`BiasLensError` naming the spec when it is neither ``none``, a world
    preset nor a readable cache folder, or when the images do not have the size the
    classifier expects.
    """
    text = str(spec)
    if n < 10:
        raise BiasLensError(f"--reference-n must be >= 10; got {n}")
    if text.lower() == "none":
        return None
    if text == "world" or text.startswith("world:"):
        from biaslens.world import World
        from biaslens.world.render import render_faces

        preset = text.partition(":")[2] or "celeba"
        try:
            world = World.preset(preset)
        except Exception as exc:  # unknown preset: name the spec
            raise BiasLensError(f"--reference {text}: {exc}") from None
        sample = world.sample(n, seed=seed)
        images = render_faces(sample.attrs, sample.skin_tone, seed=seed, size=image_size)
        return ReferenceSet(images, f"rendered faces of the {preset!r} world")
    path = Path(text)
    if not path.is_dir():
        raise BiasLensError(f"--reference {text}: not 'none', 'world[:PRESET]' or a cache "
                            "folder (make one with `biaslens data ingest` or `data synth`)")
    from biaslens.data.cache import load_cache

    images = sample_training_images(load_cache(path), n, seed)
    if images.shape[1:3] != (image_size, image_size):
        raise BiasLensError(f"--reference {text}: images are {images.shape[1]}x"
                            f"{images.shape[2]} but the classifier expects "
                            f"{image_size}x{image_size}; ingest the data at that size")
    return ReferenceSet(images, f"training images of {path.name}")
