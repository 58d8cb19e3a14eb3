"""Dataset page: prevalence, correlation heat map, intersectional groups, world truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.context import AppContext

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
    """Prevalence bars and phi heat map (they depend on the data only, not the widgets)."""
    from biaslens.report.figures import fig_to_png
    from biaslens.report.plots_dataset import plot_correlation_heatmap, plot_prevalence

    del key
    return (fig_to_png(plot_prevalence(_stats)),
            fig_to_png(plot_correlation_heatmap(_stats.phi, _stats.attribute_names)))


def world_name(cache: Any) -> str | None:
    """The preset name of the synthetic world a cache was rendered from, if any."""
    source = cache.manifest.get("source") or {}
    if source.get("kind") != "synthetic-world":
        return None
    name = (source.get("world") or {}).get("name")
    return name if isinstance(name, str) else None


def render(ctx: AppContext) -> None:
    """Draw the dataset page."""
    cache = ctx.cache()
    names = list(cache.attribute_names)
    st.header("Dataset")
    st.write(f"{len(cache):,} rows × {len(names)} attributes from `{cache.path}`.")
    c1, c2 = st.columns(2)
    target = c1.selectbox("target (correlations with)", names,
                          index=names.index("Male") if "Male" in names else 0, key="ds_target")
    choices = names + [g for g in cache.group_names if g not in names]
    default = [g for g in ("Male", "skin_type") if g in choices]
    groups = c2.multiselect("intersectional groups of", choices, default=default,
                            max_selections=4, key="ds_groups")
    stats = _stats(cache, cache.content_hash, target, tuple(groups))
    prevalence_png, heatmap_png = _figures(stats, cache.content_hash)

    st.subheader("Prevalence")
    st.image(prevalence_png)
    st.subheader("Correlation heat map (phi)")
    st.image(heatmap_png)
    st.subheader(f"Most correlated with {target}")
    st.dataframe(pd.DataFrame([{"attribute": c.name, "phi": c.phi, "CI low": c.ci_lo,
                                "CI high": c.ci_hi, f"P(·|{target})": c.p_given_target,
                                "P(·|not)": c.p_given_not} for c in stats.top]),
                 hide_index=True)
    if stats.groups:
        st.subheader("Intersectional group sizes")
        st.dataframe(pd.DataFrame([{**g.values, "count": g.count, "share": g.share,
                                    "CI low": g.ci_lo, "CI high": g.ci_hi, "small": g.small}
                                   for g in stats.groups]), hide_index=True)
        if stats.small_groups:
            st.warning(f"{len(stats.small_groups)} group(s) have fewer than "
                       f"{stats.min_group} rows: "
                       + "; ".join(g.label for g in stats.small_groups))
    world = world_name(cache)
    if world is not None:
        st.subheader(f"Ground truth of the synthetic world '{world}'")
        truth = _truth(world, target)
        measured = {c.name: c.phi for c in stats.top}
        rows = [{"attribute": truth.names[i], f"P(·|{target})": truth.p_given_target[i],
                 "P(·|not)": truth.p_given_not_target[i], "true phi": truth.phi[i],
                 "measured phi": measured.get(truth.names[i])}
                for i in np.argsort(-np.abs(np.nan_to_num(truth.phi)))
                if i != truth.index][:10]
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption("The world is known, so measured correlations can be checked against "
                   f"the truth (Monte Carlo over {truth.n_samples:,} draws).")
