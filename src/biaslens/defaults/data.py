"""The caches the default recipes train on, rendered from a world preset, and their record.

:func:`make_data` renders a cache of :data:`~biaslens.defaults.recipes.DATASETS` under a
root folder (once; a complete cache of another world is refused, never reused);
:func:`data_record` is what a shipped checkpoint's ``extra["data"]`` says about it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from biaslens.defaults.recipes import dataset_spec

__all__ = ["data_record", "make_data"]


def make_data(key: str, root: Path, *, world: str | None = None,
              n_faces: int | None = None) -> Path:
    """Render the cache of :data:`DATASETS` ``key`` under ``root`` (kept when complete).

    A complete cache rendered from another world or face count is never reused silently:
    it raises :class:`~biaslens.errors.DataError` naming the folder.
    """
    from biaslens.data.cache import load_cache
    from biaslens.errors import DataError
    from biaslens.world.synth import synthesize_cache

    spec = dataset_spec(key, world, n_faces)
    out = root / spec["folder"]
    try:
        cache = load_cache(out)
    except Exception:  # noqa: BLE001 - missing or incomplete: (re)render
        cache = None
    if cache is not None:
        src = cache.manifest.get("source", {})
        have = (src.get("world", {}).get("name"), src.get("n_faces"), src.get("scene"))
        if have != (spec["world"], spec["n"], spec.get("scene")):
            raise DataError(f"cache was rendered from world {have[0]!r} with {have[1]} faces "
                            f"(scene {have[2]}), the recipe needs world {spec['world']!r} with "
                            f"{spec['n']} (scene {spec.get('scene')}); "
                            "use another --root or delete the folder", path=out,
                            field="manifest.json:source")
        return out
    synthesize_cache(spec["world"], spec["n"], out, size=spec["size"], seed=spec["seed"],
                     nonfaces=spec["nonfaces"], workers=2, overwrite=True,
                     scene=spec.get("scene"))
    return out


def data_record(key: str, root: Path, world: str | None = None,
                n_faces: int | None = None) -> dict[str, Any]:
    """The provenance of ``root``'s cache ``key``: folder, content hash, the ``biaslens
    data synth`` command that renders it, world, size and split counts."""
    from biaslens.data.cache import load_cache

    spec = dataset_spec(key, world, n_faces)
    cache = load_cache(root / spec["folder"])
    synth = ["biaslens", "data", "synth", "--world", spec["world"], "--n", str(spec["n"]),
             "--size", str(spec["size"]), "--seed", str(spec["seed"])]
    if spec["nonfaces"]:
        synth += ["--nonfaces", str(spec["nonfaces"])]
    if spec.get("scene"):
        synth += ["--scene", spec["scene"]]
    return {"cache": spec["folder"], "content_hash": cache.content_hash,
            "synth_command": shlex.join(synth + ["--out", spec["folder"]]),
            "world": spec["world"], "n": int(cache.manifest["n"]),
            "splits": {"train": int((cache.split == 0).sum()), "val": int((cache.split == 1).sum()),
                       "test": int((cache.split == 2).sum())}}
