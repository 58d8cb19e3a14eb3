"""``biaslens audit steer``: classifier-guided latent steering and feature covariance.

Example::

    biaslens audit steer --target -Male --generator gen_ckpt/ --classifier pretrained_classifier.pth \\
        --n 256 --steps 30 --out runs/steer-female
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biaslens.cli._common import (
    STEER,
    audit_app,
    console,
    emit_json,
    err_console,
    json_option,
    json_to_stdout,
    ranged,
    step_size_option,
)
from biaslens.io import write_json


@audit_app.command("steer")
def steer_cmd(
    target: str = typer.Option("Male", help="Target attribute; '-Male' or 'Female' steer "
                               "toward less Male (course aliases accepted)."),
    generator: Path = typer.Option(None, help="Generator checkpoint folder or .pth file."),
    classifier: Path = typer.Option(None, help="Attribute-classifier checkpoint or .pth "
                                    "(or a judge that can push: gender, age, skin_tone)."),
    judge: str = typer.Option(None, help="An independent judge that measures the steered "
                              "images (the --classifier only steers): a classifier "
                              "checkpoint, or gender | age | skin_tone."),
    reference: str = typer.Option("auto", help="Training data to compare the steering "
                                  "slopes with: a cache folder, 'world[:PRESET]' or 'none'; "
                                  "'auto' = the default world for the shipped models (with "
                                  "--n-boot >= 50), else none."),
    reference_n: int = typer.Option(2000, help="Reference images used (sampled, seeded).", min=10),
    n: int = typer.Option(256, "--n", help="Number of noise vectors (images).",
                          callback=ranged(STEER, "n_samples")),
    steps: int = typer.Option(30, help="Gradient steps per direction.",
                              callback=ranged(STEER, "steps")),
    step_size: str = typer.Option("course", help="Step size w: a number, 'course' (1/steps, "
                                  "the GANs course's rule) or 'calibrated' (the step under "
                                  "which the target's mean probability crosses 0.2 → 0.8).",
                                  callback=step_size_option),
    direction: str = typer.Option("both", help="'+', '-' or 'both' (+ then -)."),
    accumulate_grad: bool = typer.Option(False, help="Course-compatible accumulated "
                                         "gradient (the notebooks never clear z.grad)."),
    disentangle: float = typer.Option(0.0, help="Penalty λ on the change of the other "
                                      "attributes (0 = plain steering).",
                                      callback=ranged(STEER, "disentangle")),
    top_k: int = typer.Option(10, help="Rows in the ranked table.",
                              callback=ranged(STEER, "top_k")),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples over images for the CIs.",
                               callback=ranged(STEER, "n_boot")),
    fdr: float = typer.Option(0.05, help="Benjamini–Hochberg false-discovery rate.",
                              callback=ranged(STEER, "fdr")),
    test: str = typer.Option("t", help="Per-image test: 't' or 'signflip'."),
    min_target_change: float = typer.Option(
        0.05, help="Flag nothing unless the target's logit moves at least this much "
        "(practical-effect rule).", callback=ranged(STEER, "min_target_change")),
    min_correlation: float = typer.Option(
        0.1, help="Flag only attributes with |correlation| >= this (practical-effect "
        "rule).", callback=ranged(STEER, "min_correlation")),
    seed: int = typer.Option(0, help="Seed of the noise and the resampling.",
                             callback=ranged(STEER, "seed")),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    precision: str = typer.Option("auto", help="auto, fp32 or bf16 (bf16 autocast of the "
                                  "model passes; auto = bf16 on a CUDA GPU or a CPU with "
                                  "bf16 units)."),
    n_show: int = typer.Option(8, help="Samples shown in the image grid.", min=1),
    columns: int = typer.Option(9, help="Columns of the image grid (evenly spaced steps "
                                "along the path, both ends included).", min=2),
    out: Path = typer.Option(Path("steer-out"), help="Output folder."),
    json_out: str | None = json_option("the result (OUT/steer.json is always written)"),
    wide: bool = typer.Option(False, "--wide", help="All table columns (slopes, yes/no "
                              "significance); the default fits 80 columns."),
    dry_run: bool = typer.Option(False, help="Print the resolved settings and stop."),
) -> None:
    """Steer noise toward a target attribute and rank what else changes, with CIs.

    Writes OUT/steer.json, OUT/steer_grid.png and OUT/steer_covariance.png.
    """
    from biaslens.audit.steer import parse_step_size
    from biaslens.pipelines.steering import plan_steering, run_steering

    plan = plan_steering(target, generator=generator, classifier=classifier, judge=judge,
                         reference=reference, reference_n=reference_n, n_samples=n,
                         steps=steps, step_size=parse_step_size(step_size), direction=direction,
                         accumulate_grad=accumulate_grad, disentangle=disentangle,
                         top_k=top_k, n_boot=n_boot, fdr=fdr, test=test, seed=seed,
                         min_target_change=min_target_change, min_correlation=min_correlation,
                         device=device, n_show=n_show, precision=precision)
    if dry_run:
        console.print_json(json.dumps({**plan.settings(), "columns": columns, "out": str(out)}))
        return
    from rich.progress import Progress

    from biaslens.report.plots_steer import (
        plot_covariance_bars,
        plot_steer_grid,
        save_figure,
        steer_settings_line,
        steer_table,
    )

    quiet = json_to_stdout(json_out)
    with Progress(console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"steering toward {target}", total=steps)
        run = run_steering(plan, progress=lambda k, total: bar.update(task, completed=k))
    result, data = run.result, run.to_dict()
    write_json(data, out / "steer.json")
    save_figure(plot_steer_grid(result, n_cols=columns), out / "steer_grid.png")
    save_figure(plot_covariance_bars(result), out / "steer_covariance.png")
    if emit_json(data, json_out):
        return
    console.print(f"settings: {steer_settings_line(result)}", highlight=False)
    console.print(steer_table(result, wide=wide))
    console.print(f"steering took {result.elapsed_s:.1f} s ({result.image_steps_per_s:,.0f} "
                  f"image-steps/s); wrote {out}/steer.json, steer_grid.png, "
                  f"steer_covariance.png", highlight=False)
