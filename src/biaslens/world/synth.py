"""Synthesize the face world into a dataset cache, or export it in CelebA's own layout.

Glue between the attribute model (:mod:`biaslens.world.attributes`), the renderer
(:mod:`biaslens.world.render`) and the cache writer (:mod:`biaslens.data.cache`).

Determinism: labels come from ``world.sample(n, seed)``; splits and non-face positions
from a generator seeded by ``(seed, 3)``; the k-th face is rendered from a seed derived
from ``(seed, 7)`` and its ordinal k (the renderer's ``start_index``), so an image does
not depend on the block it was rendered in nor on the number of workers, and the same
seed gives the same cache content hash.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from biaslens.data.workers import worker_pool
from biaslens.errors import BiasLensError, DataError
from biaslens.io import dir_mode

if TYPE_CHECKING:  # pragma: no cover
    from biaslens.data.cache import Cache
    from biaslens.world.attributes import World

__all__ = ["BLOCK", "SynthPlan", "export_celeba", "load_world", "plan_dataset",
           "synthesize_cache"]

#: Rows rendered per block (bounds memory; the output does not depend on it).
BLOCK = 256
#: CelebA's aligned image size (height, width).
CELEBA_SIZE = (218, 178)

Progress = Callable[[int, int], None]


def load_world(spec: str | Path | Any) -> World:
    """A :class:`World` from a preset name (``celeba``, ``balanced``, ...) or a JSON file.

    A ``World`` instance is returned unchanged.
    """
    from biaslens.world.attributes import World

    if isinstance(spec, World):
        return spec
    text = str(spec)
    if text.endswith(".json") or Path(text).is_file():
        if not Path(text).is_file():
            raise DataError("world file not found", path=text)
        return World.from_json(text)
    return World.preset(text)


def _world_id(world: Any) -> dict[str, Any]:
    """JSON-able identification of a world for the manifest's ``source``."""
    d = world.to_dict() if callable(getattr(world, "to_dict", None)) else {}
    return {k: d[k] for k in ("name", "spec", "params_hash") if k in d}


@dataclass
class SynthPlan:
    """Labels and layout of a synthetic data set before any pixel is rendered.

    Rows are faces and (optionally) non-faces at random positions. ``attrs`` are all
    False for non-faces, ``skin_type`` is -1 and ``skin_tone`` NaN there.
    """

    attrs: np.ndarray          # bool (N, A)
    attribute_names: list[str]
    skin_tone: np.ndarray      # float32 (N,)
    skin_type: np.ndarray      # int16 (N,)
    is_face: np.ndarray        # bool (N,)
    split: np.ndarray          # int8 (N,)
    seed: int
    scene: str | None = None   # capture conditions (biaslens.world.scene), None: none

    @property
    def n(self) -> int:
        return int(self.attrs.shape[0])

    @property
    def render_seeds(self) -> tuple[int, int]:
        """Seeds of the face and non-face renderers, independent of the label streams."""
        a, b = np.random.SeedSequence([self.seed, 7]).generate_state(2)
        return int(a), int(b)


def _split(n: int, val_frac: float, test_frac: float, rng: np.random.Generator) -> np.ndarray:
    """int8 (n,) split codes with round(n*frac) val and test rows at random positions."""
    if not (0 <= val_frac and 0 <= test_frac and val_frac + test_frac < 1):
        raise BiasLensError(f"val_frac ({val_frac}) and test_frac ({test_frac}) must be >= 0 "
                            "and sum to less than 1")
    n_val, n_test = int(round(n * val_frac)), int(round(n * test_frac))
    split = np.zeros(n, dtype=np.int8)
    perm = rng.permutation(n)
    split[perm[:n_val]] = 1
    split[perm[n_val:n_val + n_test]] = 2
    return split


def plan_dataset(world: World, n: int, *, seed: int = 0, val_frac: float = 0.1,
                 test_frac: float = 0.1, nonfaces: int = 0, scene: str | None = None
                 ) -> SynthPlan:
    """Sample labels, splits and non-face positions (cheap; no rendering); ``scene``
    names the capture conditions the images get (:mod:`biaslens.world.scene`)."""
    from biaslens.names import CELEBA_ATTRIBUTES
    from biaslens.world.scene import scene_params

    scene_params(scene)   # unknown names fail before any rendering

    if n < 1 or nonfaces < 0:
        raise BiasLensError(f"need n >= 1 faces and nonfaces >= 0, got n={n}, "
                            f"nonfaces={nonfaces}")
    sample = world.sample(n, seed=seed)
    names = list(getattr(sample, "attribute_names", None) or getattr(world, "attribute_names",
                                                                     CELEBA_ATTRIBUTES))
    total = n + nonfaces
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    is_face = np.ones(total, dtype=bool)
    if nonfaces:
        is_face[rng.permutation(total)[:nonfaces]] = False
    attrs = np.zeros((total, len(names)), dtype=bool)
    attrs[is_face] = np.asarray(sample.attrs, dtype=bool)
    tone = np.full(total, np.nan, dtype=np.float32)
    tone[is_face] = np.asarray(sample.skin_tone, dtype=np.float32)
    stype = np.full(total, -1, dtype=np.int16)
    stype[is_face] = np.asarray(sample.skin_type, dtype=np.int16)
    return SynthPlan(attrs=attrs, attribute_names=names, skin_tone=tone, skin_type=stype,
                     is_face=is_face, split=_split(total, val_frac, test_frac, rng), seed=seed,
                     scene=None if str(scene).strip().lower() in ("none", "") or scene is None
                     else str(scene).strip().lower())


