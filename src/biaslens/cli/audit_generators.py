"""``biaslens audit population|reconstruct|counterfactual`` and ``experiment ratio-sweep``.

Examples::

    biaslens audit population --generator gen/ --classifier clf/ --cache caches/synth64 \\
        --n 10000 --groups Male --out runs/population
    biaslens audit reconstruct --vae vae/ --classifier clf/ --cache caches/synth64 \\
        --groups Male,skin_type --per-group 200 --out runs/reconstruct
    biaslens audit counterfactual --cvae cvae/ --classifier clf/ --condition Male --out runs/cf
    biaslens experiment ratio-sweep --shares 0.3,0.48,0.5,0.6 --model vae --n 4000 \\
        --steps 2000 --classifier clf/ --out runs/sweep
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer

from biaslens.cli._common import audit_app, console, err_console, experiment_app
from biaslens.io import write_json
from biaslens.pipelines.inputs import load_for_role, model_path
from biaslens.errors import BiasLensError, UnknownNameError

if TYPE_CHECKING:  # torch loads lazily: `biaslens --help` stays fast
    from torch import nn

#: Size of the default cache synthesized when no ``--cache`` is given.
DEFAULT_CACHE_N = 2000
SPLITS = ("train", "val", "test", "all")


resolve_checkpoint = model_path


def _prologue(models: dict[str, Path | None], device: str, cache: Path | None, out: Path,
              dry_run: bool, **options: Any) -> tuple[dict[str, Path], Any, dict] | None:
    """Resolve the model checkpoints and the device and collect the run's settings.

    Returns ``(paths, device, settings)``, or ``None`` after printing the settings when
    ``dry_run`` (the command then stops before loading anything).
    """
    from biaslens.tensors import pick_device

    paths = {role: resolve_checkpoint(given, role) for role, given in models.items()}
    dev = pick_device(device)
    settings = {**{role: str(p) for role, p in paths.items()},
                "cache": None if cache is None else str(cache), **options,
                "device": str(dev), "out": str(out)}
    if dry_run:
        console.print_json(json.dumps(settings))
        return None
    return paths, dev, settings


def _split_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@contextlib.contextmanager
def open_cache(path: Path | None, size: int, seed: int = 0, quiet: bool = False,
               world: str = "celeba") -> Iterator[Any]:
    """Load ``path``, or synthesize a small cache of ``world`` in a temp folder.

    The temporary cache (``DEFAULT_CACHE_N`` faces of ``world``, seed ``seed``, ``size``
    pixels) is removed on exit; the user is told it was made.
    """
    from biaslens.data.cache import load_cache

    if path is not None:
        yield load_cache(path)
        return
    from biaslens.world.synth import synthesize_cache

    if not quiet:
        err_console.print(f"no --cache given: synthesizing a {world!r}-world cache "
                          f"({DEFAULT_CACHE_N} faces, seed {seed}, {size}px) in a temp folder")
    with tempfile.TemporaryDirectory(prefix="biaslens-cache-") as tmp:
        yield synthesize_cache(world, DEFAULT_CACHE_N, Path(tmp) / "cache", size=size,
                               seed=seed)


def _view(cache: Any, split: str) -> Any:
    """The rows of ``split`` as a lazy :class:`CacheView` (images read on indexing)."""
    if split not in SPLITS:
        raise BiasLensError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    view = cache.subset(None if split == "all" else split)
    if len(view) == 0:
        raise BiasLensError(f"{cache.path}: the cache has no {split!r} rows (try --split all)")
    return view


def _group_columns(view: Any) -> dict[str, np.ndarray]:
    if view.groups is None:
        return {}
    return {name: np.asarray(view.groups[:, k]) for k, name in enumerate(view.group_names)}


def _image_size(model: nn.Module, default: int = 64) -> int:
    size = getattr(model, "image_size", None)
    return int(size) if isinstance(size, int) else default


def _finish(data: dict[str, Any], path: Path, json_flag: bool) -> bool:
    write_json(data, path)
    if json_flag:
        typer.echo(json.dumps(data, indent=2))
    return json_flag


_JSON = typer.Option(False, "--json", help="Print the JSON result instead of the table.")
_DRY = typer.Option(False, help="Print the resolved settings and stop.")
_DEVICE = typer.Option("auto", help="auto, cpu or cuda.")
_CACHE = typer.Option(None, help="Dataset cache folder (default: synthesize a small "
                      "default-world cache, 2000 faces, seed 0).")


@audit_app.command("population")
def population_cmd(
    generator: Path = typer.Option(None, help="Generator (or VAE/CVAE) checkpoint."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth."),
    cache: Path = _CACHE,
    n: int = typer.Option(10000, "--n", help="Generated samples."),
    batch_size: int = typer.Option(512, help="Generation batch size."),
    groups: str = typer.Option("Male", help="Comma-separated attributes crossed into groups."),
    split: str = typer.Option("train", help="Data rows to compare with (train/val/test/all)."),
    correct: bool = typer.Option(True, help="Rogan–Gladen correction with the classifier's "
                                 "TPR/FPR on the cache's val split."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples."),
    associations: str = typer.Option(
        "auto", help="Compare every attribute's association with this attribute in "
        "generated vs real faces of --split ('auto': the first --groups column, skipped "
        "when --n-boot < 50; 'none': skip)."),
    reference_n: int = typer.Option(2000, help="Real faces sampled for the association "
                                     "comparison."),
    top_k: int = typer.Option(20, help="Attributes in the table and chart."),
    seed: int = typer.Option(0, help="Seed of the noise and the resampling."),
    device: str = _DEVICE,
    out: Path = typer.Option(Path("population-out"), help="Output folder."),
    json_flag: bool = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Generate N faces and compare their attribute and group mix with the training data.

    Writes OUT/population.json and OUT/population.png.
    """
    start = _prologue({"generator": generator, "classifier": classifier}, device, cache, out,
                      dry_run, n=n, batch_size=batch_size, groups=_split_list(groups),
                      split=split, correct=correct, n_boot=n_boot, seed=seed,
                      associations=associations, reference_n=reference_n)
    if start is None:
        return
    paths, dev, settings = start
    gen_path, clf_path = paths["generator"], paths["classifier"]
    from biaslens.audit.population import classifier_rates, population_audit
    from biaslens.data.reference import sample_images
    from biaslens.report.plots_generators import (
        association_table,
        plot_population,
        population_table,
    )
    from biaslens.report.figures import save_figure

    gen = load_for_role(gen_path, "generator", accept=("generator", "vae"))
    clf = load_for_role(clf_path, "classifier")
    with open_cache(cache, _image_size(clf, _image_size(gen)), quiet=json_flag) as c:
        view = _view(c, split)
        rates = None
        if correct:
            val = c.subset("val")
            if len(val) == 0:
                raise BiasLensError(f"{c.path}: no val rows to measure the classifier's "
                                    "TPR/FPR; pass --no-correct")
            rates = classifier_rates(clf, val.images, val.attrs, c.attribute_names,
                                     device=dev)
        ref, assoc_kw = None, {}
        auto = associations.lower() == "auto"
        if associations.lower() != "none" and not (auto and n_boot < 50):
            if n_boot < 50:
                raise BiasLensError(f"the association comparison needs --n-boot >= 50 "
                                    f"(got {n_boot}); or pass --associations none")
            if reference_n < 10:
                raise BiasLensError(f"--reference-n must be >= 10; got {reference_n}")
            ref = sample_images(view.images, reference_n, seed + 1)
            assoc_kw = dict(association_target=None if auto else associations,
                            reference_name=f"{split} split of "
                                           f"{c.path if cache else 'the synthesized cache'}")
        with console.status("generating and labelling", spinner="dots") if not json_flag \
                else contextlib.nullcontext():
            result = population_audit(gen, clf, view.attrs, c.attribute_names, n=n,
                                      batch_size=batch_size, groups=_split_list(groups),
                                      classifier_rates=rates, seed=seed, device=dev,
                                      n_boot=n_boot, reference_images=ref, **assoc_kw)
        data = result.to_dict()
        data["inputs"] = {**settings, "cache": str(c.path) if cache else "synthesized",
                          "classifier_rates": None if rates is None else rates.to_dict()}
    save_figure(plot_population(result, top_k), out / "population.png")
    if _finish(data, out / "population.json", json_flag):
        return
    console.print(population_table(result, top_k))
    assoc = association_table(result, top_k)
    if assoc is not None:
        console.print(assoc)
    d = result.discrepancy
    console.print(f"groups {', '.join(result.group_labels)}: fairness discrepancy L2 to data "
                  f"{d['l2_to_data']:.3f}, to uniform {d['l2_to_uniform']:.3f}")
    console.print(f"note: {result.correction_note}")
    console.print(f"wrote {out}/population.json, population.png")


