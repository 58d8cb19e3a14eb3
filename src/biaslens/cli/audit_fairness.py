"""``biaslens audit fairness``: group-fairness audit of a CSV of predictions
(:func:`biaslens.pipelines.fairness.predictions_fairness`)."""

from __future__ import annotations

from pathlib import Path

import typer

from biaslens.cli._common import audit_app, console
from biaslens.errors import DataError
from biaslens.io import write_json


@audit_app.command("fairness")
def fairness_cmd(
    predictions: Path = typer.Option(..., "--predictions", help="CSV with one row per sample."),
    y_true: str = typer.Option(..., "--y-true", help="Column of true labels (0/1)."),
    y_pred: str = typer.Option(..., "--y-pred", help="Column of predicted labels (0/1)."),
    sensitive: str = typer.Option(..., "--sensitive",
                                  help="Sensitive column(s), comma-separated: intersections."),
    score: str | None = typer.Option(None, "--score",
                                     help="Score column in [0, 1]: adds AP/DEO/BA/KL."),
    weight: str | None = typer.Option(None, "--weight", help="Sample-weight column."),
    n_boot: int = typer.Option(500, "--n-boot", help="Bootstrap resamples (0 = no CIs)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    kl_variant: str = typer.Option("reference", "--kl-variant", help="reference | fixed"),
    judge: str | None = typer.Option(None, "--judge", help="Judge the images of "
                                     "--image-column (skin_tone, gender, age or a classifier "
                                     "checkpoint): its categories join --sensitive."),
    image_column: str | None = typer.Option(None, "--image-column",
                                            help="Column of image paths (relative to the CSV)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a per-group bar chart PNG."),
) -> None:
    """Group fairness of a classifier from a CSV of predictions.

    Example: ``biaslens audit fairness --predictions preds.csv --y-true y --y-pred y_hat
    --sensitive Male,skin_type --json out.json --plot out.png``
    """
    from biaslens.pipelines.fairness import predictions_fairness
    from biaslens.report.fairness_tables import print_fairness_report

    sens = [c.strip() for c in sensitive.split(",") if c.strip()]
    if not sens and judge is None:
        raise DataError("--sensitive names no column", field="--sensitive")
    judge_model = None
    if judge is not None:
        from biaslens.pipelines.judges import resolve_judge

        judge_model = resolve_judge(judge)
    report = predictions_fairness(predictions, y_true=y_true, y_pred=y_pred, sensitive=sens,
                                  score=score, weight=weight, n_boot=n_boot, seed=seed,
                                  kl_variant=kl_variant, judge=judge_model,
                                  image_column=image_column)
    print_fairness_report(report, console)
    if json_out is not None:
        payload = {"command": "audit fairness", "predictions": str(predictions),
                   **report.to_dict()}
        write_json(payload, json_out)
        console.print(f"wrote {json_out}")
    if plot is not None:
        from biaslens.report.plots_fairness import plot_fairness

        plot_fairness(report, plot)
        console.print(f"wrote {plot}")