def _render_block(attrs: np.ndarray, tone: np.ndarray, is_face: np.ndarray, first_face: int,
                  first_nonface: int, seeds: tuple[int, int], size: int | tuple[int, int],
                  scene: str | None = None) -> np.ndarray:
    """Render one block of rows -> uint8 (b, H, W, 3): faces where ``is_face``.

    ``first_face``/``first_nonface`` are the ordinals of the block's first face and
    non-face; the renderers' ``start_index`` makes each image depend only on its ordinal.
    With a ``scene`` every image is captured under it and the non-faces include its
    hard negatives (:func:`biaslens.world.scene.render_scene_nonfaces`).
    """
    from biaslens.world.nonface import render_nonfaces
    from biaslens.world.render import parse_size, render_faces
    from biaslens.world.scene import apply_scene, render_scene_nonfaces

    h, w = parse_size(size)
    out = np.empty((len(is_face), h, w, 3), dtype=np.uint8)
    faces = np.flatnonzero(is_face)
    others = np.flatnonzero(~is_face)
    if faces.size:
        imgs = render_faces(attrs[faces], tone[faces], seed=seeds[0], size=(h, w),
                            start_index=first_face)
        out[faces] = apply_scene(imgs, scene, seed=seeds[0], start_index=first_face)
    if others.size and scene is not None:
        out[others] = render_scene_nonfaces(int(others.size), scene, seed=seeds[1],
                                            size=(h, w), start_index=first_nonface)
    elif others.size:
        out[others] = render_nonfaces(int(others.size), seed=seeds[1], size=(h, w),
                                      start_index=first_nonface)
    return out


def _block_args(plan: SynthPlan, size: int | tuple[int, int]) -> Iterator[tuple]:
    faces_before = np.concatenate([[0], np.cumsum(plan.is_face)])   # (N + 1,)
    for start in range(0, plan.n, BLOCK):
        sl = slice(start, start + BLOCK)
        nf = int(faces_before[start])
        yield (plan.attrs[sl], plan.skin_tone[sl], plan.is_face[sl], nf, start - nf,
               plan.render_seeds, size, plan.scene)


def _render_all(plan: SynthPlan, size: int | tuple[int, int], workers: int | None,
                sink: Callable[[int, np.ndarray], None], progress: Progress | None) -> None:
    """Render every block in order and hand ``(start, images)`` to ``sink``."""
    done = 0
    args = _block_args(plan, size)
    if workers is not None and workers > 1 and plan.n > BLOCK:
        # fork where safe, else forkserver (torch/threads in the parent); the workers exit
        # if this process is killed (data.workers); results arrive in block order.
        pool = worker_pool(workers)
        try:
            for imgs in pool.map(_render_block, *zip(*args)):
                sink(done, imgs)
                done += len(imgs)
                if progress:
                    progress(done, plan.n)
        finally:   # an error or Ctrl-C: drop the blocks not started, wait for the rest
            pool.shutdown(wait=True, cancel_futures=True)
        return
    for a in args:
        imgs = _render_block(*a)
        sink(done, imgs)
        done += len(imgs)
        if progress:
            progress(done, plan.n)


