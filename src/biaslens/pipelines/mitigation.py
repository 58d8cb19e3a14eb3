"""Mitigation runs: what ``biaslens mitigate dbvae|latent-aug`` and ``biaslens experiment
latent-aug`` do, for the CLI and any other caller.

Each function resolves its inputs (a cache or the synthesized default world; the generator
and the labelling classifier for their roles, :func:`biaslens.pipelines.inputs.model_for_role`),
runs the compute of :mod:`biaslens.mitigate`, writes the run folder's JSON (strict:
NaN -> null) and returns the result. Plots and tables are the caller's
(:mod:`biaslens.report.plots_mitigate`, the CLI).

>>> from biaslens.pipelines.mitigation import dbvae_run
>>> res = dbvae_run(None, out="runs/dbvae", epochs=1, n_faces=200)  # doctest: +SKIP
>>> res.comparison.gap_change["dbvae - standard_cnn"]["gap_prob"]["verdict"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.errors import BiasLensError, DataError
from biaslens.io import write_json
from biaslens.mitigate.dbvae_experiment import DBVAEConfig, DBVAEExperiment, run_dbvae_experiment
from biaslens.mitigate.latent_aug import (
    LatentAugOptions,
    LatentAugResult,
    changes_by_target,
    run_latent_aug,
    summarize_by_category,
)
from biaslens.options import resolve_options
from biaslens.pipelines.inputs import model_for_role

__all__ = ["dbvae_run", "latent_aug_experiment", "latent_aug_run"]

#: ``progress(stage, done, total)``, e.g. a rich progress bar per stage.
Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- DB-VAE


def _face_data(cache: Any, cfg: DBVAEConfig, out: Path, progress: Progress | None) -> Any:
    """The given face/non-face cache, else the default world synthesized into ``out/data``
    (re-used when a rerun finds it there)."""
    from biaslens.world.synth import synthesize_cache

    if cache is not None:
        return cache
    data_dir = out / "data"
    if (data_dir / "manifest.json").exists():
        return data_dir
    return synthesize_cache(cfg.world, cfg.n_faces, data_dir, size=64, seed=cfg.seed,
                            nonfaces=cfg.n_nonfaces, scene=cfg.scene,
                            progress=None if progress is None else
                            (lambda d, t: progress("render", d, t)))


def dbvae_run(cache: str | Path | None = None, *, out: str | Path,
              config: DBVAEConfig | None = None, progress: Progress | None = None,
              **overrides: Any) -> DBVAEExperiment:
    """Standard CNN vs DB-VAE face detection, written to the run folder ``out``.

    Writes ``out/config.json`` (``cache`` and the config) before anything runs, then
    trains both detectors on ``cache`` (without one: ``config.n_faces`` faces of
    ``config.world`` and ``config.n_nonfaces`` non-faces synthesized into ``out/data``)
    and writes ``out/dbvae_eval.json``. ``**overrides`` are :class:`DBVAEConfig` fields.
    """
    from biaslens.world.scene import scene_params

    cfg = resolve_options(DBVAEConfig, config, overrides, where="dbvae_run")
    scene_params(cfg.scene)   # an unknown scene fails before the run folder exists
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json({"cache": cache, **cfg.to_dict()}, out / "config.json")
    res = run_dbvae_experiment(_face_data(cache, cfg, out, progress), out=out, config=cfg,
                               progress=progress)
    write_json(res.to_dict(), out / "dbvae_eval.json")
    return res


# --------------------------------------------------------------------------- latent augmentation


def _split_test(td: Any, cache: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The cache's test split ``(images, attrs)``; the attributes must be CelebA's 40."""
    from biaslens.names import CELEBA_ATTRIBUTES

    idx = td.indices("test")
    if len(idx) < 20:
        raise DataError(f"the cache has {len(idx)} test rows; latent-aug needs >= 20 "
                        "(half calibrate the threshold, half are scored)", path=cache,
                        field="split")
    if list(td.attribute_names) != list(CELEBA_ATTRIBUTES):
        raise DataError("latent-aug needs the 40 CelebA attributes in CelebA order",
                        path=cache, field="attribute_names")
    return np.asarray(td.images[idx]), td.attrs[idx]


def _real_inputs(cache: str | Path, generator: str | Path | None, classifier: str | Path | None,
                 device: str) -> tuple[Any, tuple[np.ndarray, np.ndarray], Any, Any]:
    """``(train data, test split, generator, labeller)`` for a real cache; ``classifier``
    ``"baseline"`` gives labeller None (the trained baseline labels)."""
    from biaslens.train import as_train_data

    td = as_train_data(cache)
    test = _split_test(td, cache)
    gen, _ = model_for_role(generator, "generator", device=device)
    lab = None if classifier == "baseline" else model_for_role(classifier, "classifier",
                                                               device=device)[0]
    return td, test, gen, lab


