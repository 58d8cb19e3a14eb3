"""``biaslens data stats``: bias statistics of a dataset cache (prevalence, phi, groups)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from biaslens.cli._common import console, data_app, emit_json, json_option, json_to_stdout

if TYPE_CHECKING:
    from biaslens.audit.dataset import DatasetStats


def parse_list(value: str | None) -> list[str]:
    """Split a comma-separated option (``Male,Pale_Skin``) into names; empty -> []."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def print_stats(stats: DatasetStats, *, limit: int | None = None,
                true_phi: dict[str, float] | None = None) -> None:
    """Print every table of ``stats`` to the CLI console."""
    from biaslens.report.tables import dataset_stats_tables
    from biaslens.report.words import group_words

    for table in dataset_stats_tables(stats, limit=limit, true_phi=true_phi):
        console.print(table)
    if stats.resampling and (stats.n_boot or stats.interval_method != "wilson"):
        how = ("every interval" if stats.interval_method == "cluster_bootstrap"
               else "correlation CIs")
        console.print(f"{how}: {stats.resampling['text']}")
    if stats.small_groups:
        names = "; ".join(group_words(g.label) for g in stats.small_groups)
        console.print(f"[bold red]{len(stats.small_groups)} group(s) below the size "
                      f"threshold:[/] {names}")


@data_app.command("stats")
def stats_cmd(
    cache: Path = typer.Argument(..., help="Dataset cache folder."),
    target: str = typer.Option(None, help="Rank attributes by correlation with this one "
                               "(CelebA name or alias; '-Male'/'Female' flip signs)."),
    groups: str = typer.Option(None, help="Comma-separated columns to cross into "
                               "intersectional groups: attributes or cache groups "
                               "(e.g. Male,skin_type)."),
    split: str = typer.Option("all", help="train, val, test or all."),
    min_group: int = typer.Option(30, min=0, help="Flag groups with fewer rows than this."),
    min_share: float = typer.Option(None, min=0.0, max=1.0,
                                    help="Also flag groups with a smaller share."),
    top: int = typer.Option(10, min=1, help="How many correlated attributes to show."),
    n_boot: int = typer.Option(1000, min=0, help="Bootstrap resamples for the correlation "
                                "CIs (0: none)."),
    seed: int = typer.Option(0, min=0, help="Bootstrap seed."),
    limit: int = typer.Option(None, min=1, help="Show only the N most prevalent attributes."),
    json_out: str | None = json_option("the results"),
) -> None:
    """Prevalence (Wilson CIs), phi correlations with a target (bootstrap CIs) and
    intersectional group counts of a cache.

    Example: ``biaslens data stats CACHE --target Male --groups Male,skin_type --json s.json``
    (``--json -`` prints the JSON to stdout instead of the tables)
    """
    from biaslens.pipelines.dataset import cache_stats

    stats = cache_stats(cache, target=target, groups=parse_list(groups), split=split,
                        k=top, n_boot=n_boot, seed=seed, min_group=min_group,
                        min_share=min_share)
    if not json_to_stdout(json_out):
        print_stats(stats, limit=limit)
    emit_json({**stats.to_dict(), "cache": str(cache)}, json_out)