def synthesize_cache(world: World | str, n: int, out: str | Path, *,
                     size: int | tuple[int, int] = 64, seed: int = 0, val_frac: float = 0.1,
                     test_frac: float = 0.1, nonfaces: int = 0, workers: int | None = None,
                     progress: Progress | None = None, overwrite: bool = False,
                     scene: str | None = None) -> Cache:
    """Render ``n`` faces (plus ``nonfaces`` non-faces) of ``world`` into a cache at ``out``.

    Group columns: ``skin_type`` (0 lighter / 1 darker; -1 for non-faces) and, only when
    ``nonfaces > 0``, ``is_face`` (1/0). Extra column: ``skin_tone`` in [0, 1] (NaN for
    non-faces). Images stream block by block (:data:`BLOCK` rows) through
    :class:`CacheWriter` into the memory-mapped image file, so the whole image array is
    never held in memory; the cache appears atomically when complete.

    Parameters
    ----------
    world : a ``World`` or a preset name / JSON file (see :func:`load_world`)
    n : number of faces
    out : cache folder to create
    size : image side (or ``(height, width)``)
    seed : seeds labels, splits and rendering; same seed -> same content hash
    val_frac, test_frac : split fractions (of all rows)
    nonfaces : number of rendered non-face images (negatives for face detection)
    workers : render processes (None/1: in this process)
    progress : ``progress(done, total)`` callback
    overwrite : replace an existing cache at ``out``
    scene : capture conditions of every image (:data:`biaslens.world.scene.SCENES`:
        ``detection`` = dim light, framing jitter, occluders, hard negatives); None: none

    Examples
    --------
    >>> cache = synthesize_cache("celeba", 100, "/tmp/w100", size=32)  # doctest: +SKIP
    """
    from biaslens.data.cache import CacheWriter, load_cache

    world = load_world(world)
    plan = plan_dataset(world, n, seed=seed, val_frac=val_frac, test_frac=test_frac,
                        nonfaces=nonfaces, scene=scene)
    from biaslens.world.render import parse_size

    h, w = parse_size(size)
    group_names = ["skin_type"] + (["is_face"] if nonfaces else [])
    groups = plan.skin_type[:, None]
    if nonfaces:
        groups = np.column_stack([plan.skin_type, plan.is_face.astype(np.int16)])
    source = {"kind": "synthetic-world", "world": _world_id(world), "n_faces": n,
              "nonfaces": nonfaces, "seed": seed, "size": [h, w], "val_frac": val_frac,
              "test_frac": test_frac, **({"scene": plan.scene} if plan.scene else {})}
    with CacheWriter(out, n=plan.n, height=h, width=w, attribute_names=plan.attribute_names,
                     group_names=group_names, extra_names=["skin_tone"], source=source,
                     crop=None, overwrite=overwrite) as writer:
        _render_all(plan, (h, w), workers, writer.write_images, progress)
        writer.set_labels(attrs=plan.attrs, split=plan.split,
                          groups=groups.astype(np.int16), extra={"skin_tone": plan.skin_tone})
    return load_cache(out)


def export_celeba(world: World | str, n: int, out_dir: str | Path, *, seed: int = 0,
                  val_frac: float = 0.1, test_frac: float = 0.1,
                  size: tuple[int, int] = CELEBA_SIZE, quality: int = 95,
                  workers: int | None = None, progress: Progress | None = None) -> Path:
    """Write ``n`` faces of ``world`` in CelebA's folder layout; returns ``out_dir``.

    Layout: ``img_align_celeba/000001.jpg`` ... (``size`` = (218, 178) like CelebA's
    aligned images, JPEG quality ``quality``), ``list_attr_celeba.txt`` (count line,
    names line, ``000001.jpg -1  1 ...``), ``list_eval_partition.txt``
    (``000001.jpg 0|1|2``) and ``list_groups_celeba.txt`` (``skin_type``, same table
    format). Labels and splits equal those of :func:`synthesize_cache` with the same
    seed. The folder is built next to ``out_dir`` and moved into place when complete.
    """
    from PIL import Image

    from biaslens.data.celeba import (
        ATTR_FILE,
        GROUPS_FILE,
        IMAGE_DIR,
        PARTITION_FILE,
        format_table,
    )

    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DataError("output folder exists and is not empty", path=out_dir)
    world = load_world(world)
    plan = plan_dataset(world, n, seed=seed, val_frac=val_frac, test_frac=test_frac)
    names = [f"{i + 1:06d}.jpg" for i in range(plan.n)]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.partial-"))
    try:
        os.chmod(tmp, dir_mode())  # an export is meant to be shared: the umask's mode, not 0700
        img_dir = tmp / IMAGE_DIR
        img_dir.mkdir()

        def sink(start: int, imgs: np.ndarray) -> None:
            for i, img in enumerate(imgs):
                Image.fromarray(img).save(img_dir / names[start + i], quality=quality)

        _render_all(plan, tuple(size), workers, sink, progress)
        (tmp / ATTR_FILE).write_text(format_table(names, plan.attrs, plan.attribute_names))
        (tmp / PARTITION_FILE).write_text(
            "".join(f"{f} {int(s)}\n" for f, s in zip(names, plan.split)))
        (tmp / GROUPS_FILE).write_text(
            format_table(names, plan.skin_type[:, None], ["skin_type"], width=1))
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
