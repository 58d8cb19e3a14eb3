"""The sections of the HTML report, one function per audit.

Each takes a :class:`biaslens.report.document.Report` and returns its section's HTML,
or ``""`` when the report holds no result for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biaslens.report.markup import esc, flat, img, table
from biaslens.report.plots_steer import data_verdict, steer_rows
from biaslens.report.tables import fmt_ci, fmt_num, fmt_p
from biaslens.report.words import REVERSED_WORDS, anchor, group_words, plural

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
            ids=[anchor("dataset", "phi", c.name) for c in s.top],
            caption=f"Most correlated with {s.target} (ranked by |phi|)"))
    if s.groups:
        parts.append(table(
            ["group", "count", "share", "95% CI", "flag"],
            [[group_words(g.label), f"{g.count:,}", fmt_num(g.share),
              fmt_ci(g.ci_lo, g.ci_hi), "small" if g.small else ""] for g in s.groups],
            classes=["sig" if g.small else "" for g in s.groups],
            ids=[anchor("dataset", "group", g.label) for g in s.groups],
            caption=f"Intersectional groups of {' × '.join(s.group_columns)}",
            note=f"small: fewer than {s.min_group} rows"
                 + (f" or a share below {s.min_share:g}" if s.min_share is not None else "")
                 + ", too few for reliable per-group numbers."))
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
             "of every other attribute's logit change with the target's (units: logit²; r is "
             "the same as a correlation), with 95% bootstrap intervals over faces; "
             "significant = Benjamini–Hochberg q below the false-discovery rate 0.05 and a "
             "practical effect (the target moved, |correlation| large enough).</p>"]
    for r in report.data.steer:
        parts.append(f"<h3 id='{esc(anchor('steer', r.target))}'>Toward {esc(r.target)}</h3>")
        parts.append(img(report.figures, f"steer_grid_{r.target}",
                         f"faces steered toward {r.target}"))
        parts.append(img(report.figures, f"steer_cov_{r.target}",
                         f"covariance with {r.target}"))
        head = ["attribute", "covariance (logit²)", "95% CI", "r", "q-value", "significant"]
        rows = steer_rows(r, with_beyond=True)
        n_ranked = len(r.ranked)
        cells = [[x["attribute"], fmt_num(x["covariance"], signed=True),
                  fmt_ci(x["ci_low"], x["ci_high"], signed=True),
                  fmt_num(x["correlation"], signed=True), fmt_p(x["q_value"]),
                  "yes" if x["significant"] else "no"] for x in rows]
        ways = "steps each way" if len(r.push_signs) > 1 else "steps"
        caption = (f"{r.n_samples} faces, {r.steps} {ways}, seed {r.seed}: the top {n_ranked} "
                   "by |covariance|"
                   + (f", then {len(rows) - n_ranked} more the data comparison flags"
                      if len(rows) > n_ranked else ""))
        if r.practical is not None:
            caption += f"; {r.practical.rule}"
            if r.practical.verdict:
                caption += f". {r.practical.verdict}"
        note = None
        dc = r.data
        if dc is not None:
            head += ["path slope", "data slope", "vs data"]
            for row, x in zip(cells, rows):
                row += [fmt_num(x["path_slope"], signed=True),
                        fmt_num(x["data_slope"], signed=True), x["beyond_data"]]
            note = (f"Slopes: logit change per unit of {r.target} logit along the steering path "
                    f"vs across {dc.n_reference:,} training images (same classifier). vs data: "
                    f"no = as in the data; added = steeper (amplified or new); weakened = "
                    f"flatter; reversed = {REVERSED_WORDS}; each with the excess significant at "
                    f"FDR {dc.fdr:g}.")
        parts.append(table(head, cells, classes=["sig" if x["significant"] else "" for x in rows],
                           ids=[anchor("steer", r.target, x["attribute"]) for x in rows],
                           caption=caption, note=note))
    return "".join(parts)


#: Attribute rows of the population table (the rest are in report.json).
POPULATION_ROWS = 15


def population_section(report: Report) -> str:
    """Generated vs training prevalence (largest |amplification| first), group shares,
    associations."""
    p = report.data.population
    if p is None:
        return ""
    order = p.ranked_amplification(POPULATION_ROWS)
    n_all = len(p.attribute_names)
    rows = [[p.attribute_names[j], fmt_num(p.generated[j]), fmt_num(p.data[j]),
             fmt_num(p.difference[j], signed=True),
             fmt_ci(p.difference_ci[0][j], p.difference_ci[1][j], signed=True),
             fmt_num(p.ratio[j], 2), fmt_num(p.amplification[j], signed=True)] for j in order]
    groups = [[group_words(lab), fmt_num(qd), fmt_num(qg), fmt_ci(lo, hi)]
              for lab, qd, qg, lo, hi in zip(p.group_labels, p.group_share_data,
                                             p.group_share_generated, *p.group_share_ci)]
    labelled = ("labelled by the classifier and corrected for its error rates"
                if p.corrected else "labelled by the classifier (uncorrected)")
    omitted = n_all - len(order)
    return "".join([
        f"<h2 id='population'>Population</h2><p>{p.n_generated:,} generated faces, "
        f"{esc(labelled)}, vs {p.n_data:,} training labels."
        + (f" {esc(p.correction_note[:1].upper() + p.correction_note[1:])}." if p.corrected
           else " The classifier's own errors are in these shares (no correction: the "
                "data has no val split to measure the classifier's error rates on).")
        + "</p>",
        img(report.figures, "population", "generated vs training prevalence"),
        table(["attribute", "generated", "data", "difference", "95% CI", "ratio",
               "amplification"], rows, ids=[anchor("population", p.attribute_names[j])
                                           for j in order],
              caption=f"Largest |amplification| first: {len(order)} of {n_all} attributes"
                      + (f", {omitted} more in report.json" if omitted else ""),
              note="generated: share of generated faces with the attribute, as labelled by "
                   "the classifier; difference = generated − data; amplification = the "
                   "difference signed by the data's majority: positive = the generator "
                   "pushes the attribute further from 50 % (amplifies the data's imbalance), "
                   "negative = toward 50 % (dampens it)."),
        table(["group", "data share", "generated share", "95% CI"], groups,
              ids=[anchor("population", "group", lab) for lab in p.group_labels],
              caption=f"Groups of {' × '.join(p.groups)}",
              note=f"Fairness discrepancy (L2 distance of the generated group shares): "
                   f"{fmt_num(p.discrepancy['l2_to_data'])} to the data's shares, "
                   f"{fmt_num(p.discrepancy['l2_to_uniform'])} to equal shares."
                   + _ungrouped_note(report, p)),
        _association_table(p),
        _judge_tables(report),
    ])


def _ungrouped_note(report: Report, p: PopulationResult) -> str:
    """Why a protected column (a data group such as ``skin_type``) is not among the
    population's groups, and where it is covered instead (``""`` when none is missing)."""
    ungrouped = [g for g in report.data.inputs.get("protected", []) if g not in p.groups]
    if not ungrouped:
        return ""
    judged = "skin_type" in ungrouped and any(b.get("judge") == "skin_tone"
                                              for b in report.data.judges)
    return (f" Not grouped by {' or '.join(ungrouped)}: "
            f"{'it is' if len(ungrouped) == 1 else 'they are'} not among the classifier's "
            "attributes, so generated faces carry no such label (the Dataset section groups "
            "the data by it"
            + ("; the skin_tone judge below reads skin type from the generated faces"
               if judged else "") + ").")


