"""Rich tables for :class:`biaslens.audit.fairness.FairnessReport` (rendering only)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from biaslens.audit.fairness import DISPARITIES, FairnessReport
from biaslens.report.tables import name_column
from biaslens.report.words import group_words

__all__ = ["disparity_table", "group_table", "group_tables", "print_fairness_report",
           "ramaswamy_table"]

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
_SHORT = {"selection_rate": "SR", "true_positive_rate": "TPR", "false_positive_rate": "FPR",
          "accuracy": "Acc"}


def _fmt(v: float, lo: float | None = None, hi: float | None = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    s = f"{v:.3f}"
    if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
        s += f" [{lo:.3f}, {hi:.3f}]"
    return s


def group_table(report: FairnessReport, rates: tuple[str, ...] = _RATES) -> Table:
    """Per-group count and ``rates`` (with CIs when the report has them), plus an overall
    row."""
    level = int(round(100 * report.ci_level))
    ci = f" ({level}% CI)" if report.n_boot else ""
    t = Table(title=f"Per-group metrics{ci}, n = {report.n}")
    labels = [group_words(g) for g in report.groups]
    name_column(t, "group", [*labels, "overall"])
    t.add_column("count", justify="right")
    for m in rates:
        t.add_column(_SHORT[m], justify="right", no_wrap=True)
    for i, g in enumerate(report.groups):
        cells = [_fmt(report.by_group[m][i], report.by_group_ci[m][0][i],
                      report.by_group_ci[m][1][i]) for m in rates]
        t.add_row(labels[i], str(report.counts[i]), *cells)
    t.add_row("[bold]overall[/]", str(report.n),
              *[_fmt(report.overall[m], *report.overall_ci[m]) for m in rates])
    return t


def group_tables(report: FairnessReport, width: int) -> list[Table]:
    """:func:`group_table`, split in two (selection rate and TPR; FPR and accuracy) when
    the four rates with their CIs would not fit ``width`` columns."""
    name = max(len(group_words(g)) for g in [*report.groups, "overall"])
    cell = 21 if report.n_boot else 6          # "0.500 [0.326, 0.674]" and the padding
    if name + 3 + 8 + len(_RATES) * (cell + 3) <= width:
        return [group_table(report)]
    return [group_table(report, _RATES[:2]), group_table(report, _RATES[2:])]


def disparity_table(report: FairnessReport) -> Table:
    """DP / EO / EOpp as difference and ratio, both fairlearn methods."""
    t = Table(title="Disparities (difference: 0 = fair; ratio: 1 = fair)")
    name_column(t, "metric", DISPARITIES)
    t.add_column("between_groups", justify="right")
    t.add_column("to_overall", justify="right")
    for name in DISPARITIES:
        cells = []
        for method in ("between_groups", "to_overall"):
            d = report.disparities[method][name]
            cells.append(_fmt(d["value"], *d["ci"]))
        t.add_row(name, *cells)
    return t


def ramaswamy_table(report: FairnessReport) -> Table | None:
    """AP / DEO / BA / KL as the paper reports them (bootstrap median ± 2·std)."""
    r = report.ramaswamy
    if r is None:
        return None
    how = (f"median ± 2·std over {r.n_boot} resamples" if r.n_boot
           else "point values; no resamples (--n-boot 0)")
    t = Table(title=f"Ramaswamy et al. metrics ({how})")
    for col in ("AP ×100", "DEO ×100", "BA ×100", f"KL ({r.kl_variant})"):
        t.add_column(col, justify="right")
    t.add_row(*[f"{m:.2f} ± {pm:.2f}" if r.n_boot else f"{m:.2f}" for m, pm in
                ((r.ap, r.ap_pm), (r.deo, r.deo_pm), (r.ba, r.ba_pm), (r.kl, r.kl_pm))])
    return t


def print_fairness_report(report: FairnessReport, console: Console) -> None:
    """Print every table of a report, then its notes."""
    for table in group_tables(report, console.width):
        console.print(table)
    console.print(disparity_table(report))
    rt = ramaswamy_table(report)
    if rt is not None:
        console.print(rt)
    if report.n_boot and report.resampling:
        wilson = ("; per-group and overall rates: Wilson score intervals of their counts"
                  if report.resampling.get("unit") == "images" and not report.weighted else "")
        console.print(f"CIs: {report.resampling['text']}{wilson}", highlight=False)
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
