"""Pictures and tables of the generator audits: population, reconstruction, counterfactual.

Rendering only: every function takes a result object from :mod:`biaslens.audit.population`,
:mod:`biaslens.audit.reconstruct`, :mod:`biaslens.audit.counterfactual` or
:mod:`biaslens.experiments.ratio_sweep` and returns a matplotlib ``Figure`` (Agg, no
pyplot state), a uint8 image or a rich ``Table``. Save figures with
:func:`biaslens.report.figures.save_figure`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rich.table import Table

from biaslens.report.plots_steer import data_verdict, make_grid
from biaslens.report.tables import fmt_ci, fmt_num, fmt_p, name_column
from biaslens.report.words import group_words, value_words

if TYPE_CHECKING:
    from biaslens.audit.counterfactual import CounterfactualResult
    from biaslens.audit.population import PopulationResult
    from biaslens.audit.reconstruct import ReconstructResult
    from biaslens.experiments.ratio_sweep import RatioSweepResult

__all__ = ["counterfactual_direction_line", "counterfactual_grid", "counterfactual_legend",
           "counterfactual_shift_tables", "counterfactual_table", "plot_counterfactual_pairs",
           "plot_population", "plot_ratio_sweep", "plot_reconstruction", "population_table",
           "reconstruct_gap_lines", "reconstruct_table"]

_GEN, _DATA, _OBS = "#c0392b", "#2c6fbb", "#e8a09a"
_NEUTRAL = "#9a9a9a"  # a bar no verdict singles out


def _err(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(2, n)`` non-negative error-bar lengths; undefined bounds draw no bar."""
    e = np.vstack([v - lo, hi - v])
    return np.clip(np.nan_to_num(e, nan=0.0), 0, None)


