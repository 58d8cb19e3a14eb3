"""``biaslens data synth|truth|preview|demo``: the synthetic face world on the command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from biaslens.cli._common import console, data_app, emit_json, json_option, json_to_stdout
from biaslens.cli.data_ingest import LazyProgress
from biaslens.errors import BiasLensError

if TYPE_CHECKING:
    from biaslens.pipelines.demo import DatasetDemo


def _progress_bar(label: str) -> Progress:
    return LazyProgress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=console, transient=True)


def _tracked(bar: Progress, description: str):
    """A ``progress(done, total)`` callback driving a rich task."""
    task: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "id" not in task:
            task["id"] = bar.add_task(description, total=total)
        bar.update(task["id"], completed=done)

    return update


@data_app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., help="Cache folder (or CelebA folder with --format celeba)."),
    world: str = typer.Option("celeba", help="World preset name or JSON overrides file."),
    n: int = typer.Option(50000, min=1, help="Number of faces."),
    size: int = typer.Option(64, help="Image side for caches (CelebA export: 178×218)."),
    seed: int = typer.Option(0, min=0, help="Seed for labels, splits and rendering."),
    val_frac: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of rows in the val split."),
    test_frac: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of rows in the test split."),
    nonfaces: int = typer.Option(0, min=0, help="Also render this many non-face images "
                                 "(adds group column is_face)."),
    workers: int = typer.Option(None, min=1, help="Render processes (default: this process)."),
    fmt: str = typer.Option("cache", "--format", help="cache or celeba (CelebA folder layout)."),
    overwrite: bool = typer.Option(False, help="Replace an existing cache at OUT."),
    scene: str = typer.Option("none", help="Capture conditions: none, or detection (dim "
                              "light, framing jitter, occluders, hard negatives; "
                              "docs/world.md)."),
) -> None:
    """Render a synthetic face world into a dataset cache or a CelebA-format folder.

    Example: ``biaslens data synth --world celeba --n 50000 --out caches/synth64``
    """
    from biaslens.world.synth import export_celeba, synthesize_cache

    from biaslens.world.scene import scene_params

    if fmt not in ("cache", "celeba"):
        raise BiasLensError(f"unknown --format {fmt!r}; choose cache or celeba")
    if scene_params(scene) is not None and fmt == "celeba":
        raise BiasLensError("--scene is not supported with --format celeba")
    t0 = time.perf_counter()
    with _progress_bar("rendering") as bar:
        cb = _tracked(bar, "faces")
        if fmt == "celeba":
            if nonfaces:
                raise BiasLensError("--nonfaces is not supported with --format celeba "
                                    "(CelebA has no non-face images)")
            path = export_celeba(world, n, out, seed=seed, val_frac=val_frac,
                                 test_frac=test_frac, workers=workers, progress=cb)
            what = f"CelebA folder {path}"
        else:
            cache = synthesize_cache(world, n, out, size=size, seed=seed, val_frac=val_frac,
                                     test_frac=test_frac, nonfaces=nonfaces, workers=workers,
                                     progress=cb, overwrite=overwrite, scene=scene)
            what = f"cache {cache.path}"
    console.print(f"wrote {n + nonfaces:,} images to {what} in {time.perf_counter() - t0:.1f} s")
    if fmt == "cache":   # the content hash on a line of its own (longer than most lines)
        from biaslens.data.source import split_counts

        sizes = split_counts(cache.split)
        console.print(f"world {world}; splits: " + ", ".join(f"{k} {v:,}" for k, v in
                                                           sizes.items())
                      + ("; under 100 test faces: wide intervals" if 0 < sizes["test"] < 100
                         else ""), highlight=False)
        console.print(f"hash {cache.content_hash}", highlight=False)


@data_app.command("truth")
def truth_cmd(
    world: str = typer.Option("celeba", help="World preset name or JSON overrides file."),
    target: str = typer.Option("Male", help="Target attribute ('-Male' allowed)."),
    json_out: str | None = json_option("the truth"),
) -> None:
    """Print the ground truth of a world: P(attr | target), P(attr | not), cov, phi.

    Example: ``biaslens data truth --world celeba --target Male``
    """
    from biaslens.report.tables import truth_rows, truth_table
    from biaslens.world.synth import load_world

    truth = load_world(world).truth(target=target)
    if not json_to_stdout(json_out):
        console.print(truth_table(truth_rows(truth), target=target,
                                  title=f"World {world!r}: truth for {target}"))
    emit_json(truth.to_dict(), json_out)


@data_app.command("preview")
def preview_cmd(
    source: str = typer.Argument(..., help="A cache folder, or a world preset / JSON file."),
    out: Path = typer.Option(..., help="PNG file to write."),
    n: int = typer.Option(32, min=1, help="Number of faces on the sheet."),
    seed: int = typer.Option(0, min=0, help="Seed (which rows / which faces)."),
    size: int = typer.Option(64, help="Image side when rendering a world."),
) -> None:
    """Save a contact sheet of faces with their labels.

    Example: ``biaslens data preview caches/synth64 --out sheet.png --n 32``
    """
    from biaslens.pipelines.dataset import write_preview

    console.print(f"wrote {write_preview(source, out, n=n, seed=seed, size=size)}")


@data_app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("biaslens-demo"), help="Folder for the demo outputs."),
    n: int = typer.Option(2000, min=1, help="Number of faces."),
    size: int = typer.Option(64, help="Image side."),
    seed: int = typer.Option(0, min=0, help="Seed."),
    n_boot: int = typer.Option(500, min=0, help="Bootstrap resamples (0: no CIs)."),
) -> None:
    """Five-second tour: synthesize a small world, measure its bias, compare with the truth.

    Writes OUT/cache, OUT/stats.json and OUT/contact_sheet.png.
    """
    show_dataset_demo(out, n=n, size=size, seed=seed, n_boot=n_boot)


def show_dataset_demo(out: str | Path, *, n: int = 2000, size: int = 64, seed: int = 0,
                      n_boot: int = 500) -> DatasetDemo:
    """Run :func:`biaslens.pipelines.demo.dataset_demo` with a progress bar and print its
    tables, the measured-vs-true comparison and what it wrote."""
    from biaslens.cli.data_stats import print_stats
    from biaslens.pipelines.demo import dataset_demo

    with _progress_bar("rendering") as bar:
        demo = dataset_demo(out, n=n, size=size, seed=seed, n_boot=n_boot,
                            progress=_tracked(bar, "faces"))
    print_stats(demo.stats, limit=10, true_phi=demo.true_phi)
    r = demo.result
    if r["max_abs_phi_error_top"] is not None:
        console.print(f"measured vs true phi over the top {len(demo.top)}: max |error| "
                      f"{r['max_abs_phi_error_top']:.3f}; the true value lies inside the "
                      f"{100 * demo.stats.level:g}% bootstrap CI for "
                      f"{r['true_phi_in_ci']}/{len(demo.top)}")
    console.print(f"wrote {demo.stats_path} and {demo.sheet_path} in {r['seconds']:.1f} s")
    return demo
