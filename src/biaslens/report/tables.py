"""Rich tables for audit results (the reporting layer: audits never render themselves).

Each function takes a result object and returns a :class:`rich.table.Table`; callers
decide where to print it (the CLI's console, a recording console for HTML, a test).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from biaslens.audit.dataset import DatasetStats

__all__ = [
    "dataset_stats_tables",
    "fmt_ci",
    "fmt_num",
    "fmt_p",
    "groups_table",
    "prevalence_table",
    "rich_table",
    "top_correlated_table",
    "truth_rows",
    "truth_score_table",
    "truth_table",
]


def fmt_num(x: float | None, digits: int = 3, signed: bool = False) -> str:
    """Format a number for a table; NaN/None show as an em dash ("undefined")."""
    if x is None or not math.isfinite(float(x)):
        return "—"
    return f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p- or q-value: 4 decimals, scientific below 1e-3, em dash when undefined."""
    if p is None or not math.isfinite(float(p)):
        return "—"
    return f"{float(p):.4f}" if float(p) >= 1e-3 else f"{float(p):.1e}"


def fmt_ci(lo: float | None, hi: float | None, digits: int = 3, signed: bool = False) -> str:
    """``[lo, hi]`` with :func:`fmt_num` formatting, or an em dash when undefined."""
    if lo is None or hi is None or not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        return "—"
    return f"[{fmt_num(lo, digits, signed)}, {fmt_num(hi, digits, signed)}]"


def rich_table(title: str, columns: Sequence[str]) -> Table:
    """A rich ``Table`` titled ``title`` with ``columns``: the first left-aligned (the row
    names), the others right-aligned (numbers)."""
    table = Table(title=title)
    for k, col in enumerate(columns):
        table.add_column(col, justify="left" if k == 0 else "right")
    return table


def _pct(level: float) -> str:
    return f"{100 * level:g}%"


def prevalence_table(stats: DatasetStats, *, sort: bool = True, limit: int | None = None
                     ) -> Table:
    """Prevalence of each attribute with its Wilson interval (most common first)."""
    order = list(range(len(stats.attribute_names)))
    if sort:
        order.sort(key=lambda j: -float(stats.prevalence[j]))
    if limit is not None:
        order = order[:limit]
    where = f" ({stats.split})" if stats.split else ""
    table = Table(title=f"Attribute prevalence{where}, N = {stats.n:,}")
    table.add_column("attribute", no_wrap=True)
    table.add_column("count", justify="right")
    table.add_column("prevalence", justify="right")
    table.add_column(f"{_pct(stats.level)} CI (Wilson)", justify="right", no_wrap=True)
    for j in order:
        table.add_row(stats.attribute_names[j], f"{int(stats.counts[j]):,}",
                      fmt_num(stats.prevalence[j]),
                      fmt_ci(stats.prevalence_lo[j], stats.prevalence_hi[j]))
    return table


def top_correlated_table(stats: DatasetStats, *, true_phi: Mapping[str, float] | None = None
                         ) -> Table:
    """Attributes most correlated with the target, with their bootstrap CIs of phi.

    ``true_phi`` (attribute name -> phi with the same signed target), e.g. from the
    synthetic world's truth, adds a column to compare measured against true values.
    """
    table = Table(title=f"Most correlated with {stats.target} (ranked by |phi|)")
    table.add_column("attribute", no_wrap=True)
    table.add_column("phi", justify="right")
    table.add_column(f"{_pct(stats.level)} CI", justify="right", no_wrap=True)
    if true_phi is None:  # keep the comparison table within 80 columns
        table.add_column("cov", justify="right")
    table.add_column(f"P(·|{stats.target})", justify="right")
    table.add_column("P(·|not)", justify="right")
    if true_phi is not None:
        table.add_column("true phi", justify="right")
    for c in stats.top:
        colour = "green" if c.phi > 0 else "red" if c.phi < 0 else "default"
        row = [c.name, f"[{colour}]{fmt_num(c.phi, signed=True)}[/]",
               fmt_ci(c.ci_lo, c.ci_hi, signed=True)]
        if true_phi is None:
            row.append(fmt_num(c.cov, 4, signed=True))
        row += [fmt_num(c.p_given_target), fmt_num(c.p_given_not)]
        if true_phi is not None:
            row.append(fmt_num(true_phi.get(c.name), signed=True))
        table.add_row(*row)
    return table