def plot_population(result: PopulationResult, top_k: int | None = 20) -> Figure:
    """Generated vs data prevalence per attribute (95% CIs), largest |amplification| first,
    beside the intersectional group shares (data, generated, uniform reference)."""
    order = result.ranked_amplification(top_k)
    names = [result.attribute_names[j] for j in order][::-1]
    gen = result.generated[order][::-1]
    dat = result.data[order][::-1]
    g_lo, g_hi = (x[order][::-1] for x in result.generated_ci)
    d_lo, d_hi = (x[order][::-1] for x in result.data_ci)

    fig = Figure(figsize=(13, 1.8 + 0.32 * max(len(order), 4)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    y = np.arange(len(names))
    h = 0.4
    ax.barh(y + h / 2, gen, h, color=_GEN, label="generated" +
            (" (corrected)" if result.corrected else " (classifier labels)"),
            xerr=_err(gen, g_lo, g_hi), error_kw={"lw": 1, "capsize": 2})
    ax.barh(y - h / 2, dat, h, color=_DATA, label="training data",
            xerr=_err(dat, d_lo, d_hi), error_kw={"lw": 1, "capsize": 2})
    ax.set_yticks(y, [f"{nm}  (amp {a:+.2f})" for nm, a in
                      zip(names, result.amplification[order][::-1])])
    ax.set_xlim(0, 1)
    ax.set_xlabel("prevalence (95% CI); amp = bias amplification toward the data's majority")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Attribute prevalence: {result.n_generated} generated vs {result.n_data} data")

    ax2 = fig.add_subplot(1, 2, 2)
    c = len(result.group_labels)
    x = np.arange(c)
    w = 0.38
    q = result.group_share_generated
    ax2.bar(x - w / 2, result.group_share_data, w, color=_DATA, label="training data")
    ax2.bar(x + w / 2, q, w, color=_GEN, label="generated",
            yerr=_err(q, *result.group_share_ci), error_kw={"lw": 1, "capsize": 3})
    ax2.axhline(1 / c, color="black", ls="--", lw=0.8, label="uniform")
    ax2.set_xticks(x, [group_words(g) for g in result.group_labels], rotation=30, ha="right")
    ax2.set_ylabel("share of samples")
    d = result.discrepancy
    ax2.set_title(f"Group shares  (FD L2 to data {d['l2_to_data']:.3f}, "
                  f"to uniform {d['l2_to_uniform']:.3f})")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def population_table(result: PopulationResult, top_k: int | None = 15, *,
                     wide: bool = False) -> Table:
    """Rich table, largest |amplification| first, readable at 80 columns: prevalence
    generated vs data, difference with its CI and amplification (``wide`` adds the ratio);
    the caption explains the sign and says how many rows were left out."""
    basis = ("labelled by the classifier, corrected for its error rates (Rogan–Gladen)"
             if result.corrected else "labelled by the classifier, uncorrected")
    order = result.ranked_amplification(top_k)
    n_all = len(result.attribute_names)
    table = Table(title=f"Population: {result.n_generated:,} generated faces vs "
                        f"{result.n_data:,} training labels")
    name_column(table, "attribute", [result.attribute_names[j] for j in order])
    for col in ("gen.", "data", "diff.", "95% CI", *(("ratio",) if wide else ()), "amplif."):
        table.add_column(col, justify="right", no_wrap=True)
    for j in order:
        a = result.amplification[j]
        style = "red" if np.isfinite(a) and a > 0 else ""
        table.add_row(result.attribute_names[j], fmt_num(result.generated[j]),
                      fmt_num(result.data[j]), fmt_num(result.difference[j], signed=True),
                      fmt_ci(result.difference_ci[0][j], result.difference_ci[1][j],
                             signed=True),
                      *((fmt_num(result.ratio[j], 2),) if wide else ()),
                      fmt_num(a, signed=True), style=style)
    omitted = n_all - len(order)
    table.caption = (f"gen.: share of generated faces with the attribute, {basis}; data: "
                     "share of training labels; diff. = gen. − data; amplif. = diff. signed by the "
                     "data's majority: + = further from 50 % (the generator amplifies the "
                     "imbalance), − = toward 50 % (it dampens it); largest |amplif.| first"
                     + (f"; {omitted} more attributes in the JSON" if omitted > 0 else ""))
    table.caption_justify = "left"
    return table


def association_table(result: PopulationResult, top_k: int | None = 15, *,
                      wide: bool = False) -> Table | None:
    """Rich table of the association comparison (``None`` without one), readable at 80
    columns: per attribute the excess of the generated faces' slope over the real faces'
    with its CI, the q-value and the verdict (added / weakened / reversed / no); ``wide``
    adds the two slopes."""
    dc = result.associations
    if dc is None:
        return None
    order = result.ranked_associations(top_k)
    n_all = len(result.attribute_names) - 1  # all but the association target
    table = Table(title=f"Associations with {result.association_target}: generated vs "
                        f"{dc.n_reference:,} real faces, same classifier")
    name_column(table, "attribute", [result.attribute_names[j] for j in order])
    for col in (*(("generated", "data") if wide else ()), "excess", "95% CI", "q-value",
                "vs data"):
        table.add_column(col, justify="right" if col != "vs data" else "left", no_wrap=True)
    for j in order:
        verdict = data_verdict(float(dc.path_slope[j]), float(dc.data_slope[j]),
                               bool(dc.beyond_data[j]))
        slopes = ((fmt_num(dc.path_slope[j], 2, signed=True),
                   fmt_num(dc.data_slope[j], 2, signed=True)) if wide else ())
        table.add_row(result.attribute_names[j], *slopes,
                      fmt_num(dc.excess[j], 2, signed=True),
                      fmt_ci(dc.excess_ci_low[j], dc.excess_ci_high[j], 2, signed=True),
                      fmt_p(dc.q_values[j]), verdict,
                      style={"added": "red", "weakened": "blue", "reversed": "magenta"}
                      .get(verdict, "dim"))
    omitted = n_all - len(order)
    table.caption = (f"excess: the logit change per unit of {result.association_target} "
                     f"logit across generated faces minus that across {dc.reference} "
                     f"(both slopes under --wide); vs data: "
                     f"added = steeper, weakened = flatter, reversed = opposite sign, each "
                     f"with the excess significant at FDR {dc.fdr:g} "
                     f"({int(dc.beyond_data.sum())} of {n_all})"
                     + (f"; {omitted} more attributes in the JSON" if omitted > 0 else ""))
    table.caption_justify = "left"
    return table


def plot_reconstruction(result: ReconstructResult) -> Figure:
    """Per-group reconstruction MSE (bootstrap CI) and label preservation (Wilson CI).

    The MSE bars are grey; the highest one is red only when the worst − best gap is decided
    (its CI excludes 0): overlapping intervals name no worst group."""
    g = len(result.group_labels)
    n_pres = len(result.preserved)
    fig = Figure(figsize=(5 + 4 * n_pres, 4.2))
    FigureCanvasAgg(fig)
    x = np.arange(g)
    words = [group_words(lab) for lab in result.group_labels]
    ax = fig.add_subplot(1, 1 + n_pres, 1)
    decided = result.decided["mse"]
    colors = [_GEN if decided and lab == result.worst_group else _NEUTRAL
              for lab in result.group_labels]
    ax.bar(x, result.mse, color=colors, yerr=_err(result.mse, *result.mse_ci),
           error_kw={"lw": 1, "capsize": 3})
    ax.set_xticks(x, [f"{w}\n(n={n})" for w, n in zip(words, result.n)],
                  rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("mean per-image MSE ([0, 1] pixels)")
    ax.set_title(f"Reconstruction error (highest: {group_words(result.worst_group)})"
                 if decided else "Reconstruction error (no group decided worst)")
    for k, (name, rate) in enumerate(result.preserved.items()):
        axp = fig.add_subplot(1, 1 + n_pres, 2 + k)
        axp.bar(x, rate, color=_DATA, yerr=_err(rate, *result.preserved_ci[name]),
                error_kw={"lw": 1, "capsize": 3}, label="reconstruction")
        axp.scatter(x, result.original_accuracy[name], color="black", marker="_", s=200,
                    zorder=3, label="original (classifier accuracy)")
        axp.set_ylim(0, 1.05)
        axp.set_xticks(x, words, rotation=30, ha="right", fontsize=8)
        axp.set_title(f"{name} label kept after reconstruction")
        axp.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def reconstruct_table(result: ReconstructResult) -> Table:
    """Rich table: per group (in words) n, MSE (CI), L1 and preservation rates; the title
    names the highest-MSE group, and whether the MSE gap is decided (that row is red only
    then)."""
    decided = result.decided["mse"]
    worst = group_words(result.worst_group)
    verdict = "gap decided" if decided else "gap not decided"
    table = Table(title=f"Reconstruction audit over {' × '.join(result.groups)}\n"
                        f"highest MSE: {worst} ({verdict})")
    words = [group_words(lab) for lab in result.group_labels]
    name_column(table, "group", words)
    for col in ("n", "MSE", "95% CI", "L1", *[f"{k} kept" for k in result.preserved]):
        table.add_column(col, justify="right")
    for g, lab in enumerate(result.group_labels):
        table.add_row(words[g], str(int(result.n[g])), fmt_num(result.mse[g], 4),
                      fmt_ci(result.mse_ci[0][g], result.mse_ci[1][g], 4),
                      fmt_num(result.l1[g], 4),
                      *[fmt_num(v[g]) for v in result.preserved.values()],
                      style="red" if decided and lab == result.worst_group else "")
    return table


def reconstruct_gap_lines(result: ReconstructResult) -> list[str]:
    """One sentence per gap: the MSE gap (highest − lowest MSE group) and, per attribute,
    the label-kept gap (best − worst group by that rate), each naming its metric, its
    groups in words, its simultaneous 95% CI and whether it is decided (if not, the
    ``--per-group`` to try: 500 decides the shipped VAE's gap, docs/validation.md)."""
    per_group_hint = 500 if result.per_group < 500 else 2 * result.per_group
    lines = []
    lo, hi = result.mse_gap_ci
    if math.isfinite(lo) and math.isfinite(hi):
        lines.append(
            f"MSE, highest − lowest group ({group_words(result.worst_group)} − "
            f"{group_words(result.best_group)}): {fmt_num(result.mse_gap, 4)} "
            f"{fmt_ci(lo, hi, 4)} simultaneous 95% CI; " + _gap_verdict(lo > 0,
                                                                        per_group_hint))
    for name, gap in result.preservation_gap.items():
        lo, hi = result.preservation_gap_ci[name]
        best, worst = result.preservation_gap_groups[name]
        lines.append(
            f"{name} label kept, best − worst group by that rate ({group_words(best)} − "
            f"{group_words(worst)}): {fmt_num(gap)} {fmt_ci(lo, hi)} simultaneous 95% CI; "
            + _gap_verdict(lo > 0, per_group_hint))
    return lines


def _gap_verdict(decided: bool, per_group_hint: int) -> str:
    if decided:
        return "decided: the CI excludes 0, the gap is real at this size."
    return (f"the CI includes 0: no gap shown at this size (more images decide it: "
            f"--per-group {per_group_hint}).")


def counterfactual_grid(result: CounterfactualResult, pad: int = 2) -> np.ndarray:
    """uint8 grid: one row per image, columns original | recon | decoder flip |
    encoder flip | scaled."""
    return make_grid(result.pairs, pad=pad)


def plot_counterfactual_pairs(result: CounterfactualResult) -> Figure:
    """The before/after grid with its column titles."""
    grid = counterfactual_grid(result)
    rows = result.pairs.shape[0]
    fig = Figure(figsize=(8, 1.2 + 1.3 * rows))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid, interpolation="nearest")
    fr = result.flip_vs_recon
    cols = ["original", "recon", f"decoder flip\n({fr['decoder_flip']:.0%})",
            f"encoder flip\n({fr['encoder_flip']:.0%})",
            f"×{result.scale:g}\n({fr['scaled']:.0%})"]
    w = result.pairs.shape[3] + 2
    ax.set_xticks([2 + w * k + w / 2 - 1 for k in range(5)], cols, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.set_xlabel(f"Condition {result.condition} flipped (in brackets: how often the "
                  f"classified {result.condition} differs from the recon's)")
    fig.tight_layout()
    return fig


def _variant_words(result: CounterfactualResult) -> dict[str, str]:
    """The variants as a reader names them (``scaled`` with its factor)."""
    return {"recon": "reconstruction", "decoder_flip": "decoder flip",
            "encoder_flip": "encoder flip (control)",
            "scaled": f"decoder flip ×{result.scale:g}"}


def _rate_ci(rate: float, ci: tuple[float, float]) -> str:
    """A rate over its 95% CI, on two lines so three such columns fit 80 columns."""
    return f"{fmt_num(rate)}\n{fmt_ci(*ci)}"


def counterfactual_table(result: CounterfactualResult) -> Table:
    """Rich table: per variant, how often the classified condition changed vs the original
    image and vs the reconstruction, and how often it reads as the requested label (each
    with its Wilson 95% CI). Fits 80 columns; :func:`counterfactual_legend` explains it."""
    c = result.condition
    table = Table(title=f"Counterfactual audit: condition {c} ({result.n} images)",
                  show_lines=True)
    names = _variant_words(result)
    name_column(table, "variant", list(names.values()))
    for col in ("label changed\nvs original", "label changed\nvs recon",
                "read as\nrequested"):
        table.add_column(col, justify="right")
    for v in result.flip_rate:
        table.add_row(names.get(v, v), _rate_ci(result.flip_rate[v], result.flip_rate_ci[v]),
                      _rate_ci(result.flip_vs_recon[v], result.flip_vs_recon_ci[v]),
                      _rate_ci(result.to_target[v], result.to_target_ci[v]))
    return table


def counterfactual_legend(result: CounterfactualResult) -> str:
    """What each column of :func:`counterfactual_table` means, in one paragraph."""
    c = result.condition
    return (f"Columns: label changed vs original = share of outputs whose {c} label, as "
            f"the classifier reads it, differs from the original image's; vs recon = differs "
            f"from the reconstruction's (removes what reconstruction alone changes); read as "
            f"requested = share read as the {c} label the decoder was given (the image's own "
            f"label for reconstruction and encoder flip, the flipped one for the decoder "
            f"flips). A good decoder flip scores high on all three; the encoder flip (encoder "
            f"given the flipped label, decoder the true one) should stay near the "
            f"reconstruction. Brackets: Wilson 95% CIs.")


def counterfactual_direction_line(result: CounterfactualResult) -> str | None:
    """The decoder flip's 'read as requested' per direction of the flip, or ``None``."""
    by_dir = result.to_target_by_direction.get("decoder_flip", {})
    if not by_dir:
        return None
    return "decoder flip read as requested, by direction: " + "; ".join(
        f"{_direction_words(result, d)} {fmt_num(r)} {fmt_ci(lo, hi)}"
        for d, (r, lo, hi) in by_dir.items()) + "."


def _direction_words(result: CounterfactualResult, direction: str) -> str:
    """``"Male 0→1"`` -> ``"Male 0→1 (Female → Male, n=30)"``."""
    frm, _, to = direction.rsplit(" ", 1)[-1].partition("→")
    c = result.condition
    n = result.direction_n.get(direction)
    size = f", n={n}" if n is not None else ""
    return f"{direction} ({value_words(c, frm)} → {value_words(c, to)}{size})"


def counterfactual_shift_tables(result: CounterfactualResult, top: int = 5) -> list[Table]:
    """Per direction of the flip, a small table of the ``top`` other attributes whose
    classifier logit changes most between the decoder flip and the reconstruction (mean
    change, paired-bootstrap 95% CI, change of the share labelled 1); names never cut."""
    tables = []
    for direction, rows in result.shifts.items():
        shown = sorted(rows, key=lambda s: -abs(s.logit_shift))[:top]
        title = (f"What else changes, {_direction_words(result, direction)}:\n"
                 f"decoder flip − reconstruction, top {len(shown)} by |logit change|")
        table = Table(title=title)
        name_column(table, "attribute", [s.name for s in shown])
        for col in ("logit change", "95% CI", "change of share\nlabelled 1"):
            table.add_column(col, justify="right")
        for s in shown:
            table.add_row(s.name, fmt_num(s.logit_shift, 2, signed=True),
                          fmt_ci(s.ci_low, s.ci_high, 2, signed=True),
                          fmt_num(s.prevalence_shift, 3, signed=True))
        tables.append(table)
    return tables


def plot_ratio_sweep(result: RatioSweepResult) -> Figure:
    """Generated Male share against the training share, with CIs and the identity line."""
    fig = Figure(figsize=(5, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = np.array([r.data_share for r in result.rows])
    y = np.array([r.generated_share for r in result.rows])
    lo = np.array([r.generated_ci[0] for r in result.rows])
    hi = np.array([r.generated_ci[1] for r in result.rows])
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="identity (no amplification)")
    ax.errorbar(x, y, yerr=_err(y, lo, hi), fmt="o-", color=_GEN, capsize=3,
                label=f"generated ({result.model})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"training share of {result.attribute}")
    ax.set_ylabel(f"generated share of {result.attribute}" +
                  (" (corrected)" if result.corrected else ""))
    ax.set_title("Training-ratio sweep")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
