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
from biaslens.report.words import group_words

__all__ = [
    "dataset_stats_tables",
    "fmt_ci",
    "fmt_num",
    "fmt_p",
    "name_column",
    "groups_table",
    "prevalence_table",
    "rich_table",
    "top_correlated_table",
    "truth_rows",
    "findings_grid",
    "truth_findings",
    "truth_score_table",
    "truth_table",
]


def fmt_num(x: float | None, digits: int = 3, signed: bool = False) -> str:
    """Format a number for a table; NaN/None show as an em dash ("undefined"). A value
    that is not 0 but rounds to it keeps one significant digit, so an interval bound just
    below 0 never reads "-0.000".

    >>> fmt_num(0.25), fmt_num(-0.00031), fmt_num(0.0, signed=True)
    ('0.250', '-0.0003', '+0.000')
    """
    if x is None or not math.isfinite(float(x)):
        return "—"
    x = float(x)
    if x != 0 and round(x, digits) == 0:
        digits = min(12, -math.floor(math.log10(abs(x))))
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p- or q-value as a reader compares it with 0.05: ``"<0.001"`` below 0.001, else
    3 decimals; an em dash when undefined.

    >>> fmt_p(8e-15), fmt_p(0.01234), fmt_p(0.5)
    ('<0.001', '0.012', '0.500')
    """
    if p is None or not math.isfinite(float(p)):
        return "—"
    return "<0.001" if float(p) < 1e-3 else f"{float(p):.3f}"


def name_column(table: Table, header: str, names: Sequence[str]) -> None:
    """Add the row-name column: never wrapped or cut (``Wearing_Lipstick`` and
    ``Wearing_Earrings`` must not both read ``Weari…``), as wide as the longest name, so the
    number columns give way first."""
    width = max([len(header), *(len(str(n)) for n in names)])
    table.add_column(header, no_wrap=True, min_width=width, overflow="ignore")


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
    name_column(table, "attribute", [c.name for c in stats.top])
    for col in ("phi", f"{_pct(stats.level)} CI",
                f"P(·|{stats.target})", *(() if true_phi else ("P(·|not)",)),
                *(("true phi",) if true_phi is not None else ())):
        table.add_column(col, justify="right", no_wrap=True)
    for c in stats.top:
        colour = "green" if c.phi > 0 else "red" if c.phi < 0 else "default"
        row = [c.name, f"[{colour}]{fmt_num(c.phi, signed=True)}[/]",
               fmt_ci(c.ci_lo, c.ci_hi, signed=True)]
        row.append(fmt_num(c.p_given_target))
        if true_phi is None:
            row.append(fmt_num(c.p_given_not))
        else:
            row.append(fmt_num(true_phi.get(c.name), signed=True))
        table.add_row(*row)
    table.caption = (f"phi: correlation of the two labels; P(·|{stats.target}): share with the "
                     f"attribute among {stats.target} rows"
                     + ("; true phi: the world's (P(·|not) and cov in the JSON)"
                        if true_phi is not None else "; cov in the JSON"))
    table.caption_justify = "left"
    return table


def groups_table(stats: DatasetStats) -> Table:
    """Intersectional group counts and shares; groups below the threshold are flagged."""
    thr = f"fewer than {stats.min_group}"
    if stats.min_share is not None:
        thr += f" (or a share below {stats.min_share:g})"
    table = Table(title=f"Intersectional groups of {' × '.join(stats.group_columns)}")
    labels = [group_words(g.label) for g in stats.groups]
    name_column(table, "group", labels)
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column(f"{_pct(stats.level)} CI", justify="right", no_wrap=True)
    # P(target | group) says nothing when the target is one of the group columns (0 or 1)
    has_target = stats.target is not None and stats.target.lstrip("-") not in stats.group_columns
    if has_target:
        table.add_column(f"P({stats.target}|group)", justify="right")
    table.add_column("flag")
    for label, g in zip(labels, stats.groups):
        row = [label, f"{g.count:,}", fmt_num(g.share), fmt_ci(g.ci_lo, g.ci_hi)]
        if has_target:
            row.append(fmt_num(g.target_rate))
        row.append("[bold red]small[/]" if g.small else "")
        table.add_row(*row)
    table.caption = (f"CI: Wilson; small: {thr} rows, too few for reliable per-group "
                     "numbers")
    table.caption_justify = "left"
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


def truth_score_table(score: Any, *, wide: bool = False, extra: Sequence[str] = ()) -> Table:
    """Rich table of :class:`biaslens.audit.truth.TruthScore` rows: the top 12 by true |phi|
    plus the attributes named in ``extra`` (e.g. those a finding names), readable at 80
    columns; ``wide`` adds the yes/no significance column."""
    rows = score.rows[:12] + [r for r in score.rows[12:] if r.attribute in set(extra)]
    t = Table(title=f"Steering {score.target}: measured vs the world's truth\n(Spearman "
                    f"{score.spearman:.2f} over {len(score.attributes)} rendered attributes)")
    name_column(t, "attribute", [r.attribute for r in rows])
    for col in ("r", "95% CI", *(("significant",) if wide else ()), "true phi",
                "sign", "beyond"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(r.attribute, f"{r.measured:+.3f}" + (" *" if r.significant else "  "),
                  f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]",
                  *(("yes" if r.significant else "no",) if wide else ()),
                  f"{r.true_phi:+.3f}",
                  "ok" if r.sign_ok else ("WRONG" if r.significant else "differs"),
                  {None: "—", True: "yes", False: ""}[r.beyond_data])
    t.caption = ("r: measured correlation of the attribute's logit change with the "
                 "target's (* = significant); true phi: the world's correlation of the labels; "
                 "sign: WRONG = significant and opposite, differs = opposite but not "
                 "significant; beyond: beyond the data, the models' own (steering table)")
    t.caption_justify = "left"
    return t


def findings_grid(findings: Sequence[tuple[str, bool, str]]) -> Table:
    """The :func:`truth_findings` as a two-column grid (``holds`` / ``finding``, then the
    check and its explanation, wrapped with a hanging indent)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for check, ok, text in findings:
        grid.add_row("holds" if ok else "[bold]finding[/]", f"{check}: {text}")
    return grid


