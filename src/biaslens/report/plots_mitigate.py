"""Plots of the mitigations: per-group face detection (DB-VAE lab's bar chart) and the
baseline-vs-augmented fairness metrics of latent augmentation (matplotlib Agg, atomic PNG)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from biaslens.report.figures import save_figure  # noqa: E402

__all__ = ["plot_group_detection", "plot_latent_aug"]


def _save(fig: Any, path: str | Path) -> Path:
    return save_figure(fig, path, dpi=110)


def plot_group_detection(evaluation: Mapping[str, Any], path: str | Path,
                         groups: list[str] | None = None) -> Path:
    """Mean face probability per group, one bar per detector, bootstrap-CI whiskers.

    ``evaluation`` is ``DetectionComparison.to_dict()`` (the ``evaluation`` entry of
    ``dbvae_eval.json``); the title carries each detector's best−worst gap.
    """
    dets = evaluation["detectors"]
    names = list(dets)
    groups = groups or list(next(iter(dets.values()))["by_group"])
    x = np.arange(len(groups))
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(1.6 * len(groups) + 2.5, 4))
    for i, k in enumerate(names):
        by = dets[k]["by_group"]
        v = np.array([by[g]["mean_prob"] for g in groups])
        lo = np.array([by[g]["mean_prob_ci"][0] for g in groups])
        hi = np.array([by[g]["mean_prob_ci"][1] for g in groups])
        err = np.nan_to_num(np.stack([v - lo, hi - v]).clip(min=0))
        ax.bar(x - 0.4 + width * (i + 0.5), v, width, yerr=err, capsize=3,
               label=f"{k} (gap {dets[k]['gap_prob']:.3f})")
    ax.set_xticks(x, groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean face probability")
    ax.set_title("Face detection on balanced test faces (skin type × gender)")
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


_METRICS = (("ap", "AP ×100"), ("deo", "DEO ×100"), ("ba", "BA ×100"), ("kl", "KL"))


def plot_latent_aug(reports: Mapping[str, Mapping[str, Any]], path: str | Path,
                    title: str = "") -> Path:
    """Baseline vs augmented: one panel per metric (AP, DEO, BA, KL), median ± 2·std.

    ``reports`` maps a model name (``baseline``, ``augmented``) to
    ``RamaswamyReport.to_dict()``.
    """
    names = list(reports)
    fig, axes = plt.subplots(1, len(_METRICS), figsize=(3.0 * len(_METRICS), 3.4))
    for ax, (key, label) in zip(axes, _METRICS):
        v = [reports[k][key] for k in names]
        e = [reports[k][f"{key}_pm"] for k in names]
        ax.bar(np.arange(len(names)), np.nan_to_num(v), yerr=np.nan_to_num(e), capsize=4,
               color=["tab:gray", "tab:blue", "tab:orange", "tab:green"][:len(names)])
        ax.set_xticks(np.arange(len(names)), names, rotation=15)
        ax.set_title(label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
