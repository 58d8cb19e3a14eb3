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

from biaslens.cli._common import console, emit_json, err_console, json_to_stdout
from biaslens.io import write_json


def _ci(value: Any, ci: list[Any]) -> str:
    if value is None:
        return "-"
    lo, hi = ci
    return f"{value:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def metrics_table(metrics: dict[str, Any], title: str, wide: bool = False) -> Table:
    """A rich table of :meth:`ClassifierMetrics.to_dict` rows, one per attribute, readable
    at 80 columns: accuracy, AUC with its CI and the predicted vs true positive rate;
    ``wide`` adds the CIs of the others and the balanced accuracy (all are in the JSON)."""
    table = Table(title=title, caption="acc.: accuracy; AUC: with its 95% bootstrap CI; "
                  "predicted / true: share predicted / labelled positive"
                  + ("" if wide else "; every CI under --wide and in the JSON"),
                  caption_justify="left")
    cols = ("acc.", "AUC [95% CI]", "bal. acc.", "predicted", "true") if wide \
        else ("acc.", "AUC [95% CI]", "predicted", "true")
    names = [r["attribute"] for r in metrics["attributes"]]
    table.add_column("attribute", no_wrap=True, min_width=max(map(len, names), default=9))
    for col in cols:
        table.add_column(col, justify="right", no_wrap=True)
    for r in metrics["attributes"]:
        if wide:
            cells = (_ci(r["accuracy"], r["accuracy_ci"]), _ci(r["auc"], r["auc_ci"]),
                     _ci(r["balanced_accuracy"], r["balanced_accuracy_ci"]),
                     _ci(r["predicted_rate"], r["predicted_rate_ci"]),
                     _ci(r["true_rate"], r["true_rate_ci"]))
        else:
            cells = (_num(r["accuracy"]), _ci(r["auc"], r["auc_ci"]),
                     _num(r["predicted_rate"]), _num(r["true_rate"]))
        table.add_row(escape(r["attribute"]), *cells)
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
    json_out: str | None = typer.Option(None, "--json", metavar="PATH",
                                        help="Metrics JSON (default: OUT with .metrics.json; "
                                        "'-': print it to stdout instead of the tables)."),
    wide: bool = typer.Option(False, "--wide", help="Every CI and the balanced accuracy "
                              "in the table."),
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

    to_stdout = json_to_stdout(json_out)
    plan = plan_predict(cache, out=out, classifier=classifier,
                        json_out=None if to_stdout or json_out is None else Path(json_out),
                        split=split,
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
    if to_stdout:
        emit_json(data, json_out)
        return
    n = len(result.table)
    if result.metrics is not None:
        console.print(metrics_table(data["metrics"], f"{escape(str(cache))}: {n:,} images "
                                    f"({split})", wide=wide))
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
