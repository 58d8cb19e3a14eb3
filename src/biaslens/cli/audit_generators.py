"""``biaslens audit population|reconstruct|counterfactual`` and ``experiment ratio-sweep``.

Each audit command parses its options, builds the use case's plan
(:mod:`biaslens.pipelines.population`, :mod:`~biaslens.pipelines.reconstruct`,
:mod:`~biaslens.pipelines.counterfactual`), runs it, renders the result and writes JSON.

Examples::

    biaslens audit population --generator gen/ --classifier clf/ --cache caches/synth64 \\
        --n 10000 --groups Male --out runs/population
    biaslens audit reconstruct --vae vae/ --classifier clf/ --cache caches/synth64 \\
        --groups Male,skin_type --per-group 500 --out runs/reconstruct
    biaslens audit counterfactual --cvae cvae/ --classifier clf/ --condition Male --out runs/cf
    biaslens experiment ratio-sweep --shares 0.3,0.48,0.5,0.6 --model vae --n 4000 \\
        --steps 2000 --classifier clf/ --out runs/sweep
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from biaslens.cli._common import (
    COUNTERFACTUAL,
    POPULATION,
    RATIO_SWEEP,
    RECONSTRUCT,
    audit_app,
    console,
    emit_json,
    err_console,
    experiment_app,
    json_option,
    json_to_stdout,
    ranged,
)
from biaslens.errors import BiasLensError
from biaslens.io import write_json
from biaslens.pipelines.inputs import load_for_role, model_path


def _split_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _settings(plan: Any, out: Path, dry_run: bool) -> dict[str, Any] | None:
    """The plan's settings and the output folder; ``None`` after printing them when
    ``dry_run`` (the command then stops before loading anything)."""
    settings = {**plan.settings, "out": str(out)}
    if dry_run:
        console.print_json(json.dumps(settings))
        return None
    return settings


def _note(json_out: str | None) -> Callable[[str], None] | None:
    """Where a run says it synthesized a cache: stderr, unless the JSON is printed."""
    return None if json_to_stdout(json_out) else err_console.print


def _finish(data: dict[str, Any], path: Path, json_out: str | None) -> bool:
    """Write ``data`` to ``path`` in OUT (always) and honour ``--json``; True when the JSON
    went to stdout (no tables then)."""
    write_json(data, path)
    return emit_json(data, json_out)


_JSON = json_option("the result (OUT/*.json is always written)")
_DRY = typer.Option(False, help="Print the resolved settings and stop.")
_DEVICE = typer.Option("auto", help="auto, cpu or cuda.")
_PRECISION = typer.Option("auto", help="auto, fp32 or bf16 (bf16 autocast of the model "
                          "passes; auto = bf16 on a CUDA GPU or a CPU with bf16 units).")
_CACHE = typer.Option(None, help="Dataset cache folder (default: synthesize a small "
                      "default-world cache, 2000 faces, seed 0).")
_RECON_CACHE = typer.Option(None, help="Dataset cache folder (default: synthesize 2000 "
                            "faces, seed 0, of the 'balanced' world: Male and skin type 50/50 "
                            "and independent, all rows used).")


@audit_app.command("population")
def population_cmd(
    generator: Path = typer.Option(None, help="Generator (or VAE/CVAE) checkpoint."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth."),
    cache: Path = _CACHE,
    n: int = typer.Option(10000, "--n", help="Generated samples.",
                          callback=ranged(POPULATION, "n")),
    batch_size: int = typer.Option(512, help="Generation batch size.",
                                   callback=ranged(POPULATION, "batch_size")),
    groups: str = typer.Option("Male", help="Comma-separated attributes crossed into groups."),
    split: str = typer.Option("train", help="Data rows to compare with (train/val/test/all)."),
    correct: bool = typer.Option(True, help="Rogan–Gladen correction with the classifier's "
                                 "TPR/FPR on the cache's val split."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples.",
                               callback=ranged(POPULATION, "n_boot")),
    associations: str = typer.Option(
        "auto", help="Compare every attribute's association with this attribute in "
        "generated vs real faces of --split ('auto': the first --groups column, skipped "
        "when --n-boot < 50; 'none': skip)."),
    reference_n: int = typer.Option(2000, help="Real faces sampled for the association "
                                     "comparison.", min=10),
    top_k: int = typer.Option(20, help="Attributes in the table and chart.", min=1),
    seed: int = typer.Option(0, help="Seed of the noise and the resampling.",
                             callback=ranged(POPULATION, "seed")),
    device: str = _DEVICE,
    precision: str = _PRECISION,
    judge: str = typer.Option(None, help="Independent judge (skin_tone, gender, age or a "
                              "classifier checkpoint): adds its judge-error-corrected shares."),
    out: Path = typer.Option(Path("population-out"), help="Output folder."),
    json_out: str | None = _JSON,
    wide: bool = typer.Option(False, "--wide", help="All table columns (ratio, both "
                              "slopes); the default fits 80 columns."),
    dry_run: bool = _DRY,
) -> None:
    """Generate N faces and compare their attribute and group mix with the training data.

    Writes OUT/population.json and OUT/population.png.
    """
    from biaslens.pipelines.population import plan_population

    plan = plan_population(generator, classifier, cache, device=device, split=split,
                           correct=correct, associations=associations,
                           reference_n=reference_n, n=n, batch_size=batch_size,
                           groups=_split_list(groups), n_boot=n_boot, seed=seed,
                           precision=precision, judge=judge)
    settings = _settings(plan, out, dry_run)
    if settings is None:
        return
    from biaslens.report.figures import save_figure
    from biaslens.report.plots_generators import (
        association_table,
        plot_population,
        population_table,
    )

    with console.status("generating and labelling", spinner="dots") \
            if not json_to_stdout(json_out) else contextlib.nullcontext():
        run = plan.run(note=_note(json_out))
    result = run.result
    save_figure(plot_population(result, top_k), out / "population.png")
    if _finish(run.to_dict(settings), out / "population.json", json_out):
        return
    console.print(population_table(result, top_k, wide=wide))
    assoc = association_table(result, top_k, wide=wide)
    if assoc is not None:
        console.print(assoc)
    from biaslens.report.tables import fmt_num
    from biaslens.report.words import group_words

    d = result.discrepancy
    console.print(f"groups {'; '.join(group_words(g) for g in result.group_labels)}: fairness "
                  f"discrepancy (L2 distance of the generated group shares) "
                  f"{fmt_num(d['l2_to_data'])} to the data's, {fmt_num(d['l2_to_uniform'])} "
                  "to equal shares", highlight=False)
    console.print(f"note: {result.correction_note}")
    for warning in result.warnings:   # degenerate labels: say so, not a table read as fair
        console.print(f"[bold yellow]warning:[/] {warning}")
    if "judge" in run.inputs:
        from rich.padding import Padding

        from biaslens.report.judges import judge_lines

        for line in judge_lines(run.inputs["judge"]):   # wrapped lines keep their indent
            text = line.lstrip()
            console.print(Padding(text, (0, 0, 0, len(line) - len(text))), highlight=False)
    console.print(f"wrote {out}/population.json, population.png")


@audit_app.command("reconstruct")
def reconstruct_cmd(
    vae: Path = typer.Option(None, help="VAE (or CVAE) checkpoint folder."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth."),
    cache: Path = _RECON_CACHE,
    groups: str = typer.Option("Male,skin_type", help="Comma-separated group columns "
                               "(attributes or cache group names)."),
    per_group: int = typer.Option(500, help="Images per intersectional group (500 decides "
                                  "the shipped VAE's gap: docs/validation.md).",
                                  callback=ranged(RECONSTRUCT, "per_group")),
    split: str = typer.Option("test", help="Rows of --cache to sample from "
                              "(train/val/test/all); without --cache all rows of the "
                              "synthesized 'balanced'-world set."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples.",
                               callback=ranged(RECONSTRUCT, "n_boot")),
    n_show: int = typer.Option(4, help="Example pairs per group in the picture.",
                               callback=ranged(RECONSTRUCT, "n_show")),
    seed: int = typer.Option(0, help="Seed of the sampling and the resampling.",
                             callback=ranged(RECONSTRUCT, "seed")),
    device: str = _DEVICE,
    precision: str = _PRECISION,
    out: Path = typer.Option(Path("reconstruct-out"), help="Output folder."),
    json_out: str | None = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Per-group reconstruction error and label preservation of a VAE.

    Writes OUT/reconstruct.json, OUT/reconstruct.png and OUT/reconstruct_examples.png.
    """
    from biaslens.pipelines.reconstruct import plan_reconstruct

    plan = plan_reconstruct(vae, classifier, cache, device=device, split=split,
                            groups=_split_list(groups), per_group=per_group, n_boot=n_boot,
                            n_show=n_show, seed=seed, precision=precision)
    settings = _settings(plan, out, dry_run)
    if settings is None:
        return
    from biaslens.report.figures import save_figure
    from biaslens.report.plots_generators import (
        plot_reconstruction,
        reconstruct_gap_lines,
        reconstruct_table,
    )
    from biaslens.train.images import save_image

    run = plan.run(note=_note(json_out))
    result = run.result
    save_figure(plot_reconstruction(result), out / "reconstruct.png")
    if result.examples is not None:  # rows = groups, columns = original, recon, original, ...
        ex = result.examples  # (G, 2, k, H, W, 3) -> (G·2k, H, W, 3), pairs side by side
        tiles = ex.transpose(0, 2, 1, 3, 4, 5).reshape(-1, *ex.shape[3:])
        save_image(tiles, out / "reconstruct_examples.png", nrow=2 * ex.shape[2])
    if _finish(run.to_dict(settings), out / "reconstruct.json", json_out):
        return
    console.print(reconstruct_table(result))
    for line in reconstruct_gap_lines(result):
        console.print(line, highlight=False)
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
    n: int = typer.Option(512, "--n", help="Images audited.",
                          callback=ranged(COUNTERFACTUAL, "n")),
    scale: float = typer.Option(2.0, help="Scaled variant: decode with c + scale·(c' − c).",
                                callback=ranged(COUNTERFACTUAL, "scale")),
    split: str = typer.Option("test", help="Rows to sample from (train/val/test/all)."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples.",
                               callback=ranged(COUNTERFACTUAL, "n_boot")),
    top_k: int = typer.Option(10, help="Attributes in each 'what else changes' ranking.",
                              callback=ranged(COUNTERFACTUAL, "top_k")),
    n_show: int = typer.Option(8, help="Rows in the before/after picture.",
                               callback=ranged(COUNTERFACTUAL, "n_show")),
    seed: int = typer.Option(0, help="Seed of the sampling and the resampling.",
                             callback=ranged(COUNTERFACTUAL, "seed")),
    device: str = _DEVICE,
    precision: str = _PRECISION,
    out: Path = typer.Option(Path("counterfactual-out"), help="Output folder."),
    json_out: str | None = _JSON,
    dry_run: bool = _DRY,
) -> None:
    """Flip a conditional VAE's condition at the decoder and the encoder; rank what changes.

    Writes OUT/counterfactual.json and OUT/counterfactual_pairs.png
    (original | recon | decoder flip | encoder flip | ×scale).
    """
    from biaslens.pipelines.counterfactual import plan_counterfactual

    plan = plan_counterfactual(cvae, classifier, cache, device=device, split=split,
                               condition=condition, groups=_split_list(groups), n=n,
                               scale=scale, n_boot=n_boot, top_k=top_k, n_show=n_show,
                               seed=seed, precision=precision)
    settings = _settings(plan, out, dry_run)
    if settings is None:
        return
    from biaslens.report.figures import save_figure
    from biaslens.report.plots_generators import (
        counterfactual_direction_line,
        counterfactual_legend,
        counterfactual_shift_tables,
        counterfactual_table,
        plot_counterfactual_pairs,
    )

    run = plan.run(note=_note(json_out))
    save_figure(plot_counterfactual_pairs(run.result), out / "counterfactual_pairs.png")
    if _finish(run.to_dict(settings), out / "counterfactual.json", json_out):
        return
    result = run.result
    if result.n < n:
        console.print(f"note: --n {n} asked for more images than the --split pool has; all "
                      f"{result.n} were audited", highlight=False)
    console.print(counterfactual_table(result))
    console.print(counterfactual_legend(result), highlight=False)
    line = counterfactual_direction_line(result)
    if line:
        console.print(line, highlight=False)
    for table in counterfactual_shift_tables(result):
        console.print(table)
    console.print(f"wrote {out}/counterfactual.json, counterfactual_pairs.png")


