"""The demo (``biaslens demo``, ``biaslens data demo``): the main job on the embedded default,
scored against the synthetic world's truth.

Two stages, so a caller can show each before the next starts:

1. :func:`dataset_demo` synthesizes a small default-world cache, measures its bias
   (:func:`biaslens.pipelines.dataset.cache_stats`) and compares the top correlations
   with the world's true phi; writes ``OUT/cache``, ``OUT/stats.json`` and
   ``OUT/contact_sheet.png``.
2. :func:`steering_demo` steers the shipped (or given) generator toward a target with
   the shipped classifier in the GANs course's update rule, compared with default-world
   faces, and scores the table against the truth; writes ``OUT/steer.json`` and
   ``OUT/truth_score.json``.

The figures (``steer_grid.png``, ``steer_covariance.png``) and the console tables are
the caller's rendering.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from biaslens.errors import BiasLensError
from biaslens.io import write_json

if TYPE_CHECKING:
    from biaslens.audit.dataset import CorrelatedAttribute, DatasetStats
    from biaslens.audit.steer import SteerResult
    from biaslens.audit.truth import TruthScore

__all__ = ["DatasetDemo", "SteeringDemo", "check_steering_demo", "dataset_demo",
           "steering_demo"]

#: Faces on the demo's contact sheet.
N_SHEET = 32


@dataclass
class DatasetDemo:
    """What :func:`dataset_demo` measured and wrote.

    ``result`` is the JSON written to ``stats.json`` (with the largest measured-vs-true
    error and how many CIs cover the truth); ``true_phi`` the world's phi of every
    attribute with the target; ``top`` the measured top correlations that the world
    renders (those compared with the truth).
    """

    stats: DatasetStats
    true_phi: dict[str, float]
    top: list[CorrelatedAttribute]
    result: dict[str, Any]
    stats_path: Path
    sheet_path: Path


def dataset_demo(out: str | Path, *, n: int = 2000, size: int = 64, seed: int = 0,
                 n_boot: int = 500, world: str = "celeba",
                 progress: Callable[[int, int], None] | None = None) -> DatasetDemo:
    """Synthesize ``n`` faces of ``world`` into ``OUT/cache``, measure their bias and
    compare it with the world's truth (see the module docstring).

    ``progress(done, total)`` follows the rendering. An ``OUT/cache`` that exists and is
    not a cache is refused (it would be replaced).
    """
    from biaslens.pipelines.dataset import cache_stats, save_sheet
    from biaslens.world.synth import load_world, synthesize_cache

    out = Path(out)
    t0 = time.perf_counter()
    w = load_world(world)
    if (out / "cache").exists() and not (out / "cache" / "manifest.json").is_file():
        raise BiasLensError(f"{out / 'cache'} exists and is not a cache; remove it or pick "
                            "another --out")
    cache = synthesize_cache(w, n, out / "cache", size=size, seed=seed, overwrite=True,
                             progress=progress)
    stats = cache_stats(cache, target="Male", groups=["Male", "skin_type"], n_boot=n_boot,
                        seed=seed, split="all")
    truth = w.truth(target="Male")
    true_phi = {name: float(truth.phi[i]) for i, name in enumerate(truth.names)
                if i != truth.index}
    top = [c for c in stats.top if c.name in true_phi]
    err = [abs(c.phi - true_phi[c.name]) for c in top]
    covered = sum(c.ci_lo <= true_phi[c.name] <= c.ci_hi for c in top)
    sheet = save_sheet(np.asarray(cache.images[:N_SHEET]), np.asarray(cache.attrs[:N_SHEET]),
                       cache.attribute_names, out / "contact_sheet.png",
                       skin_tone=cache.extra["skin_tone"][:N_SHEET])
    result = {"cache": str(out / "cache"), "content_hash": cache.content_hash,
              "world": w.name, "stats": stats.to_dict(),
              "true_phi_top": {c.name: true_phi[c.name] for c in top},
              "max_abs_phi_error_top": float(max(err)) if err else None,
              "true_phi_in_ci": int(covered), "seconds": round(time.perf_counter() - t0, 2)}
    path = write_json(result, out / "stats.json")
    return DatasetDemo(stats=stats, true_phi=true_phi, top=top, result=result,
                       stats_path=path, sheet_path=sheet)


@dataclass
class SteeringDemo:
    """What :func:`steering_demo` measured: the steering audit and its truth score."""

    result: SteerResult
    score: TruthScore


def check_steering_demo(*, target: str = "-Male", n_steer: int = 128, steps: int = 20,
                        seed: int = 0, generator: str | Path | None = None,
                        classifier: str | Path | None = None, precision: str = "auto") -> None:
    """Check the inputs of :func:`steering_demo` without steering, so the demo can refuse
    a bad ``--classifier``, ``--target`` or ``--n-steer`` before its first stage writes
    anything: the checkpoints exist and play their roles, the target is one of the
    classifier's attributes and the steering options are in range."""
    from biaslens.audit.steer import SteerOptions
    from biaslens.names import resolve_attribute
    from biaslens.pipelines.inputs import load_for_role, model_path
    from biaslens.precision import resolve_precision

    SteerOptions(n_samples=n_steer, steps=steps, seed=seed)   # ranges checked on creation
    resolve_precision(precision, "cpu")
    model_path(generator, "generator")
    clf = load_for_role(model_path(classifier, "classifier"), "classifier")
    resolve_attribute(target, list(getattr(clf, "attribute_names", []) or []))


def steering_demo(out: str | Path, *, target: str = "-Male", n_steer: int = 128,
                  steps: int = 20, seed: int = 0, generator: str | Path | None = None,
                  classifier: str | Path | None = None, precision: str = "auto",
                  step_size: float | str = "calibrated") -> SteeringDemo:
    """Steer the generator toward ``target``, compare with the data, score against the
    truth; writes ``OUT/steer.json`` and ``OUT/truth_score.json``.

    ``generator``/``classifier`` default to the shipped models (one clear error when
    they are not installed). ``precision``: of the model passes (``auto``: bf16 on a CPU
    or GPU with bf16 matrix units; docs/validation.md compares it with fp32).
    ``step_size``: ``"calibrated"`` (default: the step under which P(target) crosses
    0.2 → 0.8, so the grid shows the change), ``"course"`` (1/steps) or a number.
    """
    import torch

    from biaslens.audit.steer import steer_audit
    from biaslens.audit.truth import score_steering
    from biaslens.data.reference import load_reference
    from biaslens.pipelines.inputs import load_for_role, model_path
    from biaslens.world import World

    out = Path(out)
    gen = load_for_role(model_path(generator, "generator"), "generator")
    clf = load_for_role(model_path(classifier, "classifier"), "classifier")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    # The course's accumulated gradient (z.grad never cleared) with a calibrated step:
    # one pilot usually suffices, and the faces visibly change (docs/steering.md).
    # Reference: faces of the default world, the data the shipped models were trained on
    # (compares the steering slopes with the classifier's slopes on that data).
    ref = load_reference("world:celeba", n=2000, seed=seed + 1,
                         image_size=int(getattr(clf, "image_size", 64)))
    result = steer_audit(gen, clf, target, n_samples=n_steer, steps=steps,
                         step_size=step_size, accumulate_grad=True, n_boot=500, seed=seed,
                         reference=ref.images, reference_name=ref.description,
                         precision=precision)
    write_json(result.to_dict(), out / "steer.json")
    score = score_steering(result, World.preset("celeba").truth(target))
    write_json(score.to_dict(), out / "truth_score.json")
    return SteeringDemo(result=result, score=score)