def _judge_tables(report: Report) -> str:
    """Per judge of the generated faces: what it is, what it labelled, its raw shares
    and, where the data calibrates it, the corrected ones ('' without judges)."""
    from biaslens.report.judges import (JUDGE_EXPLAINER, judge_cells, judge_comparison,
                                        judge_title, judge_verdict)

    if not report.data.judges:
        return ""
    parts = [f"<h3 id='{esc(anchor('judges'))}'>Independent judges</h3>"
             f"<p>{esc(JUDGE_EXPLAINER)}</p>"]
    for b in report.data.judges:
        cells = judge_cells(b)
        parts.append(table(
            ["shares", "category", "share", "95% CI", "interval"], cells,
            classes=["corr" if c[0].startswith("corrected") else "" for c in cells],
            ids=[anchor("judge", b["judge"], c[0].split()[0], c[1])
                 for c in cells],
            caption=f"Judge {judge_title(b)}",
            note=" ".join(filter(None, [judge_comparison(b), judge_verdict(b)])), cls="judge"))
    return "".join(parts)


def _association_table(p: PopulationResult) -> str:
    """Associations with the first group column, generated vs training faces ('' without)."""
    dc = p.associations
    if dc is None:
        return ""
    order = p.ranked_associations(15)
    rows = [[p.attribute_names[j], fmt_num(dc.path_slope[j], signed=True),
             fmt_num(dc.data_slope[j], signed=True), fmt_num(dc.excess[j], signed=True),
             fmt_ci(dc.excess_ci_low[j], dc.excess_ci_high[j], signed=True),
             fmt_p(dc.q_values[j]),
             data_verdict(dc.path_slope[j], dc.data_slope[j], bool(dc.beyond_data[j]))]
            for j in order]
    return table(["attribute", "generated slope", "data slope", "excess", "95% CI", "q-value",
                  "vs data"], rows,
                 classes=["sig" if dc.beyond_data[j] else "" for j in order],
                 ids=[anchor("population", "assoc", p.attribute_names[j]) for j in order],
                 caption=f"Associations with {p.association_target}: logit change per unit of "
                         f"its logit across the generated faces vs across {dc.n_reference:,} "
                         f"training images (same classifier); beyond data = excess "
                         f"significant at FDR {dc.fdr:g}, "
                         f"{plural(int(dc.beyond_data.sum()), 'attribute')}")


