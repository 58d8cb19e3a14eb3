"""Per-group bar chart of a fairness report (matplotlib Agg): a PNG file or PNG bytes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from biaslens.audit.fairness import FairnessReport  # noqa: E402
from biaslens.report.figures import fig_to_png, save_figure  # noqa: E402

__all__ = ["fairness_figure", "fairness_png", "plot_fairness"]

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")


def fairness_figure(report: FairnessReport) -> plt.Figure:
    """Grouped bars (one group of bars per rate, one bar per group) with CI whiskers.

    The dashed line on each rate is the overall value, so a gap to it is visible at once.
    A pyplot figure: :func:`plot_fairness` and :func:`fairness_png` close it.
    """
    G = len(report.groups)
    width = 0.8 / G
    x = np.arange(len(_RATES))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(_RATES) + 0.3 * G * len(_RATES)), 4))
    for i, group in enumerate(report.groups):
        vals = np.array([report.by_group[m][i] for m in _RATES], dtype=float)
        lo = np.array([report.by_group_ci[m][0][i] for m in _RATES], dtype=float)
        hi = np.array([report.by_group_ci[m][1][i] for m in _RATES], dtype=float)
        err = None
        if report.n_boot and not np.isnan(lo).all():
            err = np.nan_to_num(np.stack([vals - lo, hi - vals]).clip(min=0))
        ax.bar(x - 0.4 + width * (i + 0.5), np.nan_to_num(vals), width, yerr=err, capsize=2,
               label=f"{group} (n={report.counts[i]})")
    for j, m in enumerate(_RATES):
        ax.hlines(report.overall[m], j - 0.4, j + 0.4, colors="k", linestyles="dashed", lw=1)
    ax.set_xticks(x, [m.replace("_", " ") for m in _RATES])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate")
    dp = report.disparities["between_groups"]
    ax.set_title(f"DP diff {dp['demographic_parity_difference']['value']:.3f} · "
                 f"EO diff {dp['equalized_odds_difference']['value']:.3f} · "
                 f"EOpp diff {dp['equal_opportunity_difference']['value']:.3f}")
    ax.legend(fontsize="small", ncol=min(G, 4), loc="upper center",
              bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    return fig


def plot_fairness(report: FairnessReport, path: str | Path) -> Path:
    """Write :func:`fairness_figure` to ``path`` (PNG, atomically)."""
    return save_figure(fairness_figure(report), path, dpi=110)


def fairness_png(report: FairnessReport) -> bytes:
    """:func:`fairness_figure` as PNG bytes, exactly as :func:`plot_fairness` writes it."""
    return fig_to_png(fairness_figure(report), dpi=110, tight=True)