def truth_findings(score: Any) -> list[tuple[str, bool, str]]:
    """The truth checks as ``(check, passed, explanation)``, each explanation giving the
    numbers of every attribute it names (measured r with its CI and rank, true phi and
    its rank), so a failed check reads as a finding about the models, not a breakage."""
    by_name = {r.attribute: r for r in score.rows}
    true_rank = {r.attribute: k + 1 for k, r in enumerate(score.rows)}
    meas_rank = {r.attribute: k + 1 for k, r in
                 enumerate(sorted(score.rows, key=lambda r: -abs(r.measured)))}

    def numbers(name: str) -> str:
        r = by_name.get(name)
        if r is None:
            return name
        return (f"{name}: measured r {r.measured:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
                f"(rank {meas_rank[name]} by |r|{', significant' if r.significant else ''}), "
                f"true phi {r.true_phi:+.3f} (rank {true_rank[name]})")

    out = []
    details = score.details
    for check, ok in score.passed.items():
        text = details[check]
        if check.startswith("spearman"):
            text = (f"rank correlation of measured r with the true phi over "
                    f"{len(score.attributes)} attributes: {score.spearman:.2f}")
        elif "in_measured" in check:
            missing = [a for a in score.true_top if a not in score.measured_top]
            text = (f"the true top {len(score.true_top)} by |phi| within the measured top "
                    f"{len(score.measured_top)} by |r|"
                    + ("; missing " + "; ".join(numbers(a) for a in missing) if missing else ""))
        elif "in_table" in check:
            missing = [a for a in score.true_top if a not in (score.table_top or [])]
            text = (f"the true top {len(score.true_top)} within the steering table's top "
                    f"{len(score.table_top or [])} by |covariance|"
                    + ("; missing " + "; ".join(missing) if missing else ""))
        elif check == "signs_right_for_significant":
            text = ("every significant entry has the true sign"
                    + ("; opposite: " + "; ".join(numbers(a) for a in score.wrong_signs)
                       if score.wrong_signs else ""))
        elif check == "signs_right_for_data_backed":
            wrong = score.wrong_signs_data_backed or []
            text = ("every significant entry that the data comparison attributes to the data "
                    "has the true sign"
                    + ("; opposite: " + "; ".join(numbers(a) for a in wrong) if wrong else ""))
        out.append((check, bool(ok), text))
    return out