@experiment_app.command("ratio-sweep")
def ratio_sweep_cmd(
    shares: str = typer.Option("0.3,0.48,0.5,0.6", help="Comma-separated training shares."),
    model: str = typer.Option("vae", help="vae or gan."),
    classifier: Path = typer.Option(None, help="Attribute classifier labelling the samples."),
    attribute: str = typer.Option("Male", help="Swept attribute."),
    world: str = typer.Option("celeba", help="Base world preset."),
    n_data: int = typer.Option(2000, help="Faces per synthetic training set.",
                               callback=ranged(RATIO_SWEEP, "n_data")),
    size: int = typer.Option(64, help="Image side.", callback=ranged(RATIO_SWEEP, "size")),
    n: int = typer.Option(4000, "--n", help="Generated samples per share.",
                          callback=ranged(RATIO_SWEEP, "n")),
    steps: int = typer.Option(2000, help="Training steps per share.",
                              callback=ranged(RATIO_SWEEP, "steps")),
    batch_size: int = typer.Option(64, help="Training batch size.",
                                   callback=ranged(RATIO_SWEEP, "batch_size")),
    model_config: str = typer.Option("{}", help="Model constructor arguments as JSON, "
                                     "e.g. '{\"hidden_dim\": 16}'."),
    train_config: str = typer.Option("{}", help="Extra training keywords as JSON, e.g. "
                                     "'{\"beta\": 0.001, \"lr\": 0.0005}'."),
    correct: bool = typer.Option(True, help="Rogan–Gladen correction (val-split rates)."),
    n_boot: int = typer.Option(200, help="Bootstrap resamples per audit.",
                               callback=ranged(RATIO_SWEEP, "n_boot")),
    seed: int = typer.Option(0, help="Seed of data, training and sampling.",
                             callback=ranged(RATIO_SWEEP, "seed")),
    device: str = _DEVICE,
    out: Path = typer.Option(Path("ratio-sweep-out"), help="Output folder."),
    json_out: str | None = _JSON,
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
    clf_path = model_path(classifier, "classifier")
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

    say = (lambda _m: None) if json_to_stdout(json_out) else (lambda m: err_console.print(m))
    result = ratio_sweep(share_list, classifier=load_for_role(clf_path, "classifier"), out=out,
                         model=model, attribute=attribute, world=world, n_data=n_data,
                         size=size, n=n, steps=steps, batch_size=batch_size,
                         model_config=cfg or None, train_config=tcfg or None, correct=correct,
                         n_boot=n_boot, seed=seed, device=dev, log=say)
    data = result.to_dict()
    data["inputs"] = settings
    save_figure(plot_ratio_sweep(result), out / "ratio_sweep.png")
    if _finish(data, out / "ratio_sweep.json", json_out):
        return
    for r in result.rows:
        console.print(f"training share {r.data_share:.3f} -> generated {r.generated_share:.3f} "
                      f"[{r.generated_ci[0]:.3f}, {r.generated_ci[1]:.3f}]")
    console.print(f"slope {result.slope:.3f} (1 = tracks the data); wrote "
                  f"{out}/ratio_sweep.json, ratio_sweep.png")
