"""Dataset page: prevalence, correlation heat map, intersectional groups, world truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.common import cluster_order, source_words, upscale, value_word
from biaslens.app.context import AppContext, full_table
from biaslens.report.tables import fmt_ci

__all__ = ["render"]


@st.cache_resource(show_spinner="computing statistics…", max_entries=8)
def _stats(_cache: Any, key: str, target: str, groups: tuple[str, ...]):
    from biaslens.pipelines.dataset import cache_stats

    del key
    return cache_stats(_cache, target=target, groups=list(groups), n_boot=300, seed=0)


@st.cache_resource(max_entries=2)
def _world(world_name: str):
    """One World per preset: it keeps its 400k-draw truth sample for every target."""
    from biaslens.world import World

    return World.preset(world_name)


@st.cache_resource(show_spinner="sampling the world's truth (once per world)…", max_entries=8)
def _truth(world_name: str, target: str):
    return _world(world_name).truth(target)


@st.cache_resource(show_spinner="drawing…", max_entries=4)
def _figures(_stats: Any, key: str) -> tuple[bytes, bytes]:
    """Prevalence bars and phi heat map (they depend on the data only, not the widgets).
    The heat map's rows and columns are in clustering order, so blocks of related
    attributes show; tick labels are enlarged for reading at the page's width."""
    from biaslens.report.figures import fig_to_png
    from biaslens.report.plots_dataset import plot_correlation_heatmap, plot_prevalence

    del key
    order = cluster_order(_stats.phi)
    names = [_stats.attribute_names[i] for i in order]
    prevalence = plot_prevalence(_stats)
    prevalence.axes[0].tick_params(axis="y", labelsize=9)
    heatmap = plot_correlation_heatmap(
        _stats.phi[np.ix_(order, order)], names,
        title="Attribute correlation (phi), related attributes clustered together")
    heatmap.axes[0].tick_params(labelsize=9)
    return (fig_to_png(prevalence, tight=True), fig_to_png(heatmap, dpi=110, tight=True))


def world_name(cache: Any) -> str | None:
    """The preset name of the synthetic world a cache was rendered from, if any."""
    source = cache.manifest.get("source") or {}
    if source.get("kind") != "synthetic-world":
        return None
    name = (source.get("world") or {}).get("name")
    return name if isinstance(name, str) else None


def _faces(cache: Any, n: int = 24, per_row: int = 12) -> np.ndarray:
    """The first ``n`` faces of the data set as one upscaled grid."""
    from biaslens.report.plots_steer import make_grid

    n = min(n, len(cache))
    rows = max(1, -(-n // per_row))
    imgs = np.asarray(cache.images[:n])
    pad = np.full((rows * per_row - n,) + imgs.shape[1:], 255, np.uint8)
    tiles = np.concatenate([imgs, pad]).reshape((rows, per_row) + imgs.shape[1:])
    return upscale(make_grid(tiles, pad=2), 2)


def render(ctx: AppContext) -> None:
    """Draw the dataset page."""
    cache = ctx.cache()
    names = list(cache.attribute_names)
    st.header("Dataset")
    st.write(f"**{source_words(cache, ctx.cache_path)}**, {len(names)} attributes each.")
    st.image(_faces(cache), width="stretch",
             caption=f"the first {min(24, len(cache))} faces of the data set")
    c1, c2 = st.columns(2)
    target = c1.selectbox("target (correlations with)", names,
                          index=names.index("Male") if "Male" in names else 0, key="ds_target")
    choices = names + [g for g in cache.group_names if g not in names]
    default = [g for g in ("Male", "skin_type") if g in choices]
    groups = c2.multiselect("intersectional groups of", choices, default=default,
                            max_selections=4, key="ds_groups",
                            help="skin_type: 0 = lighter, 1 = darker skin (synthetic world)")
    stats = _stats(cache, cache.content_hash, target, tuple(groups))
    prevalence_png, heatmap_png = _figures(stats, cache.content_hash)

    st.subheader("Prevalence")
    st.image(prevalence_png, width="content")
    st.subheader("Correlation heat map (phi)")
    st.image(heatmap_png, width="stretch")
    st.subheader(f"Most correlated with {target}")
    full_table(pd.DataFrame([{"attribute": c.name, "phi": round(c.phi, 3),
                              "95% CI": fmt_ci(c.ci_lo, c.ci_hi),
                              f"P(attribute | {target})": round(c.p_given_target, 3),
                              f"P(attribute | not {target})": round(c.p_given_not, 3)}
                             for c in stats.top]))
    if stats.groups:
        st.subheader("Intersectional group sizes")
        full_table(pd.DataFrame([{
            "group": ", ".join(value_word(k, v) for k, v in g.values.items()),
            "faces": g.count, "share": round(g.share, 3), "95% CI": fmt_ci(g.ci_lo, g.ci_hi),
            "small": g.small} for g in stats.groups]))
        st.caption(f"small = fewer than {stats.min_group} faces"
                   + (f" or a share below {stats.min_share:.1%}" if stats.min_share else "")
                   + ": numbers measured on such a group are unreliable.")
        if stats.small_groups:
            st.warning(f"{len(stats.small_groups)} group(s) have fewer than "
                       f"{stats.min_group} faces: " + "; ".join(
                           ", ".join(value_word(k, v) for k, v in g.values.items())
                           for g in stats.small_groups))
    world = world_name(cache)
    if world is not None:
        st.subheader(f"Ground truth of the synthetic world '{world}'")
        truth = _truth(world, target)
        measured = {c.name: c.phi for c in stats.top}
        rows = [{"attribute": truth.names[i],
                 f"P(attribute | {target})": round(float(truth.p_given_target[i]), 3),
                 f"P(attribute | not {target})": round(float(truth.p_given_not_target[i]), 3),
                 "true phi": round(float(truth.phi[i]), 3),
                 "measured phi": (round(measured[truth.names[i]], 3)
                                  if truth.names[i] in measured else None)}
                for i in np.argsort(-np.abs(np.nan_to_num(truth.phi)))
                if i != truth.index][:10]
        full_table(pd.DataFrame(rows))
        st.caption("The world is known, so measured correlations can be checked against "
                   f"the truth (Monte Carlo over {truth.n_samples:,} draws); measured phi is "
                   "shown for the attributes in the table above.")