def groups_table(stats: DatasetStats) -> Table:
    """Intersectional group counts and shares; groups below the threshold are flagged."""
    thr = f"n < {stats.min_group}"
    if stats.min_share is not None:
        thr += f" or share < {stats.min_share:g}"
    table = Table(title=f"Intersectional groups of {' × '.join(stats.group_columns)} "
                        f"(flag: {thr})")
    for name in stats.group_columns:
        table.add_column(name, justify="center")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column(f"{_pct(stats.level)} CI (Wilson)", justify="right", no_wrap=True)
    has_target = stats.target is not None
    if has_target:
        table.add_column(f"P({stats.target}|group)", justify="right")
    table.add_column("flag")
    for g in stats.groups:
        row = [str(v) for v in g.values.values()]
        row += [f"{g.count:,}", fmt_num(g.share), fmt_ci(g.ci_lo, g.ci_hi)]
        if has_target:
            row.append(fmt_num(g.target_rate))
        row.append("[bold red]small[/]" if g.small else "")
        table.add_row(*row)
    return table


def dataset_stats_tables(stats: DatasetStats, *, limit: int | None = None,
                         true_phi: Mapping[str, float] | None = None) -> list[Table]:
    """All tables for a :class:`DatasetStats`: prevalence, top correlations, groups."""
    tables = [prevalence_table(stats, limit=limit)]
    if stats.target is not None:
        tables.append(top_correlated_table(stats, true_phi=true_phi))
    if stats.groups:
        tables.append(groups_table(stats))
    return tables


def truth_rows(truth: Any) -> list[dict[str, Any]]:
    """Per-variable rows (name, p_given_target, p_given_not, cov, phi) of a world's
    ``TruthTable``, the target itself left out (the rows :func:`truth_table` takes)."""
    return [{"name": name, "p_given_target": float(truth.p_given_target[i]),
             "p_given_not": float(truth.p_given_not_target[i]),
             "cov": float(truth.covariance[i]), "phi": float(truth.phi[i])}
            for i, name in enumerate(truth.names) if i != truth.index]


def truth_table(rows: Sequence[Mapping[str, Any]], *, target: str, title: str | None = None
                ) -> Table:
    """Ground-truth table of a synthetic world (rows of ``TruthTable.to_dict()``-style dicts).

    Each row needs ``name`` and may carry ``p_given_target``, ``p_given_not``, ``cov``,
    ``phi``; missing keys show as a dash.
    """
    table = Table(title=title or f"World truth for target {target}")
    table.add_column("attribute", no_wrap=True)
    table.add_column(f"P(·|{target})", justify="right")
    table.add_column("P(·|not)", justify="right")
    table.add_column("cov", justify="right")
    table.add_column("phi", justify="right")
    for r in rows:
        table.add_row(str(r["name"]), fmt_num(r.get("p_given_target")),
                      fmt_num(r.get("p_given_not")), fmt_num(r.get("cov"), 4, signed=True),
                      fmt_num(r.get("phi"), signed=True))
    return table


def truth_score_table(score: Any) -> Table:
    """Rich table of :class:`biaslens.audit.truth.TruthScore` rows (top 12 by true |phi|)."""
    t = rich_table(f"Steering {score.target}: measured vs the world's truth (Spearman "
                   f"{score.spearman:.2f} over {len(score.attributes)} rendered attributes)",
                   ("attribute", "measured corr", "95% CI", "significant", "true phi", "sign",
                    "beyond data"))
    for r in score.rows[:12]:
        t.add_row(r.attribute, f"{r.measured:+.3f}", f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]",
                  "yes" if r.significant else "", f"{r.true_phi:+.3f}",
                  "ok" if r.sign_ok else ("WRONG" if r.significant else "differs"),
                  {None: "—", True: "yes", False: ""}[r.beyond_data])
    return t
