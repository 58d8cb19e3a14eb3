"""``biaslens audit steer``: classifier-guided latent steering and feature covariance.

Example::

    biaslens audit steer --target -Male --generator gen_ckpt/ --classifier pretrained_classifier.pth \\
        --n 256 --steps 30 --out runs/steer-female
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biaslens.cli._common import audit_app, console, err_console
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
    reference_n: int = typer.Option(2000, help="Reference images used (sampled, seeded)."),
    n: int = typer.Option(256, "--n", help="Number of noise vectors (images)."),
    steps: int = typer.Option(30, help="Gradient steps per direction."),
    step_size: float = typer.Option(None, help="Step size w (default 1/steps)."),
    direction: str = typer.Option("both", help="'+', '-' or 'both' (+ then -)."),
    accumulate_grad: bool = typer.Option(False, help="Course-compatible accumulated "
                                         "gradient (the notebooks never clear z.grad)."),
    disentangle: float = typer.Option(0.0, help="Penalty λ on the change of the other "
                                      "attributes (0 = plain steering)."),
    top_k: int = typer.Option(10, help="Rows in the ranked table."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples over images for the CIs."),
    fdr: float = typer.Option(0.05, help="Benjamini–Hochberg false-discovery rate."),
    test: str = typer.Option("t", help="Per-image test: 't' or 'signflip'."),
    seed: int = typer.Option(0, help="Seed of the noise and the resampling."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    precision: str = typer.Option("auto", help="auto, fp32 or bf16 (bf16 autocast of the "
                                  "model passes; auto = bf16 on a CUDA GPU or a CPU with "
                                  "bf16 units)."),
    n_show: int = typer.Option(8, help="Samples shown in the image grid."),
    skip: int = typer.Option(2, help="Show every skip-th step in the grid."),
    out: Path = typer.Option(Path("steer-out"), help="Output folder."),
    json_flag: bool = typer.Option(False, "--json", help="Print the JSON result instead "
                                   "of the table."),
    dry_run: bool = typer.Option(False, help="Print the resolved settings and stop."),
) -> None:
    """Steer noise toward a target attribute and rank what else changes, with CIs.

    Writes OUT/steer.json, OUT/steer_grid.png and OUT/steer_covariance.png.
    """
    from biaslens.pipelines.steering import plan_steering, run_steering

    plan = plan_steering(target, generator=generator, classifier=classifier, judge=judge,
                         reference=reference, reference_n=reference_n, n_samples=n,
                         steps=steps, step_size=step_size, direction=direction,
                         accumulate_grad=accumulate_grad, disentangle=disentangle,
                         top_k=top_k, n_boot=n_boot, fdr=fdr, test=test, seed=seed,
                         device=device, n_show=n_show, precision=precision)
    if dry_run:
        console.print_json(json.dumps({**plan.settings(), "skip": skip, "out": str(out)}))
        return
    from rich.progress import Progress

    from biaslens.report.plots_steer import (
        plot_covariance_bars,
        plot_steer_grid,
        save_figure,
        steer_table,
    )

    with Progress(console=err_console, transient=True, disable=json_flag) as bar:
        task = bar.add_task(f"steering toward {target}", total=steps)
        run = run_steering(plan, progress=lambda k, total: bar.update(task, completed=k))
    result, data = run.result, run.to_dict()
    write_json(data, out / "steer.json")
    save_figure(plot_steer_grid(result, skip=skip), out / "steer_grid.png")
    save_figure(plot_covariance_bars(result), out / "steer_covariance.png")
    if json_flag:
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(steer_table(result))
    console.print(f"{result.image_steps_per_s:,.0f} image-steps/s; wrote {out}/steer.json, "
                  f"steer_grid.png, steer_covariance.png")
