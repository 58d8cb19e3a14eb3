"""``biaslens predict``: run an attribute classifier on a cache
(:func:`biaslens.pipelines.predict.plan_predict`).

Example::

    biaslens predict caches/celeba64 --classifier models/course_clf --out preds.csv
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from biaslens.cli._common import console, err_console
from biaslens.io import write_json


def _ci(value: Any, ci: list[Any]) -> str:
    if value is None:
        return "-"
    lo, hi = ci
    return f"{value:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    """A rich table of :meth:`ClassifierMetrics.to_dict` rows, one per attribute."""
    table = Table(title=title)
    for col in ("attribute", "accuracy", "AUC", "balanced acc.", "predicted rate",
                "true rate"):
        table.add_column(col, justify="left" if col == "attribute" else "right")
    for r in metrics["attributes"]:
        table.add_row(escape(r["attribute"]), _ci(r["accuracy"], r["accuracy_ci"]),
                      _ci(r["auc"], r["auc_ci"]),
                      _ci(r["balanced_accuracy"], r["balanced_accuracy_ci"]),
                      _ci(r["predicted_rate"], r["predicted_rate_ci"]),
                      _ci(r["true_rate"], r["true_rate_ci"]))
    return table


def predict_cmd(
    cache: Path = typer.Argument(..., help="Dataset cache folder."),
    classifier: Path | None = typer.Option(None, "--classifier",
                                           help="Classifier checkpoint folder or .pth "
                                           "(default: the shipped classifier)."),
    out: Path = typer.Option(..., "--out", help="Predictions file: .csv, .parquet (needs "
                             "pyarrow) or .npz."),
    split: str = typer.Option("all", "--split", help="train | val | test | all"),
    batch_size: int = typer.Option(512, "--batch-size", help="Images per classifier batch."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16 (bf16 "
                                  "autocast of the classifier pass; auto = bf16 on a CUDA GPU "
                                  "or a CPU with bf16 units)."),
    n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap resamples for the AUC, "
                               "balanced-accuracy and rate-difference CIs (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    json_out: Path | None = typer.Option(None, "--json", help="Metrics JSON (default: OUT "
                                         "with .metrics.json)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved settings and "
                                 "stop."),
) -> None:
    """Run a classifier on every image of a cache split: one row per image with the logits,
    probabilities and predicted labels per attribute, the true labels and group columns
    (the file ``biaslens audit fairness --predictions FILE --target T`` reads). Where the
    cache labels the classifier's attributes, prints and writes per-attribute accuracy, AUC,
    balanced accuracy and predicted vs true positive rate, with 95% CIs.

    Example: ``biaslens predict caches/celeba64 --classifier models/clf --out preds.csv``
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeRemainingColumn

    from biaslens.pipelines.predict import plan_predict

    plan = plan_predict(cache, out=out, classifier=classifier, json_out=json_out, split=split,
                        batch_size=batch_size, device=device, precision=precision,
                        n_boot=n_boot, seed=seed)
    if dry_run:
        console.print_json(json.dumps(plan.settings()))
        return
    with Progress(TextColumn("classifying"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("predict", total=None)
        result = plan.run(progress=lambda done, total: bar.update(task, completed=done,
                                                                  total=total))
    data = {"command": "predict", **result.to_dict()}
    write_json(data, plan.json_out)
    n = len(result.table)
    if result.metrics is not None:
        console.print(metrics_table(data["metrics"], f"{escape(str(cache))}: {n:,} images "
                                    f"({split}); 95% CIs"))
        m = data["metrics"]
        console.print(f"mean accuracy {m['mean_accuracy']:.3f}, mean AUC "
                      + (f"{m['mean_auc']:.3f}" if m["mean_auc"] is not None else "-"))
    else:
        console.print(f"the cache labels none of the classifier's {len(data['attributes'])} "
                      "outputs: no metrics")
    if data["unlabelled"] and result.metrics is not None:
        console.print(f"not labelled in the cache: {escape(', '.join(data['unlabelled']))}")
    console.print(f"wrote {escape(str(plan.out))} ({n:,} rows) and "
                  f"{escape(str(plan.json_out))}")
