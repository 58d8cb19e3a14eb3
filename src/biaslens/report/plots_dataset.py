"""Pictures of the dataset statistics: prevalence bars and the phi heat map.

Rendering only: each function takes a :class:`biaslens.audit.dataset.DatasetStats` (or
plain arrays) and returns a matplotlib ``Figure`` (Agg, no pyplot state).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from biaslens.audit.dataset import DatasetStats

__all__ = ["plot_correlation_heatmap", "plot_prevalence"]


def plot_correlation_heatmap(phi: np.ndarray, names: Sequence[str], *,
                             title: str = "Attribute correlation (phi)") -> Figure:
    """Heat map of an ``(A, A)`` phi matrix; undefined (constant) entries are grey."""
    a = len(names)
    fig = Figure(figsize=(3 + 0.22 * a, 2.5 + 0.2 * a))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    m = np.ma.masked_invalid(np.asarray(phi, dtype=float))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_facecolor("#cccccc")
    ax.set_xticks(np.arange(a), names, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(a), names, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="phi")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_prevalence(stats: DatasetStats) -> Figure:
    """Horizontal bars of attribute prevalence with Wilson CIs (most common on top)."""
    order = np.argsort(-np.asarray(stats.prevalence, dtype=float), kind="stable")[::-1]
    p = np.asarray(stats.prevalence, dtype=float)[order]
    lo = np.asarray(stats.prevalence_lo, dtype=float)[order]
    hi = np.asarray(stats.prevalence_hi, dtype=float)[order]
    fig = Figure(figsize=(6, 1 + 0.2 * len(order)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(order))
    err = np.clip(np.nan_to_num(np.vstack([p - lo, hi - p])), 0, None)
    ax.barh(y, p, color="#2c6fbb", xerr=err, error_kw={"lw": 1, "capsize": 2})
    ax.set_yticks(y, [stats.attribute_names[j] for j in order], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"prevalence ({100 * stats.level:g}% Wilson CI), N = {stats.n:,}")
    ax.set_title("Attribute prevalence")
    fig.tight_layout()
    return fig
