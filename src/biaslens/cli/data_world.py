"""``biaslens data synth|truth|preview|demo``: the synthetic face world on the command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from biaslens.cli._common import console, data_app
from biaslens.io import write_json
from biaslens.errors import BiasLensError, DataError


def _progress_bar(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def _tracked(bar: Progress, description: str):
    """A ``progress(done, total)`` callback driving a rich task."""
    task: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "id" not in task:
            task["id"] = bar.add_task(description, total=total)
        bar.update(task["id"], completed=done)

    return update


def truth_rows(truth: Any) -> list[dict[str, Any]]:
    """Per-variable rows (name, p_given_target, p_given_not, cov, phi) of a TruthTable."""
    return [{"name": name, "p_given_target": float(truth.p_given_target[i]),
             "p_given_not": float(truth.p_given_not_target[i]),
             "cov": float(truth.covariance[i]), "phi": float(truth.phi[i])}
            for i, name in enumerate(truth.names) if i != truth.index]


@data_app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., help="Cache folder (or CelebA folder with --format celeba)."),
    world: str = typer.Option("celeba", help="World preset name or JSON overrides file."),
    n: int = typer.Option(50000, help="Number of faces."),
    size: int = typer.Option(64, help="Image side for caches (CelebA export: 178×218)."),
    seed: int = typer.Option(0, help="Seed for labels, splits and rendering."),
    val_frac: float = typer.Option(0.1, help="Share of rows in the val split."),
    test_frac: float = typer.Option(0.1, help="Share of rows in the test split."),
    nonfaces: int = typer.Option(0, help="Also render this many non-face images "
                                 "(adds group column is_face)."),
    workers: int = typer.Option(None, help="Render processes (default: this process)."),
    fmt: str = typer.Option("cache", "--format", help="cache or celeba (CelebA folder layout)."),
    overwrite: bool = typer.Option(False, help="Replace an existing cache at OUT."),
) -> None:
    """Render a synthetic face world into a dataset cache or a CelebA-format folder.

    Example: ``biaslens data synth --world celeba --n 50000 --out caches/synth64``
    """
    from biaslens.world.synth import export_celeba, synthesize_cache

    if fmt not in ("cache", "celeba"):
        raise BiasLensError(f"unknown --format {fmt!r}; choose cache or celeba")
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
                                     progress=cb, overwrite=overwrite)
            what = f"cache {cache.path} ({cache.content_hash})"
    console.print(f"wrote {n + nonfaces:,} images to {what} in {time.perf_counter() - t0:.1f} s")


@data_app.command("truth")
def truth_cmd(
    world: str = typer.Option("celeba", help="World preset name or JSON overrides file."),
    target: str = typer.Option("Male", help="Target attribute ('-Male' allowed)."),
    json_out: Path = typer.Option(None, "--json", help="Also write the table as JSON."),
) -> None:
    """Print the ground truth of a world: P(attr | target), P(attr | not), cov, phi.

    Example: ``biaslens data truth --world celeba --target Male``
    """
    from biaslens.report.tables import truth_table
    from biaslens.world.synth import load_world

    truth = load_world(world).truth(target=target)
    rows = truth_rows(truth)
    console.print(truth_table(rows, target=target, title=f"World {world!r}: truth for {target}"))
    if json_out is not None:
        write_json(truth.to_dict(), json_out)
        console.print(f"wrote {json_out}")


@data_app.command("preview")
def preview_cmd(
    source: str = typer.Argument(..., help="A cache folder, or a world preset / JSON file."),
    out: Path = typer.Option(..., help="PNG file to write."),
    n: int = typer.Option(32, help="Number of faces on the sheet."),
    seed: int = typer.Option(0, help="Seed (which rows / which faces)."),
    size: int = typer.Option(64, help="Image side when rendering a world."),
) -> None:
    """Save a contact sheet of faces with their labels.

    Example: ``biaslens data preview caches/synth64 --out sheet.png --n 32``
    """
    path = write_preview(source, out, n=n, seed=seed, size=size)
    console.print(f"wrote {path}")


def write_preview(source: str | Path, out: str | Path, *, n: int = 32, seed: int = 0,
                  size: int = 64) -> Path:
    """Contact sheet PNG of ``n`` faces: random rows of a cache, or freshly rendered faces
    of a world (preset name or JSON file), each captioned with its labels."""
    src = Path(source)
    if src.is_dir():
        from biaslens.data.cache import load_cache

        cache = load_cache(src)
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(cache), size=min(n, len(cache)), replace=False))
        images, attrs = np.asarray(cache.images[idx]), np.asarray(cache.attrs[idx])
        tone = cache.extra.get("skin_tone")
        tone = None if tone is None else tone[idx]
        names = list(cache.attribute_names)
    else:
        from biaslens.world.attributes import PRESETS
        from biaslens.world.render import render_faces
        from biaslens.world.synth import load_world

        if str(source) not in PRESETS and ("/" in str(source) or src.suffix):
            raise DataError(f"{source}: no such cache folder or world file (a preset name "
                            f"is one of {', '.join(PRESETS)})")
        sample = load_world(str(source)).sample(n, seed=seed)
        attrs, tone, names = sample.attrs, sample.skin_tone, list(sample.attribute_names)
        images = render_faces(attrs, tone, seed=seed, size=size)
    return save_sheet(images, attrs, names, out, skin_tone=tone)


def save_sheet(images: np.ndarray, attrs: np.ndarray, names: list[str], out: str | Path, *,
               skin_tone: np.ndarray | None = None) -> Path:
    """Write a captioned contact sheet of ``images`` to ``out`` (PNG)."""
    from biaslens.world.preview import contact_sheet, short_caption

    captions = [short_caption(a, None if skin_tone is None or not np.isfinite(skin_tone[i])
                              else float(skin_tone[i]), names) for i, a in enumerate(attrs)]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(np.asarray(images), captions).save(out)
    return out


@data_app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("biaslens-demo"), help="Folder for the demo outputs."),
    n: int = typer.Option(2000, help="Number of faces."),
    size: int = typer.Option(64, help="Image side."),
    seed: int = typer.Option(0, help="Seed."),
    n_boot: int = typer.Option(500, help="Bootstrap resamples."),
) -> None:
    """Five-second tour: synthesize a small world, measure its bias, compare with the truth.

    Writes OUT/cache, OUT/stats.json and OUT/contact_sheet.png.
    """
    run_demo(out, n=n, size=size, seed=seed, n_boot=n_boot)


def run_demo(out: str | Path, *, n: int = 2000, size: int = 64, seed: int = 0,
             n_boot: int = 500, world: str = "celeba") -> dict[str, Any]:
    """The demo pipeline (see :func:`demo_cmd`); returns the JSON it writes to
    ``OUT/stats.json``: the dataset statistics, the world's true phi for the top
    attributes, the largest measured-vs-true error and how many CIs cover the truth."""
    from biaslens.audit.dataset import dataset_stats
    from biaslens.cli.data_stats import print_stats
    from biaslens.world.synth import load_world, synthesize_cache

    out = Path(out)
    t0 = time.perf_counter()
    w = load_world(world)
    if (out / "cache").exists() and not (out / "cache" / "manifest.json").is_file():
        raise BiasLensError(f"{out / 'cache'} exists and is not a cache; remove it or pick "
                            "another --out")
    with _progress_bar("rendering") as bar:
        cache = synthesize_cache(w, n, out / "cache", size=size, seed=seed, overwrite=True,
                                 progress=_tracked(bar, "faces"))
    groups = {name: np.asarray(cache.groups)[:, i] for i, name in enumerate(cache.group_names)}
    stats = dataset_stats(np.asarray(cache.attrs), cache.attribute_names, target="Male",
                          groups=["Male", "skin_type"], group_columns=groups, n_boot=n_boot,
                          seed=seed, split="all")
    true_phi = {r["name"]: r["phi"] for r in truth_rows(w.truth(target="Male"))}
    print_stats(stats, limit=10, true_phi=true_phi)
    top = [c for c in stats.top if c.name in true_phi]
    err = [abs(c.phi - true_phi[c.name]) for c in top]
    covered = sum(c.ci_lo <= true_phi[c.name] <= c.ci_hi for c in top)
    sheet = save_sheet(np.asarray(cache.images[:32]), np.asarray(cache.attrs[:32]),
                       cache.attribute_names, out / "contact_sheet.png",
                       skin_tone=cache.extra["skin_tone"][:32])
    result = {"cache": str(out / "cache"), "content_hash": cache.content_hash,
              "world": w.name, "stats": stats.to_dict(),
              "true_phi_top": {c.name: true_phi[c.name] for c in top},
              "max_abs_phi_error_top": float(max(err)) if err else None,
              "true_phi_in_ci": int(covered), "seconds": round(time.perf_counter() - t0, 2)}
    write_json(result, out / "stats.json")
    if err:
        console.print(f"measured vs true phi over the top {len(top)}: max |error| "
                      f"{max(err):.3f}; the true value lies inside the {100 * stats.level:g}% "
                      f"bootstrap CI for {covered}/{len(top)}")
    console.print(f"wrote {out / 'stats.json'} and {sheet} in {result['seconds']:.1f} s")
    return result