_DISPARITY_WORDS = {
    "demographic_parity_difference": "demographic parity difference (selection rate)",
    "demographic_parity_ratio": "demographic parity ratio",
    "equalized_odds_difference": "equalized odds difference (larger of TPR and FPR gaps)",
    "equalized_odds_ratio": "equalized odds ratio",
    "equalized_odds_difference_mean": "equalized odds difference, mean of TPR and FPR gaps",
    "equalized_odds_ratio_mean": "equalized odds ratio, mean",
    "equal_opportunity_difference": "equal opportunity difference (TPR gap)",
    "equal_opportunity_ratio": "equal opportunity ratio",
}


def fairness_section(report: Report) -> str:
    """Per target: the per-group bar chart, the per-group rates, the disparities and,
    where scores were available, the Ramaswamy et al. metrics (AP, DEO, BA, KL)."""
    if not report.data.fairness:
        return ""
    audited = {t for t, _ in report.data.fairness}
    protected = set(report.data.inputs.get("protected", []))
    skipped = [t for t in report.data.inputs.get("targets", [])
               if t.lstrip("+-") in protected and t.lstrip("+-") not in audited]
    parts = ["<h2 id='fairness'>Classifier fairness</h2><p>The attribute classifier on the "
             "test split, per protected group (95% CIs: Wilson intervals for the per-group "
             "rates, a bootstrap over identities instead where the data has them; the "
             "bootstrap for differences and ratios). Differences: 0 = fair; "
             "ratios: 1 = fair (fairlearn's definitions)."
             + (f" Not audited here: {esc(', '.join(skipped))}, a protected attribute "
                "(its rates per its own groups would be its accuracy, not a fairness "
                "measure)." if skipped else "") + "</p>"]
    for t, r in report.data.fairness:
        parts.append(f"<h3 id='{esc(anchor('fairness', t))}'>{esc(t)} vs "
                     f"{esc(' × '.join(r.feature_names))}</h3>")
        parts.append(img(report.figures, f"fairness_{t}", f"fairness of {t}"))
        rows = [[group_words(g), f"{r.counts[i]:,}",
                 *[f"{fmt_num(r.by_group[m][i])} "
                   f"{fmt_ci(r.by_group_ci[m][0][i], r.by_group_ci[m][1][i])}"
                   for m in _RATES]] for i, g in enumerate(r.groups)]
        parts.append(table(["group", "n", "selection rate", "TPR", "FPR", "accuracy"], rows,
                           ids=[anchor("fairness", t, "group", g) for g in r.groups],
                           caption="Per group, with 95% CIs"))
        disp = r.disparities["between_groups"]
        parts.append(table(["metric", "value", "95% CI"],
                           [[_DISPARITY_WORDS.get(k, k), fmt_num(v["value"]), fmt_ci(*v["ci"])]
                            for k, v in disp.items()],
                           ids=[anchor("fairness", t, k) for k in disp],
                           caption="Disparities between groups"))
        ram = r.ramaswamy
        if ram is not None:
            parts.append(table(
                ["metric", "value", "± 2·std"],
                [["AP (average precision, ×100)", fmt_num(ram.ap, 2), fmt_num(ram.ap_pm, 2)],
                 ["DEO (difference in equal opportunity, ×100)", fmt_num(ram.deo, 2),
                  fmt_num(ram.deo_pm, 2)],
                 ["BA (bias amplification, ×100)", fmt_num(ram.ba, 2), fmt_num(ram.ba_pm, 2)],
                 ["KL (divergence of score distributions)", fmt_num(ram.kl, 3),
                  fmt_num(ram.kl_pm, 3)]],
                ids=[anchor("fairness", t, m) for m in ("ap", "deo", "ba", "kl")],
                caption="Ramaswamy et al. (CVPR 2021) metrics",
                note=f"Median and ± 2 standard deviations over {ram.n_boot} bootstrap "
                     "resamples, as in the paper; DEO, BA and KL: 0 = fair."))
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
