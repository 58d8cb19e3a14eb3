"""``biaslens audit fairness``: group-fairness audit of a CSV of predictions."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import typer

from biaslens.cli._common import audit_app, console
from biaslens.io import write_json
from biaslens.errors import DataError

_TRUE = {"1", "1.0", "true", "True", "TRUE"}
_FALSE = {"0", "0.0", "-1", "-1.0", "false", "False", "FALSE"}


def read_predictions(path: str | Path, columns: list[str]) -> dict[str, np.ndarray]:
    """Read ``columns`` of a CSV as string arrays; missing file/column → :class:`DataError`."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DataError("empty file (no header line)", path=path, line=1)
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(f"missing column(s) {', '.join(map(repr, missing))}; the header "
                            f"has {', '.join(header)}", path=path, line=1)
        pos = [header.index(c) for c in columns]
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(f"expected {len(header)} fields, got {len(row)}",
                                path=path, line=lineno)
            rows.append([row[p].strip() for p in pos] + [lineno])
    if not rows:
        raise DataError("no data rows", path=path, line=2)
    table = np.array(rows, dtype=object)
    out = {c: table[:, j].astype(str) for j, c in enumerate(columns)}
    out["__line__"] = table[:, -1].astype(np.int64)
    return out


def parse_binary(values: np.ndarray, lines: np.ndarray, *, path: Path, column: str
                 ) -> np.ndarray:
    """Strings → bool (1/true = positive, 0/-1/false = negative); anything else is an error."""
    pos = np.isin(values, list(_TRUE))
    neg = np.isin(values, list(_FALSE))
    bad = np.flatnonzero(~(pos | neg))
    if bad.size:
        i = bad[0]
        raise DataError(f"value {str(values[i])!r} is not binary (expected 0/1, -1/1 or "
                        f"true/false)", path=path, line=int(lines[i]), field=column)
    return pos


def parse_float(values: np.ndarray, lines: np.ndarray, *, path: Path, column: str
                ) -> np.ndarray:
    """Strings → finite floats, naming the first bad line."""
    out = np.empty(values.shape[0])
    for i, v in enumerate(values):  # the CSV was parsed row by row already; same cost
        try:
            out[i] = float(v)
        except ValueError:
            raise DataError(f"value {str(v)!r} is not a number", path=path, line=int(lines[i]),
                            field=column) from None
        if not np.isfinite(out[i]):
            raise DataError(f"value {str(v)!r} is not finite", path=path, line=int(lines[i]),
                            field=column)
    return out


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
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a per-group bar chart PNG."),
) -> None:
    """Group fairness of a classifier from a CSV of predictions.

    Example: ``biaslens audit fairness --predictions preds.csv --y-true y --y-pred y_hat
    --sensitive Male,skin_type --json out.json --plot out.png``
    """
    from biaslens.audit.fairness import fairness_report
    from biaslens.report.fairness_tables import print_fairness_report

    sens = [c.strip() for c in sensitive.split(",") if c.strip()]
    if not sens:
        raise DataError("--sensitive names no column", field="--sensitive")
    extra = [c for c in (score, weight) if c]
    cols = list(dict.fromkeys([y_true, y_pred, *sens, *extra]))
    data = read_predictions(predictions, cols)
    lines = data["__line__"]
    yt = parse_binary(data[y_true], lines, path=predictions, column=y_true)
    yp = parse_binary(data[y_pred], lines, path=predictions, column=y_pred)
    s = parse_float(data[score], lines, path=predictions, column=score) if score else None
    w = parse_float(data[weight], lines, path=predictions, column=weight) if weight else None
    if w is not None and (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise DataError("negative weight", path=predictions, line=int(lines[i]), field=weight)
    report = fairness_report(yt, yp, sensitive_features={c: data[c] for c in sens}, y_score=s,
                             sample_weight=w, n_boot=n_boot, seed=seed, kl_variant=kl_variant)
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
