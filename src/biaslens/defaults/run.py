"""Running the default recipes: render the data, train, evaluate, ship (or keep in a root).

:func:`run_steps` is what ``biaslens models defaults train|evaluate`` call; the
steps are ``data`` (render every cache), a recipe name (train it, evaluate it, ship it)
and ``grid`` (the generator's sample grid); ``all`` is ``data`` and every recipe in
order. Only the default call (world ``celeba``, the recipes' face counts, shipping not
turned off) copies weights into the package; any other world or face count trains and
evaluates into ``root`` only (quality in ``ROOT/run-<name>/quality.json``, the
generator's sample grid in ``ROOT/generated_grid.png``). :func:`plan` resolves the
same steps without running them (``--dry-run``).

Examples
--------
>>> run_steps(["classifier"], Path("runs/defaults"))                  # doctest: +SKIP
>>> run_steps(["classifier", "generator"], Path("runs/independent"),   # doctest: +SKIP
...           world="independent", n_faces=20000)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from biaslens.defaults import RESOURCE_MODELS, data, evaluate, ship
from biaslens.defaults.recipes import (
    DATASETS,
    DEFAULT_WORLD,
    DOCS_GRID,
    RECIPES,
    dataset_spec,
    train_command,
)
from biaslens.io import write_json

__all__ = ["expand_steps", "plan", "run_steps", "train", "train_call"]


def expand_steps(steps: Sequence[str]) -> list[str]:
    """``steps`` in the order given; with ``all`` among them, ``data`` and every recipe
    (and nothing else)."""
    return ["data", *RECIPES] if "all" in steps else list(steps)


def _run_folder(name: str, root: Path) -> Path:
    return root / f"run-{name}"


def train_call(name: str, root: Path, world: str | None = None,
               n_faces: int | None = None) -> dict[str, Any]:
    """The keywords :func:`train` passes to ``biaslens.train.<train_fn>`` for recipe
    ``name`` (the recipe's fixed keywords plus data, out, command, device and resume)."""
    rec = RECIPES[name]
    out = _run_folder(name, root)
    # An existing run continues exactly where it stopped (the engine's resume is
    # bit-exact on CPU), so a longer recipe extends a shorter run to the same weights.
    return {"data": root / DATASETS[rec.dataset]["folder"], "out": out,
            "command": train_command(name, root, world, n_faces), "device": "cpu",
            "resume": (out / "checkpoints" / "latest").is_dir(), **rec.kwargs}


def train(name: str, root: Path, *, log: Callable[[str], None] = print,
          world: str | None = None, n_faces: int | None = None) -> Path:
    """Run the recipe's training (stops early, with a checkpoint, after ``max_minutes``;
    resumes the run in ``root/run-<name>`` when it has a checkpoint). ``world`` and
    ``n_faces`` only enter the recorded command (the data is ``root``'s cache)."""
    import biaslens.train as engine

    rec = RECIPES[name]
    t0 = time.monotonic()
    last = [0.0]

    def progress(step: int, total: int, metrics: dict[str, float]) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            log(f"[{name}] {step}/{total} {time.monotonic() - t0:.0f}s "
                + " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())))

    call = train_call(name, root, world, n_faces)
    fn = getattr(engine, rec.train_fn)
    result = fn(call.pop("data"), progress=progress,
                should_stop=lambda: time.monotonic() - t0 > rec.max_minutes * 60, **call)
    summary = {k: v for k, v in result.to_dict().items() if k != "config"}
    out = call["out"]
    write_json(summary, out / "result.json")   # strict JSON (NaN -> null)
    log(f"[{name}] {summary['status']} at step {summary['step']}/{summary['steps']}, "
        f"{summary['images_per_s']:.1f} images/s, {summary['wall_s']:.0f}s")
    return out


def _grid_paths(root: Path, shipping: bool, grid: Path) -> tuple[Path, Path]:
    """(generator checkpoint, PNG): the shipped generator and ``grid`` when shipping, else
    the run's generator and ``root/generated_grid.png``."""
    if shipping:
        return RESOURCE_MODELS / "generator", grid
    run = _run_folder("generator", root) / "checkpoints" / "latest"
    return run / RECIPES["generator"].model_folder, root / "generated_grid.png"


def _shipping(ship_models: bool, world: str | None, n_faces: int | None) -> bool:
    return ship_models and world in (None, DEFAULT_WORLD) and n_faces is None


def run_steps(steps: Sequence[str], root: Path, *, train_models: bool = True,
              ship_models: bool = True, world: str | None = None, n_faces: int | None = None,
              grid: Path = DOCS_GRID, log: Callable[[str], None] = print) -> None:
    """Run ``steps`` (names of :data:`~biaslens.defaults.recipes.STEPS`) under ``root``, in
    order.

    Parameters
    ----------
    steps : e.g. ``["all"]``, ``["data", "classifier"]``, ``["generator", "grid"]``.
    root : folder of the caches (``synth64/``, ``dbvae64/``) and runs (``run-<name>/``).
    train_models : False evaluates (and ships) existing runs without training them.
    ship_models : False keeps the shipped models untouched (quality into ``root`` only).
    world, n_faces : another world preset / faces per cache (never ships); None (or
        ``"celeba"``) for the recipes' own.
    grid : where the shipping call saves the generator's sample grid.
    log : called with one line per event.
    """
    world = None if world == DEFAULT_WORLD else world
    shipping = _shipping(ship_models, world, n_faces)

    def save_grid() -> Path:
        from biaslens.models import load_checkpoint

        src, dest = _grid_paths(root, shipping, grid)
        return ship.save_generated_grid(load_checkpoint(src)[0], dest)

    if not shipping:
        log(f"not shipping: results stay in {root}" + (
            f" (world {world or DEFAULT_WORLD}, n_faces {n_faces or 'recipe'})"
            if train_models else ""))
    for step in expand_steps(steps):
        if step == "data":
            for key in DATASETS:
                log(f"data {key}: {data.make_data(key, root, world=world, n_faces=n_faces)}")
            continue
        if step == "grid":
            log(f"grid: {save_grid()}")
            continue
        if train_models:
            data.make_data(RECIPES[step].dataset, root, world=world, n_faces=n_faces)
            train(step, root, log=log, world=world, n_faces=n_faces)
        quality = evaluate.evaluate_run(step, root)
        log(f"[{step}] quality: " + json.dumps(
            {k: v for k, v in quality.items() if not isinstance(v, dict)}, default=float))
        if shipping:
            log(f"[{step}] shipped: {ship.ship(step, root, quality)}")
        else:
            qpath = _run_folder(step, root) / "quality.json"
            write_json(quality, qpath)
            log(f"[{step}] quality written to {qpath} (not shipped)")
        if step == "generator":
            log(f"grid: {save_grid()}")


def plan(steps: Sequence[str], root: Path, *, train_models: bool = True,
         ship_models: bool = True, world: str | None = None, n_faces: int | None = None,
         grid: Path = DOCS_GRID) -> dict[str, Any]:
    """What :func:`run_steps` with the same arguments would do, resolved, without doing it:
    per step the caches, the engine function with its keywords, where the quality and
    the weights go (JSON-able; what ``--dry-run`` prints)."""
    world = None if world == DEFAULT_WORLD else world
    shipping = _shipping(ship_models, world, n_faces)

    def grid_entry() -> dict[str, str]:
        src, dest = _grid_paths(root, shipping, grid)
        return {"generator": str(src), "png": str(dest)}

    resolved = []
    for step in expand_steps(steps):
        if step == "data":
            resolved.append({"step": "data", "caches": {
                key: {**dataset_spec(key, world, n_faces),
                      "path": str(root / DATASETS[key]["folder"])} for key in DATASETS}})
            continue
        if step == "grid":
            resolved.append({"step": "grid", **grid_entry()})
            continue
        rec = RECIPES[step]
        entry: dict[str, Any] = {"step": step, "train": None}
        if train_models:
            call = {k: str(v) if isinstance(v, Path) else v
                    for k, v in train_call(step, root, world, n_faces).items()}
            entry["train"] = {"function": f"biaslens.train.{rec.train_fn}",
                              "dataset": dataset_spec(rec.dataset, world, n_faces),
                              "max_minutes": rec.max_minutes, "kwargs": call}
        entry["evaluate"] = str(_run_folder(step, root) / "checkpoints" / "latest"
                                / rec.model_folder)
        entry["ship"] = str(RESOURCE_MODELS / step) if shipping else None
        entry["quality"] = None if shipping else str(_run_folder(step, root) / "quality.json")
        if step == "generator":
            entry["grid"] = grid_entry()
        resolved.append(entry)
    return {"root": str(root), "world": world or DEFAULT_WORLD, "n_faces": n_faces,
            "shipping": shipping, "steps": resolved}