@audit_app.command("reconstruct")
def reconstruct_cmd(
    vae: Path = typer.Option(None, help="VAE (or CVAE) checkpoint folder."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth."),
    cache: Path = _CACHE,
    groups: str = typer.Option("Male,skin_type", help="Comma-separated group columns "
                               "(attributes or cache group names)."),
    per_group: int = typer.Option(200, help="Images per intersectional group."),
    split: str = typer.Option("test", help="Rows to sample from (train/val/test/all); "
                              "without --cache all rows of a synthesized balanced set."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples."),
    n_show: int = typer.Option(4, help="Example pairs per group in the picture."),
    seed: int = typer.Option(0, help="Seed of the sampling and the resampling."),
    device: str = _DEVICE,
    out: Path = typer.Option(Path("reconstruct-out"), help="Output folder."),
    json_flag: bool = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Per-group reconstruction error and label preservation of a VAE.

    Writes OUT/reconstruct.json, OUT/reconstruct.png and OUT/reconstruct_examples.png.
    """
    start = _prologue({"vae": vae, "classifier": classifier}, device, cache, out, dry_run,
                      groups=_split_list(groups), per_group=per_group, split=split,
                      n_boot=n_boot, seed=seed)
    if start is None:
        return
    paths, dev, settings = start
    vae_path, clf_path = paths["vae"], paths["classifier"]
    from biaslens.audit.reconstruct import reconstruct_audit
    from biaslens.report.plots_generators import plot_reconstruction, reconstruct_table
    from biaslens.report.figures import save_figure
    from biaslens.train.images import save_image

    model, clf = load_for_role(vae_path, "vae"), load_for_role(clf_path, "classifier")
    # Without a cache the audit set is synthesized from the `balanced` world (Male and skin
    # type 50/50 and independent), all rows: 500 faces per gender x skin-type cell.
    with open_cache(cache, _image_size(model), quiet=json_flag,
                    world="celeba" if cache else "balanced") as c:
        view = _view(c, split if cache else "all")
        result = reconstruct_audit(model, clf, view.images, view.attrs,
                                   c.attribute_names, groups=_split_list(groups),
                                   group_columns=_group_columns(view), per_group=per_group,
                                   n_boot=n_boot, n_show=n_show, seed=seed, device=dev)
        data = result.to_dict()
        data["inputs"] = {**settings, "cache": str(c.path) if cache else
                          "synthesized (balanced world, all rows)"}
    save_figure(plot_reconstruction(result), out / "reconstruct.png")
    if result.examples is not None:  # rows = groups, columns = original, recon, original, ...
        ex = result.examples  # (G, 2, k, H, W, 3) -> (G·2k, H, W, 3), pairs side by side
        tiles = ex.transpose(0, 2, 1, 3, 4, 5).reshape(-1, *ex.shape[3:])
        save_image(tiles, out / "reconstruct_examples.png", nrow=2 * ex.shape[2])
    if _finish(data, out / "reconstruct.json", json_flag):
        return
    console.print(reconstruct_table(result))
    if result.missing_groups:
        console.print(f"[yellow]groups with no rows:[/] {', '.join(result.missing_groups)}")
    console.print(f"wrote {out}/reconstruct.json, reconstruct.png, reconstruct_examples.png")


@audit_app.command("counterfactual")
def counterfactual_cmd(
    cvae: Path = typer.Option(None, help="Conditional-VAE checkpoint folder."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth."),
    cache: Path = _CACHE,
    condition: str = typer.Option("Male", help="Condition to flip."),
    groups: str = typer.Option("Male", help="Comma-separated group columns for the "
                               "per-group flip rates."),
    n: int = typer.Option(512, "--n", help="Images audited."),
    scale: float = typer.Option(2.0, help="Scaled variant: decode with c + scale·(c' − c)."),
    split: str = typer.Option("test", help="Rows to sample from (train/val/test/all)."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples."),
    top_k: int = typer.Option(10, help="Attributes in each 'what else changes' ranking."),
    n_show: int = typer.Option(8, help="Rows in the before/after picture."),
    seed: int = typer.Option(0, help="Seed of the sampling and the resampling."),
    device: str = _DEVICE,
    out: Path = typer.Option(Path("counterfactual-out"), help="Output folder."),
    json_flag: bool = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Flip a conditional VAE's condition at the decoder and the encoder; rank what changes.

    Writes OUT/counterfactual.json and OUT/counterfactual_pairs.png
    (original | recon | decoder flip | encoder flip | ×scale).
    """
    start = _prologue({"cvae": cvae, "classifier": classifier}, device, cache, out, dry_run,
                      condition=condition, groups=_split_list(groups), n=n, scale=scale,
                      split=split, n_boot=n_boot, seed=seed)
    if start is None:
        return
    paths, dev, settings = start
    cvae_path, clf_path = paths["cvae"], paths["classifier"]
    from biaslens.audit.counterfactual import counterfactual_audit, resolve_condition
    from biaslens.report.plots_generators import counterfactual_table, plot_counterfactual_pairs
    from biaslens.report.figures import save_figure

    model, clf = load_for_role(cvae_path, "cvae"), load_for_role(clf_path, "classifier")
    try:  # before any data is read or synthesized
        resolve_condition(model, condition)
    except UnknownNameError:
        raise BiasLensError(f"--condition {condition!r}: {cvae_path} is conditioned on "
                            f"{', '.join(model.condition_names)}; flip one of those") from None
    with open_cache(cache, _image_size(model), quiet=json_flag) as c:
        view = _view(c, split)
        result = counterfactual_audit(model, clf, view.images, view.attrs,
                                      c.attribute_names, condition=condition,
                                      groups=_split_list(groups),
                                      group_columns=_group_columns(view), n=n, scale=scale,
                                      n_boot=n_boot, top_k=top_k, n_show=n_show, seed=seed,
                                      device=dev)
        data = result.to_dict()
        data["inputs"] = {**settings, "cache": str(c.path) if cache else "synthesized"}
    save_figure(plot_counterfactual_pairs(result), out / "counterfactual_pairs.png")
    if _finish(data, out / "counterfactual.json", json_flag):
        return
    console.print(counterfactual_table(result))
    console.print(f"wrote {out}/counterfactual.json, counterfactual_pairs.png")


@experiment_app.command("ratio-sweep")
def ratio_sweep_cmd(
    shares: str = typer.Option("0.3,0.48,0.5,0.6", help="Comma-separated training shares."),
    model: str = typer.Option("vae", help="vae or gan."),
    classifier: Path = typer.Option(None, help="Attribute classifier labelling the samples."),
    attribute: str = typer.Option("Male", help="Swept attribute."),
    world: str = typer.Option("celeba", help="Base world preset."),
    n_data: int = typer.Option(2000, help="Faces per synthetic training set."),
    size: int = typer.Option(64, help="Image side."),
    n: int = typer.Option(4000, "--n", help="Generated samples per share."),
    steps: int = typer.Option(2000, help="Training steps per share."),
    batch_size: int = typer.Option(64, help="Training batch size."),
    model_config: str = typer.Option("{}", help="Model constructor arguments as JSON, "
                                     "e.g. '{\"hidden_dim\": 16}'."),
    train_config: str = typer.Option("{}", help="Extra training keywords as JSON, e.g. "
                                     "'{\"beta\": 0.001, \"lr\": 0.0005}'."),
    correct: bool = typer.Option(True, help="Rogan–Gladen correction (val-split rates)."),
    n_boot: int = typer.Option(200, help="Bootstrap resamples per audit."),
    seed: int = typer.Option(0, help="Seed of data, training and sampling."),
    device: str = _DEVICE,
    out: Path = typer.Option(Path("ratio-sweep-out"), help="Output folder."),
    json_flag: bool = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Train the same model at several training shares; plot generated vs training share.

    Writes OUT/ratio_sweep.json, OUT/ratio_sweep.png and OUT/share-<s>/{cache,run}/.
    """
    from biaslens.experiments.ratio_sweep import MODELS, check_sweep, ratio_sweep
    from biaslens.tensors import pick_device

    if model not in MODELS:
        raise BiasLensError(f"--model must be one of {', '.join(MODELS)}; got {model!r}")
    try:
        share_list = [float(s) for s in _split_list(shares)]
        cfg, tcfg = json.loads(model_config), json.loads(train_config)
    except ValueError as exc:
        raise BiasLensError(f"--shares must be comma-separated numbers, --model-config and "
                            f"--train-config JSON objects: {exc}") from None
    try:
        check_sweep(share_list, model)
    except BiasLensError as exc:
        raise BiasLensError(f"--shares {shares}: {exc}") from None
    if not isinstance(cfg, dict) or not isinstance(tcfg, dict):
        raise BiasLensError("--model-config and --train-config must be JSON objects")
    clf_path = resolve_checkpoint(classifier, "classifier")
    dev = str(pick_device(device))
    settings = {"shares": share_list, "model": model, "classifier": str(clf_path),
                "attribute": attribute, "world": world, "n_data": n_data, "size": size, "n": n,
                "steps": steps, "batch_size": batch_size, "model_config": cfg,
                "train_config": tcfg,
                "correct": correct, "n_boot": n_boot, "seed": seed, "device": dev,
                "out": str(out)}
    if dry_run:
        console.print_json(json.dumps(settings))
        return
    from biaslens.report.plots_generators import plot_ratio_sweep
    from biaslens.report.figures import save_figure

    say = (lambda _m: None) if json_flag else (lambda m: err_console.print(m))
    result = ratio_sweep(share_list, classifier=load_for_role(clf_path, "classifier"), out=out,
                         model=model, attribute=attribute, world=world, n_data=n_data, size=size, n=n,
                         steps=steps, batch_size=batch_size, model_config=cfg or None,
                         train_config=tcfg or None,
                         correct=correct, n_boot=n_boot, seed=seed, device=dev, log=say)
    data = result.to_dict()
    data["inputs"] = settings
    save_figure(plot_ratio_sweep(result), out / "ratio_sweep.png")
    if _finish(data, out / "ratio_sweep.json", json_flag):
        return
    for r in result.rows:
        console.print(f"training share {r.data_share:.3f} -> generated {r.generated_share:.3f} "
                      f"[{r.generated_ci[0]:.3f}, {r.generated_ci[1]:.3f}]")
    console.print(f"slope {result.slope:.3f} (1 = tracks the data); wrote "
                  f"{out}/ratio_sweep.json, ratio_sweep.png")
