"""``biaslens data ingest`` and ``biaslens data info``: build and describe dataset caches."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from biaslens.cli._common import console, data_app, emit_json, json_option
from biaslens.data.cache import Cache, load_cache
from biaslens.data.ingest import ingest


class LazyProgress(Progress):
    """A rich progress bar that appears at its first update, not on ``with``: an error found
    while the arguments and inputs are checked is printed alone, not under an empty bar."""

    def __enter__(self) -> LazyProgress:
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        if not self.live.is_started:
            self.start()
        super().update(*args, **kwargs)

    def __exit__(self, *exc: Any) -> None:
        if self.live.is_started:
            self.stop()


def _progress_bar(label: str) -> LazyProgress:
    return LazyProgress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                        console=console)


@data_app.command("ingest")
def ingest_cmd(
    source: Path = typer.Argument(..., help="CelebA folder (or its parent with celeba/), or an "
                                  "image folder used with --csv."),
    out: Path = typer.Option(..., "--out", "-o", help="Cache folder to create."),
    size: int = typer.Option(64, min=1, help="Output side in pixels."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Label CSV for a folder source."),
    group_columns: Optional[str] = typer.Option(
        None, "--groups", help="Comma-separated CSV columns holding group labels."),
    crop: str = typer.Option("auto", help="auto | celeba | center | none | top,left,height,width"),
    workers: Optional[int] = typer.Option(None, min=1,
                                          help="Decoding processes (default: CPUs, max 8)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Drop unreadable images."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing cache."),
    only_present: bool = typer.Option(
        False, "--only-present", help="Ingest the listed images that exist (a partial "
        "download) and report how many rows were left out."),
    identity_column: Optional[str] = typer.Option(
        None, "--identity-column", help="CSV column naming the person in each image "
        "(CelebA: identity_CelebA.txt is read when present); bootstraps then resample "
        "people."),
) -> None:
    """Decode, crop and resize a source into a memory-mapped cache (+ manifest.json)."""
    groups = [g.strip() for g in group_columns.split(",") if g.strip()] if group_columns else []
    t0 = time.perf_counter()
    with _progress_bar("ingest") as bar:
        task = bar.add_task("ingest", total=None, rate="")

        def report(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} img/s")

        cache = ingest(source, out, size=size, crop=None if crop.lower() == "none" else crop,
                       workers=workers, skip_bad=skip_bad, overwrite=overwrite, progress=report,
                       csv=csv, group_columns=groups, only_present=only_present,
                       identity_column=identity_column)
    seconds = time.perf_counter() - t0
    left_out = cache.manifest["counts"].get("left_out", 0)
    if left_out:
        console.print(f"[yellow]left out {left_out:,} of "
                      f"{cache.manifest['counts'].get('listed', 0):,} listed rows[/] "
                      "(no image file: --only-present)")
    skipped = cache.manifest["counts"].get("skipped_bad", 0)
    if skipped:
        console.print(f"[yellow]skipped {skipped} unreadable image(s)[/] (listed in "
                      f"{cache.path / 'manifest.json'} counts.bad_files)")
    console.print(f"wrote {len(cache)} images to {cache.path} in {seconds:.1f} s "
                  f"({len(cache) / seconds:,.0f} images/s)")
    _print_summary(cache.manifest)


def _print_summary(manifest: dict, cache: Cache | None = None) -> None:
    counts = manifest.get("counts", {})
    table = Table(title="cache", show_header=False)
    table.add_row("images", f"{manifest['n']} x {manifest['height']}x{manifest['width']}x3 uint8")
    table.add_row("source", f"{manifest.get('source', {}).get('kind')} "
                            f"{manifest.get('source', {}).get('image_dir', '')}")
    table.add_row("crop", f"{manifest.get('source', {}).get('crop_mode')} {manifest.get('crop')}")
    table.add_row("split", ", ".join(f"{k} {v}" for k, v in counts.get("split", {}).items()))
    table.add_row("attributes", f"{len(manifest['attribute_names'])}")
    table.add_row("groups", ", ".join(manifest.get("group_names", [])) or "-")
    ident = manifest.get("identities") or {}
    table.add_row("identities", f"{ident['n_identities']:,} (from {ident.get('from')}): "
                  "bootstraps resample identities" if ident else
                  "- (bootstraps resample images)")
    names = manifest.get("image_names")
    table.add_row("image names", "recorded (relative to the image folder)" if names else
                  "- (not recorded)")
    if counts.get("left_out"):
        table.add_row("left out", f"{counts['left_out']:,} listed rows without an image")
    if counts.get("skipped_bad"):
        table.add_row("skipped", str(counts["skipped_bad"]))
    table.add_row("hash", manifest["content_hash"])
    for note in manifest.get("notes", []):
        table.add_row("note", note)
    if cache is not None:
        for what, how in _verification(cache).items():
            table.add_row(what, how)
    console.print(table)


def _verification(cache: Cache) -> dict[str, str]:
    """What :func:`load_cache` checked: the label hashes always, the images on request."""
    labels = ("verified (label files match their hashes)" if cache.labels_verified else
              "not verified: the cache predates label hashes (re-ingest to record them)")
    images = ("verified (content hash recomputed)" if cache.images_verified else
              "not verified (pass --verify to recompute the content hash)")
    return {"label hashes": labels, "image hash": images}


@data_app.command("info")
def info_cmd(
    cache_path: Path = typer.Argument(..., help="Cache folder."),
    verify: bool = typer.Option(False, "--verify", help="Recompute the content hash."),
    json_out: str | None = json_option("the manifest and what was verified"),
) -> None:
    """Check a cache and print its manifest summary, saying what was verified."""
    cache = load_cache(cache_path, verify=verify)
    verified = {"labels": cache.labels_verified, "images": cache.images_verified}
    if emit_json({**cache.to_dict(), "verified": verified}, json_out):
        return
    _print_summary(cache.manifest, cache)
    if verify:
        console.print("[green]content hash verified[/]")