def _toy_setup(target: str, protected: str, cosine: float, n_real: int, seed: int):
    """The planted world: generator with cos(target, protected) = ``cosine``; test world
    independent (cos 0) with a different renderer seed."""
    from biaslens.mitigate.world_generator import WorldGenerator

    gen = WorldGenerator(attributes=(target, protected),
                         cosines={f"{target},{protected}": cosine}, seed=seed)
    real = gen.sample_dataset(n_real, seed=seed + 1)
    test = WorldGenerator(attributes=(target, protected), seed=seed + 7).sample_dataset(
        n_real, seed=seed + 2)
    return gen, real, (np.asarray(test.images), test.attrs)


def latent_aug_run(cache: str | Path, *, target: str, protected: str | Sequence[str] = "Male",
                   generator: str | Path | None = None, classifier: str | Path | None = None,
                   out: str | Path, options: LatentAugOptions | None = None,
                   progress: Progress | None = None, **overrides: Any) -> LatentAugResult:
    """Baseline vs latent-augmented classifier on a real cache, written to ``out``.

    Parameters
    ----------
    cache : real training data with train/val/test splits and the 40 CelebA attributes
        (the test split is scored, >= 20 rows).
    generator : generator checkpoint; None = the shipped default.
    classifier : labelling classifier checkpoint; None = the shipped default,
        ``"baseline"`` = the baseline trained in this run (the paper's choice).
    out : run folder: ``baseline/``, ``augmented/`` and ``latent_aug.json``.
    options, **overrides : :class:`~biaslens.mitigate.latent_aug.LatentAugOptions`.
    """
    o = resolve_options(LatentAugOptions, options, overrides, where="latent_aug_run")
    td, test, gen, lab = _real_inputs(cache, generator, classifier, o.device)
    res = run_latent_aug(td, gen, o, target=target, protected=protected, test=test, out=out,
                         labeler=lab, progress=progress)
    write_json(res.to_dict(), Path(out) / "latent_aug.json")
    return res


def latent_aug_experiment(cache: str | Path | None, *, targets: Sequence[str],
                          protected: str = "Male", generator: str | Path | None = None,
                          classifier: str | Path | None = "baseline", toy: bool = False,
                          cosine: float = 0.8, n_real: int = 2000, out: str | Path,
                          seeds: Sequence[int] | None = None,
                          options: LatentAugOptions | None = None,
                          progress: Progress | None = None, **overrides: Any
                          ) -> dict[str, Any]:
    """:func:`latent_aug_run` over several targets (and seeds) and the paper's table.

    With ``toy`` each target gets the planted world (a :class:`WorldGenerator` with
    cos(target, protected) = ``cosine``, ``n_real`` training faces, an independent test
    world) instead of ``cache``. ``seeds`` (default: the options' one seed) repeats every
    target with each seed (weights, z draws, bootstrap); the data stay the same. Writes
    ``out/<target>/latent_aug.json`` (one seed) or ``out/seed<S>/<target>/latent_aug.json``
    and ``out/experiment.json``; returns the latter's content (``targets``: the per-run
    results, each with its ``seed``; ``summary``:
    :func:`~biaslens.mitigate.latent_aug.summarize_by_category` over all runs;
    ``by_target``: :func:`~biaslens.mitigate.latent_aug.changes_by_target`).
    """
    o = resolve_options(LatentAugOptions, options, overrides, where="latent_aug_experiment")
    if not toy and cache is None:
        raise BiasLensError("pass a CACHE (with --generator or a shipped generator) or --toy")
    seeds = [o.seed] if seeds is None else [int(x) for x in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise BiasLensError(f"seeds must be distinct integers >= 0; got {seeds}")
    if toy:  # the planted world's training rows (sample_dataset keeps some for val)
        from biaslens.mitigate.world_generator import WorldGenerator

        n_train = WorldGenerator.n_train(n_real)
        if n_train < o.batch_size:
            least = next(n for n in range(o.batch_size, 4 * o.batch_size + 4)
                         if WorldGenerator.n_train(n) >= o.batch_size)
            raise BiasLensError(f"--n-real {n_real} gives {n_train} training faces (the rest "
                                f"are held out for val), fewer than the classifier's batch "
                                f"size {o.batch_size}: give --n-real >= {least}")
    out = Path(out)
    if not toy:
        td, test, gen, lab = _real_inputs(cache, generator, classifier, o.device)
    rows = []
    for seed in seeds:
        os_ = dataclasses.replace(o, seed=seed)
        base = out if len(seeds) == 1 else out / f"seed{seed}"
        for t in targets:
            if toy:
                gen, td, test = _toy_setup(t, protected, cosine, n_real, seed)
                lab = None
            tag = t if len(seeds) == 1 else f"seed {seed}, {t}"
            each = None if progress is None else (
                lambda stage, done, total, tag=tag: progress(f"{tag}: {stage}", done, total))
            res = {**run_latent_aug(td, gen, os_, target=t, protected=protected, test=test,
                                    out=base / t, labeler=lab, progress=each).to_dict(),
                   "seed": seed}
            write_json(res, base / t / "latent_aug.json")
            rows.append(res)
    doc = {"targets": rows, "seeds": seeds, "summary": summarize_by_category(rows),
           "by_target": changes_by_target(rows), "toy": toy,
           "cosine": cosine if toy else None}
    write_json(doc, out / "experiment.json")
    return doc
