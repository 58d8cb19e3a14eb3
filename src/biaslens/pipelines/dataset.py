"""Dataset use cases on a cache: its bias statistics and a contact sheet of its faces.

:func:`cache_stats` is the one way the CLI (``biaslens data stats``), the demo, the
report and the app's dataset page run :func:`biaslens.audit.dataset.dataset_stats` on a
cache: the cache's group columns (e.g. ``skin_type``) become group names, a split
selects the rows. :func:`write_preview` draws ``biaslens data preview``'s sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from biaslens.audit.dataset import DatasetStats, dataset_stats
from biaslens.errors import BiasLensError, DataError
from biaslens.io import atomic_write
from biaslens.pipelines.inputs import group_columns

__all__ = ["SPLITS", "cache_stats", "save_sheet", "write_preview"]

#: Split names and their codes in a cache's ``split`` array.
SPLITS = {"train": 0, "val": 1, "test": 2}


def cache_stats(cache: Any, *, target: str | None = None, groups: list[str] | None = None,
                split: str | None = None, **kwargs: Any) -> DatasetStats:
    """:func:`dataset_stats` of a cache (a loaded cache or its folder).

    ``split`` selects the rows (``train``, ``val`` or ``test``; ``all`` or ``None``: every
    row) and is recorded as given. The cache's group columns are available as group
    names. When the cache knows who is in each image (``identities``) every interval
    resamples people (``clusters=None`` in ``kwargs`` turns that off). Extra keyword
    arguments go to :func:`dataset_stats`.
    """
    if split not in (None, "all") and split not in SPLITS:
        raise BiasLensError(f"unknown split {split!r}; choose one of train, val, test, all")
    if isinstance(cache, (str, Path)):
        from biaslens.data.cache import load_cache

        cache = load_cache(cache)
    attrs = np.asarray(cache.attrs)
    cols = group_columns(cache)
    ids = getattr(cache, "identities", None)      # known identities: resample people
    if split in SPLITS:
        mask = np.asarray(cache.split) == SPLITS[split]
        attrs = attrs[mask]
        cols = {k: v[mask] for k, v in cols.items()}
        ids = None if ids is None else ids[mask]
    kwargs.setdefault("clusters", ids)
    return dataset_stats(attrs, list(cache.attribute_names), target=target, groups=groups,
                         group_columns=cols, split=split, **kwargs)


def save_sheet(images: np.ndarray, attrs: np.ndarray, names: list[str], out: str | Path, *,
               skin_tone: np.ndarray | None = None) -> Path:
    """Write a captioned contact sheet of ``images`` to ``out``, atomically (in the format
    its suffix names, PNG when it names none)."""
    from PIL import Image

    from biaslens.world.preview import contact_sheet, short_caption

    captions = [short_caption(a, None if skin_tone is None or not np.isfinite(skin_tone[i])
                              else float(skin_tone[i]), names) for i, a in enumerate(attrs)]
    out = Path(out)
    sheet = contact_sheet(np.asarray(images), captions)
    fmt = Image.registered_extensions().get(out.suffix.lower())
    return atomic_write(out, lambda tmp: sheet.save(tmp, format=fmt or "PNG"))


def write_preview(source: str | Path, out: str | Path, *, n: int = 32, seed: int = 0,
                  size: int = 64) -> Path:
    """Contact sheet PNG of ``n`` faces: random rows of a cache, or freshly rendered faces
    of a world (preset name or JSON file), each captioned with its labels."""
    src = Path(source)
    if src.is_dir():
        from biaslens.data.cache import load_cache

        cache = load_cache(src)
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(cache), size=min(n, len(cache)), replace=False))
        images, attrs = np.asarray(cache.images[idx]), np.asarray(cache.attrs[idx])
        tone = cache.extra.get("skin_tone")
        tone = None if tone is None else tone[idx]
        names = list(cache.attribute_names)
    else:
        from biaslens.world.attributes import PRESETS
        from biaslens.world.render import render_faces
        from biaslens.world.synth import load_world

        if str(source) not in PRESETS and ("/" in str(source) or src.suffix):
            raise DataError(f"{source}: no such cache folder or world file (a preset name "
                            f"is one of {', '.join(PRESETS)})")
        sample = load_world(str(source)).sample(n, seed=seed)
        attrs, tone, names = sample.attrs, sample.skin_tone, list(sample.attribute_names)
        images = render_faces(attrs, tone, seed=seed, size=size)
    return save_sheet(images, attrs, names, out, skin_tone=tone)
