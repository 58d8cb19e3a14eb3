"""``biaslens demo``: the main job on the embedded default, scored against the truth.

1. Synthesize a small default-world dataset and print its bias statistics next to the
   world's true correlations (``biaslens data demo``).
2. Steer the shipped generator toward ``-Male`` ("Female") with the shipped classifier
   and rank what else moves, with bootstrap CIs and BH-corrected tests
   (``biaslens audit steer``), in the GANs course's own update rule.
3. Score the steering table against the world's truth (Spearman, top-5 in top-10,
   signs of the significant entries).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from biaslens.cli._common import console
from biaslens.io import write_json
from biaslens.pipelines.inputs import load_for_role, model_path


def truth_table(score) -> Table:
    """Rich table of :class:`biaslens.audit.truth.TruthScore` rows (top 12 by true |phi|)."""
    t = Table(title=f"Steering {score.target}: measured vs the world's truth "
                    f"(Spearman {score.spearman:.2f} over {len(score.attributes)} rendered attributes)")
    for col in ("attribute", "measured corr", "95% CI", "significant", "true phi", "sign",
                "beyond data"):
        t.add_column(col, justify="left" if col == "attribute" else "right")
    for r in score.rows[:12]:
        t.add_row(r.attribute, f"{r.measured:+.3f}", f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]",
                  "yes" if r.significant else "", f"{r.true_phi:+.3f}",
                  "ok" if r.sign_ok else ("WRONG" if r.significant else "differs"),
                  {None: "—", True: "yes", False: ""}[r.beyond_data])
    return t


def demo_cmd(
    out: Path = typer.Option(Path("demo-out"), help="Folder for the demo outputs."),
    target: str = typer.Option("-Male", help="Steering target (negation allowed)."),
    n: int = typer.Option(2000, help="Faces in the synthetic dataset."),
    n_steer: int = typer.Option(128, help="Noise vectors to steer."),
    steps: int = typer.Option(20, help="Steering steps per direction."),
    seed: int = typer.Option(0, help="Seed."),
    generator: Path | None = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: Path | None = typer.Option(None, help="Classifier checkpoint (default: shipped)."),
) -> None:
    """The main job: dataset bias, steering audit of the shipped models, scored against truth.

    Writes OUT/stats.json, OUT/contact_sheet.png, OUT/steer.json, OUT/steer_grid.png,
    OUT/steer_covariance.png and OUT/truth_score.json.
    """
    import torch

    from biaslens.audit.steer import steer_audit
    from biaslens.audit.truth import score_steering
    from biaslens.cli.data_world import run_demo
    from biaslens.data.reference import load_reference
    from biaslens.report.plots_steer import (
        plot_covariance_bars,
        plot_steer_grid,
        save_figure,
        steer_table,
    )
    from biaslens.world import World

    t0 = time.perf_counter()
    console.rule("1. What is biased in the data")
    run_demo(out, n=n, seed=seed)

    console.rule(f"2. What the generator learned: steering toward {target}")
    gen = load_for_role(model_path(generator, "generator"), "generator")
    clf = load_for_role(model_path(classifier, "classifier"), "classifier")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    # The course's rule (z.grad never cleared), so magnitudes are comparable with the
    # GANs-course tables; `biaslens audit steer` defaults to plain gradient ascent.
    # Reference: faces of the default world, the data the shipped models were trained on
    # (compares the steering slopes with the classifier's slopes on that data).
    ref = load_reference("world:celeba", n=2000, seed=seed + 1,
                         image_size=int(getattr(clf, "image_size", 64)))
    result = steer_audit(gen, clf, target, n_samples=n_steer, steps=steps,
                         accumulate_grad=True, n_boot=500, seed=seed,
                         reference=ref.images, reference_name=ref.description)
    console.print(steer_table(result))
    write_json(result.to_dict(), out / "steer.json")
    save_figure(plot_steer_grid(result, skip=4), out / "steer_grid.png")
    save_figure(plot_covariance_bars(result), out / "steer_covariance.png")

    console.rule("3. Scored against the synthetic world's truth")
    score = score_steering(result, World.preset("celeba").truth(target))
    console.print(truth_table(score))
    for check, ok in score.passed.items():
        console.print(f"  {'PASS' if ok else 'FAIL'}  {check}  {score.details[check]}")
    if score.beyond_data is not None:
        console.print(f"  beyond the data (the models' own, not the world's): "
                      f"{', '.join(score.beyond_data) or 'none'}")
    write_json(score.to_dict(), out / "truth_score.json")
    console.print(f"wrote {out}/steer.json, steer_grid.png, steer_covariance.png, "
                  f"truth_score.json in {time.perf_counter() - t0:.0f} s")

