"""``biaslens demo``: the main job on the embedded default, scored against the truth.

1. Synthesize a small default-world dataset and print its bias statistics next to the
   world's true correlations (``biaslens data demo``).
2. Steer the shipped generator toward ``-Male`` ("Female") with the shipped classifier
   and rank what else moves, with bootstrap CIs and BH-corrected tests
   (``biaslens audit steer``), in the GANs course's own update rule.
3. Score the steering table against the world's truth (Spearman, top-5 in top-10,
   signs of the significant entries).

The work is :mod:`biaslens.pipelines.demo`; this module parses and renders.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from biaslens.cli._common import STEER, console, ranged, step_size_option


def _model_name(given: Path | None, role: str) -> str:
    """``shipped 'generator'`` for a shipped default, else the path given."""
    from biaslens.pipelines.inputs import model_path

    return str(given) if given is not None else f"shipped {model_path(None, role).name!r}"


def demo_cmd(
    out: Path = typer.Option(Path("demo-out"), help="Folder for the demo outputs."),
    target: str = typer.Option("-Male", help="Steering target (negation allowed)."),
    n: int = typer.Option(2000, help="Faces in the synthetic dataset.", min=1),
    n_steer: int = typer.Option(128, help="Noise vectors to steer.",
                                callback=ranged(STEER, "n_samples")),
    steps: int = typer.Option(20, help="Steering steps per direction.",
                              callback=ranged(STEER, "steps")),
    step_size: str = typer.Option("calibrated", help="Steering step: 'calibrated' (P(target) "
                                  "crosses 0.2 → 0.8), 'course' (1/steps) or a number.",
                                  callback=step_size_option),
    seed: int = typer.Option(0, help="Seed.", callback=ranged(STEER, "seed")),
    generator: Path | None = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: Path | None = typer.Option(None, help="Classifier checkpoint (default: shipped)."),
    precision: str = typer.Option("auto", help="Steering precision: auto, fp32 or bf16 "
                                  "(auto = bf16 where the CPU or GPU has bf16 units)."),
    wide: bool = typer.Option(False, "--wide", help="All table columns (slopes, yes/no "
                              "significance); the default fits 80 columns."),
) -> None:
    """The main job: dataset bias, steering audit of the shipped models, scored against truth.

    Writes OUT/stats.json, OUT/contact_sheet.png, OUT/steer.json, OUT/steer_grid.png,
    OUT/steer_covariance.png and OUT/truth_score.json.
    """
    from biaslens.cli.data_world import show_dataset_demo
    from biaslens.pipelines.demo import check_steering_demo, steering_demo
    from biaslens.report.figures import save_figure
    from biaslens.report.plots_steer import (
        plot_covariance_bars,
        plot_steer_grid,
        steer_settings_line,
        steer_table,
    )
    from biaslens.report.tables import findings_grid, truth_findings, truth_score_table

    from biaslens.audit.steer import parse_step_size

    step = parse_step_size(step_size)
    t0 = time.perf_counter()
    check_steering_demo(target=target, n_steer=n_steer, steps=steps, seed=seed,
                        generator=generator, classifier=classifier, precision=precision)
    console.rule("1. What is biased in the data")
    show_dataset_demo(out, n=n, seed=seed)

    console.rule(f"2. What the generator learned: steering toward {target}")
    demo = steering_demo(out, target=target, n_steer=n_steer, steps=steps, seed=seed, step_size=step,
                         generator=generator, classifier=classifier, precision=precision)
    result, score = demo.result, demo.score
    console.print(f"models: generator {_model_name(generator, 'generator')}, classifier "
                  f"{_model_name(classifier, 'classifier')}", highlight=False)
    console.print(f"settings: {steer_settings_line(result)}", highlight=False)
    console.print(steer_table(result, wide=wide))
    save_figure(plot_steer_grid(result), out / "steer_grid.png")
    save_figure(plot_covariance_bars(result), out / "steer_covariance.png")

    console.rule("3. Scored against the synthetic world's truth")
    findings = truth_findings(score)
    named = [r.attribute for r in score.rows if any(r.attribute in f[2] for f in findings)]
    console.print(truth_score_table(score, wide=wide, extra=named))
    n_pass = sum(ok for _, ok, _ in findings)
    console.print(f"checks against the truth: {n_pass} of {len(findings)} hold; a check that "
                  f"does not hold is a finding about the models, not an error", highlight=False)
    console.print(findings_grid(findings), highlight=False)
    if score.beyond_data is not None:
        from rich.padding import Padding

        console.print(Padding(f"beyond the data (the models' own, not the world's): "
                              f"{', '.join(score.beyond_data) or 'none'}", (0, 0, 0, 2)),
                      highlight=False)   # wrapped lines keep the indent
    console.print(f"wrote {out}/steer.json, steer_grid.png, steer_covariance.png, "
                  f"truth_score.json; the whole demo took {time.perf_counter() - t0:.0f} s "
                  f"(steering {result.elapsed_s:.0f} s)", highlight=False)
