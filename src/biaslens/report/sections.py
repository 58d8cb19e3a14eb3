"""The sections of the HTML report, one function per audit.

Each takes a :class:`biaslens.report.document.Report` and returns its section's HTML,
or ``""`` when the report holds no result for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biaslens.report.markup import esc, flat, img, table
from biaslens.report.plots_steer import steer_rows
from biaslens.report.tables import fmt_ci, fmt_num

if TYPE_CHECKING:
    from biaslens.audit.population import PopulationResult
    from biaslens.report.document import Report

__all__ = ["SECTIONS", "dataset_section", "fairness_section", "mitigation_section",
           "population_section", "steer_section"]

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")


def dataset_section(report: Report) -> str:
    """Prevalence and phi figures, the top correlations, groups and prevalence tables."""
    s = report.data.dataset
    if s is None:
        return ""
    prev = sorted(zip(s.attribute_names, s.counts, s.prevalence, s.prevalence_lo,
                      s.prevalence_hi), key=lambda r: -float(r[2]))
    parts = [f"<h2 id='dataset'>Dataset</h2><p>{s.n:,} rows, {len(s.attribute_names)} "
             "attributes. Prevalence with 95% Wilson intervals; phi = correlation of two "
             "binary attributes.</p>",
             img(report.figures, "dataset_prevalence", "attribute prevalence"),
             img(report.figures, "dataset_correlation", "correlation heat map")]
    if s.top:
        parts.append(table(
            ["attribute", "phi", "95% CI", f"P(·|{s.target})", "P(·|not)"],
            [[c.name, fmt_num(c.phi, signed=True), fmt_ci(c.ci_lo, c.ci_hi, signed=True),
              fmt_num(c.p_given_target), fmt_num(c.p_given_not)] for c in s.top],
            caption=f"Most correlated with {s.target}"))
    if s.groups:
        parts.append(table(
            [*s.group_columns, "count", "share", "95% CI", "flag"],
            [[*g.values.values(), f"{g.count:,}", fmt_num(g.share), fmt_ci(g.ci_lo, g.ci_hi),
              "small" if g.small else ""] for g in s.groups],
            classes=["sig" if g.small else "" for g in s.groups],
            caption=f"Intersectional groups (flag: n < {s.min_group})"))
    parts.append(table(["attribute", "count", "prevalence", "95% CI"],
                       [[nm, f"{int(c):,}", fmt_num(p), fmt_ci(lo, hi)]
                        for nm, c, p, lo, hi in prev], caption="Prevalence"))
    return "".join(parts)


def steer_section(report: Report) -> str:
    """Per target: the image grid, the covariance bars and the ranked table."""
    if not report.data.steer:
        return ""
    parts = ["<h2 id='steering'>Steering</h2><p>Noise vectors are pushed toward each target "
             "by gradient ascent on the classifier's logit; the table ranks the covariance "
             "of every other attribute's change with the target's (95% bootstrap CI over "
             "images; significant = Benjamini–Hochberg at FDR 0.05 and a practical effect: "
             "the target moved and |correlation| is large enough).</p>"]
    for r in report.data.steer:
        parts.append(f"<h3>Toward {esc(r.target)}</h3>")
        parts.append(img(report.figures, f"steer_grid_{r.target}",
                         f"faces steered toward {r.target}"))
        parts.append(img(report.figures, f"steer_cov_{r.target}",
                         f"covariance with {r.target}"))
        head = ["attribute", "covariance", "95% CI", "correlation", "q-value", "significant"]
        rows = steer_rows(r)
        cells = [[x["attribute"], fmt_num(x["covariance"], signed=True),
                  fmt_ci(x["ci_low"], x["ci_high"], signed=True),
                  fmt_num(x["correlation"], signed=True), fmt_num(x["q_value"], 4),
                  "yes" if x["significant"] else "no"] for x in rows]
        caption = f"{r.n_samples} faces × {r.steps} steps, seed {r.seed}"
        if r.practical is not None:
            caption += f"; {r.practical.rule}"
            if r.practical.verdict:
                caption += f". {r.practical.verdict}"
        dc = r.data
        if dc is not None:
            head += ["path slope", "data slope", "beyond data"]
            for row, x in zip(cells, rows):
                row += [fmt_num(x["path_slope"], signed=True),
                        fmt_num(x["data_slope"], signed=True), x["beyond_data"]]
            caption += (f"; slopes: logit change per unit of target logit along the path vs "
                        f"across {dc.n_reference} training images (same classifier), beyond "
                        f"data = excess significant at FDR {dc.fdr:g}")
        parts.append(table(head, cells, classes=["sig" if x["significant"] else "" for x in rows],
                           caption=caption))
    return "".join(parts)


def population_section(report: Report) -> str:
    """Generated vs training prevalence, group shares, associations."""
    p = report.data.population
    if p is None:
        return ""
    order = p.ranked_amplification(15)
    rows = [[p.attribute_names[j], fmt_num(p.generated[j]), fmt_num(p.data[j]),
             fmt_num(p.difference[j], signed=True),
             fmt_ci(p.difference_ci[0][j], p.difference_ci[1][j], signed=True),
             fmt_num(p.ratio[j], 2), fmt_num(p.amplification[j], signed=True)] for j in order]
    groups = [[lab, fmt_num(qd), fmt_num(qg), fmt_ci(lo, hi)] for lab, qd, qg, lo, hi in
              zip(p.group_labels, p.group_share_data, p.group_share_generated,
                  *p.group_share_ci)]
    return "".join([
        f"<h2 id='population'>Population</h2><p>{p.n_generated:,} generated faces labelled "
        f"by the classifier vs {p.n_data:,} training labels. {esc(p.correction_note)}.</p>",
        img(report.figures, "population", "generated vs training prevalence"),
        table(["attribute", "generated", "data", "difference", "95% CI", "ratio",
               "amplification"], rows, caption="Largest bias amplification first"),
        table(["group", "data share", "generated share", "95% CI"], groups,
              caption=f"Groups of {' × '.join(p.groups)}; fairness discrepancy (L2) to data "
                      f"{fmt_num(p.discrepancy['l2_to_data'])}, to uniform "
                      f"{fmt_num(p.discrepancy['l2_to_uniform'])}"),
        _association_table(p),
    ])


def _association_table(p: PopulationResult) -> str:
    """Associations with the first group column, generated vs training faces ('' without)."""
    dc = p.associations
    if dc is None:
        return ""
    order = p.ranked_associations(15)
    rows = [[p.attribute_names[j], fmt_num(dc.path_slope[j], signed=True),
             fmt_num(dc.data_slope[j], signed=True), fmt_num(dc.excess[j], signed=True),
             fmt_ci(dc.excess_ci_low[j], dc.excess_ci_high[j], signed=True),
             fmt_num(dc.q_values[j], 4), dc.verdict(j)] for j in order]
    return table(["attribute", "generated slope", "data slope", "excess", "95% CI", "q-value",
                  "beyond data"], rows,
                 classes=["sig" if dc.beyond_data[j] else "" for j in order],
                 caption=f"Associations with {p.association_target}: logit change per unit of "
                         f"its logit across the generated faces vs across {dc.n_reference} "
                         f"training images (same classifier); beyond data = excess "
                         f"significant at FDR {dc.fdr:g}, {int(dc.beyond_data.sum())} "
                         "attributes")


def fairness_section(report: Report) -> str:
    """Per target: the per-group bar chart, the per-group rates and the disparities."""
    if not report.data.fairness:
        return ""
    parts = ["<h2 id='fairness'>Classifier fairness</h2><p>The attribute classifier on the "
             "test split, per protected group (95% bootstrap CIs). Differences: 0 = fair; "
             "ratios: 1 = fair (fairlearn's definitions).</p>"]
    for t, r in report.data.fairness:
        parts.append(f"<h3>{esc(t)} vs {esc(' × '.join(r.feature_names))}</h3>")
        parts.append(img(report.figures, f"fairness_{t}", f"fairness of {t}"))
        rows = [[g, f"{r.counts[i]:,}",
                 *[f"{fmt_num(r.by_group[m][i])} "
                   f"{fmt_ci(r.by_group_ci[m][0][i], r.by_group_ci[m][1][i])}"
                   for m in _RATES]] for i, g in enumerate(r.groups)]
        parts.append(table(["group", "n", "selection rate", "TPR", "FPR", "accuracy"], rows))
        disp = r.disparities["between_groups"]
        parts.append(table(["metric", "value", "95% CI"],
                           [[k, fmt_num(v["value"]), fmt_ci(*v["ci"])] for k, v in disp.items()],
                           caption="Disparities between groups"))
    return "".join(parts)


def mitigation_section(report: Report) -> str:
    """One field/value table per result file of the run folder."""
    if not report.data.mitigation:
        return ""
    parts = ["<h2 id='mitigation'>Mitigation results</h2>"]
    for name, content in report.data.mitigation.items():
        parts.append(table(["field", "value"], [[k, v] for k, v in flat(content)],
                           caption=name))
    return "".join(parts)


#: ``(anchor, navigation title, section)`` in page order.
SECTIONS: tuple[tuple[str, str, Any], ...] = (
    ("dataset", "Dataset", dataset_section),
    ("steering", "Steering", steer_section),
    ("population", "Population", population_section),
    ("fairness", "Fairness", fairness_section),
    ("mitigation", "Mitigation", mitigation_section),
)
