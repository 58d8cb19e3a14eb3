"""``biaslens audit fairness``: group-fairness audit of a file of predictions
(:func:`biaslens.pipelines.fairness.predictions_fairness`) or of a classifier on a cache
(:func:`biaslens.pipelines.fairness.classifier_fairness`, through the same reading of the
predictions table that ``biaslens predict`` writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from biaslens.cli._common import (
    audit_app,
    console,
    emit_json,
    err_console,
    json_option,
    json_to_stdout,
)
from biaslens.errors import BiasLensError, DataError
from biaslens.io import write_json


@audit_app.command("fairness")
def fairness_cmd(
    cache: Path | None = typer.Argument(None, help="Dataset cache to label with --classifier "
                                        "(instead of --predictions)."),
    predictions: Path | None = typer.Option(None, "--predictions",
                                            help="CSV, .parquet or .npz with one row per "
                                            "sample (e.g. written by biaslens predict)."),
    classifier: Path | None = typer.Option(None, "--classifier",
                                           help="With CACHE: classifier checkpoint or .pth "
                                           "(default: the shipped one)."),
    target: str | None = typer.Option(None, "--target",
                                      help="Attribute audited: reads T, T_pred, T_prob of a "
                                      "biaslens predict file; required with CACHE."),
    y_true: str | None = typer.Option(None, "--y-true", help="Column of true labels (0/1)."),
    y_pred: str | None = typer.Option(None, "--y-pred",
                                      help="Column of predicted labels (0/1)."),
    sensitive: str = typer.Option(..., "--sensitive",
                                  help="Sensitive column(s), comma-separated: intersections."),
    score: str | None = typer.Option(None, "--score",
                                     help="Score column in [0, 1]: adds AP/DEO/BA/KL."),
    weight: str | None = typer.Option(None, "--weight", help="Sample-weight column."),
    split: str | None = typer.Option(None, "--split", help="With CACHE: train | val | test "
                                     "| all (default: test, every row without one)."),
    batch_size: int = typer.Option(512, "--batch-size", help="With CACHE: classifier batch."),
    device: str = typer.Option("auto", "--device", help="With CACHE: auto, cpu or cuda."),
    precision: str = typer.Option("auto", "--precision", help="With CACHE: auto, fp32 or "
                                  "bf16 (bf16 autocast of the classifier pass)."),
    identity: str | None = typer.Option(None, "--identity", help="Column naming the person "
                                        "in each row: CIs resample people."),
    n_boot: int = typer.Option(500, "--n-boot", help="Bootstrap resamples (0 = no CIs).", min=0),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed.", min=0),
    kl_variant: str = typer.Option("reference", "--kl-variant", help="reference | fixed"),
    judge: str | None = typer.Option(None, "--judge", help="Judge the images of "
                                     "--image-column (skin_tone, gender, age or a classifier "
                                     "checkpoint): its categories join --sensitive."),
    image_column: str | None = typer.Option(None, "--image-column",
                                            help="Column of image paths (relative to the CSV)."),
    json_out: str | None = json_option("the report"),
    plot: Path | None = typer.Option(None, "--plot", help="Write a per-group bar chart PNG."),
    out: Path | None = typer.Option(None, "--out", help="Output folder: OUT/fairness.json and "
                                    "OUT/fairness.png (the chart unless --plot says where)."),
) -> None:
    """Group fairness of a classifier, from a file of predictions or on a cache.

    Examples: ``biaslens audit fairness --predictions preds.csv --y-true y --y-pred y_hat
    --sensitive Male,skin_type --json out.json --plot out.png``;
    ``biaslens audit fairness --predictions preds.csv --target Smiling --sensitive Male``
    (a file from ``biaslens predict``); ``biaslens audit fairness CACHE --classifier CKPT
    --target Smiling --sensitive Male``.
    """
    from biaslens.pipelines.fairness import predictions_fairness
    from biaslens.report.fairness_tables import print_fairness_report

    sens = [c.strip() for c in sensitive.split(",") if c.strip()]
    if not sens and judge is None:
        raise DataError("--sensitive names no column", field="--sensitive")
    judge_model = None
    if judge is not None:
        if cache is not None:
            raise BiasLensError("--judge labels the images named in --image-column of a "
                                "--predictions file; it does not take a CACHE")
        from biaslens.pipelines.judges import resolve_judge

        judge_model = resolve_judge(judge)
    if (cache is None) == (predictions is None):
        raise BiasLensError("give either --predictions FILE or a CACHE folder (with "
                            "--classifier), not " + ("both" if cache else "neither"))
    if cache is None:
        if classifier is not None:
            raise BiasLensError("--classifier labels a CACHE; a --predictions file is "
                                "already labelled")
        report = predictions_fairness(predictions, y_true=y_true, y_pred=y_pred, sensitive=sens,
                                      score=score, weight=weight, target=target, identity=identity,
                                      judge=judge_model, image_column=image_column,
                                      n_boot=n_boot, seed=seed, kl_variant=kl_variant)
        source = {"predictions": str(predictions)}
    else:
        report, source = _on_cache(cache, classifier, target, sens, split, batch_size, device,
                                   precision, n_boot, seed, kl_variant,
                                   given=[o for o, v in (("--y-true", y_true), ("--y-pred", y_pred),
                                          ("--score", score), ("--weight", weight)) if v])
    if not json_to_stdout(json_out):
        if cache is not None:   # which rows were labelled: a cache has splits
            which = f"the {split} split" if split else "the test split (every row if the cache " \
                "has no splits)"
            console.print(f"rows: {which} of {escape(str(cache))}, labelled by "
                          f"{escape(source['classifier'])}; --split all uses every row",
                          highlight=False)
        print_fairness_report(report, console)
    payload = {"command": "audit fairness", **source, **report.to_dict()}
    if out is not None:
        write_json(payload, out / "fairness.json")
        plot = plot if plot is not None else out / "fairness.png"
    if not emit_json(payload, json_out) and out is not None:
        console.print(f"wrote {out / 'fairness.json'}", highlight=False)
    if plot is not None:
        from biaslens.report.plots_fairness import plot_fairness

        plot_fairness(report, plot)
        if not json_to_stdout(json_out):
            console.print(f"wrote {plot}", highlight=False)


def _on_cache(cache: Path, classifier: Path | None, target: str | None, sens: list[str],
              split: str | None, batch_size: int, device: str, precision: str, n_boot: int,
              seed: int, kl_variant: str, given: list[str]) -> tuple[Any, dict[str, str]]:
    """The CACHE --classifier route: checks, then :func:`classifier_fairness`."""
    from rich.progress import Progress

    from biaslens.pipelines.fairness import classifier_fairness
    from biaslens.pipelines.inputs import model_for_role, open_cache
    from biaslens.tensors import pick_device

    if given:
        raise BiasLensError(f"{', '.join(given)} name columns of a --predictions file; with "
                            "a CACHE give --target")
    if target is None:
        raise BiasLensError("with a CACHE, give --target (the attribute audited)")
    dev = pick_device(device)
    opened = open_cache(cache)
    model, path = model_for_role(classifier, "classifier", device=dev)
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("classifying", total=None)
        report = classifier_fairness(
            model, opened, target=target, sensitive=sens, split=split, batch_size=batch_size,
            device=dev, precision=precision, n_boot=n_boot, seed=seed, kl_variant=kl_variant,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    return report, {"cache": str(cache), "classifier": str(path), "target": target,
                    "split": split or "test (all rows without one)"}
