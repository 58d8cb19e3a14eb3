"""``biaslens experiment judge-coverage`` and ``biaslens models judges``.

Example::

    biaslens experiment judge-coverage --out runs/judge-coverage     # a few minutes, 2 cores
    biaslens models judges
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biaslens.cli._common import console, err_console, experiment_app, models_app
from biaslens.errors import BiasLensError
from biaslens.io import write_json


def judges_table():
    """The named judges as a rich table (also shown by ``models list``)."""
    from rich.table import Table

    from biaslens.models.judges import list_judges

    t = Table(title="judges (--judge NAME, or a classifier checkpoint)")
    for col in ("judge", "read-out", "categories", "gradients", "available"):
        t.add_column(col)
    for r in list_judges():
        t.add_row(r["judge"], ", ".join(r["attributes"]), ", ".join(r["categories"]),
                  "yes" if r["differentiable"] else "no",
                  "yes" if r["available"] else f"no ({r['note']})")
    return t


@models_app.command("judges")
def judges_cmd(json_flag: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the judges: independent labellers for population, steering and fairness."""
    from biaslens.models.judges import list_judges

    if json_flag:
        typer.echo(json.dumps(list_judges(), indent=2))
        return
    console.print(judges_table())


@experiment_app.command("judge-coverage")
def judge_coverage_cmd(
    judges: str = typer.Option(
        "classifier,noisy_classifier,gender,skin_tone,label_noise,intersection",
        help="Comma-separated judges (see docs/judges.md)."),
    classifier: Path = typer.Option(None, help="Attribute classifier (default: shipped)."),
    male_share: float = typer.Option(0.3, help="True Male share of the generated sets."),
    darker_share: float = typer.Option(0.25, help="True darker-skin share."),
    n_pool: int = typer.Option(3000, help="Rendered faces with known labels."),
    n_calibration: int = typer.Option(500, help="Calibration faces per replicate."),
    n_generated: int = typer.Option(1000, help="Generated faces per replicate."),
    n_rep: int = typer.Option(100, help="Replicates."),
    n_boot: int = typer.Option(300, help="Joint-bootstrap resamples per replicate."),
    seed: int = typer.Option(0, help="Seed."),
    out: Path = typer.Option(Path("judge-coverage-out"), help="Output folder."),
    json_flag: bool = typer.Option(False, "--json", help="Print the JSON result."),
) -> None:
    """Coverage of the 95 % intervals of raw, CLEAM (binary) and k-group corrected shares
    on faces with known labels, judged by deliberately imperfect judges.

    Writes OUT/judge_coverage.json.
    """
    from biaslens.experiments.judge_coverage import JUDGE_KINDS
    from biaslens.pipelines.judges import coverage_study

    names = [j.strip() for j in judges.split(",") if j.strip()]
    bad = [j for j in names if j not in JUDGE_KINDS]
    if bad or not names:
        raise BiasLensError(f"--judges: unknown {', '.join(bad) or '(none given)'}; valid: "
                            f"{', '.join(JUDGE_KINDS)}")
    for opt, v in (("--male-share", male_share), ("--darker-share", darker_share)):
        if not 0 < v < 1:
            raise BiasLensError(f"{opt} must be in (0, 1); got {v}")
    for opt, v in (("--n-pool", n_pool), ("--n-calibration", n_calibration),
                   ("--n-generated", n_generated), ("--n-rep", n_rep)):
        if v < 1:
            raise BiasLensError(f"{opt} must be >= 1; got {v}")
    say = (lambda _m: None) if json_flag else (lambda m: err_console.print(m))
    doc = coverage_study(classifier, log=say, judges=tuple(names), male_share=male_share,
                         darker_share=darker_share, n_pool=n_pool, n_calibration=n_calibration,
                         n_generated=n_generated, n_rep=n_rep, n_boot=n_boot, seed=seed)
    write_json(doc, out / "judge_coverage.json")
    if json_flag:
        typer.echo(json.dumps(doc, indent=2))
        return
    from rich.table import Table

    t = Table(title=f"coverage of the 95 % interval ({n_rep} replicates; target >= 0.9)")
    for col in ("judge", "groups -> judged", "method", "coverage", "mean |error|",
                "mean width", "judge acc."):
        t.add_column(col)
    for r in doc["rows"]:
        acc = r["judge_accuracy"]
        t.add_row(r["judge"], f"{len(r['groups'])} -> {r['k_judged']}", r["method"],
                  f"{r['coverage']:.3f}", f"{r['mean_abs_error']:.4f}", f"{r['mean_width']:.3f}",
                  "—" if acc is None else f"{acc:.3f}")
    console.print(t)
    for j, why in doc["skipped"].items():
        console.print(f"skipped {j}: {why}")
    console.print(f"wrote {out / 'judge_coverage.json'}")
