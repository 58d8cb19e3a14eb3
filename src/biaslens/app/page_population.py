"""Population page: generated vs training prevalence per attribute and group."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from biaslens.app.common import MAX_POPULATION
from biaslens.app.context import AppContext

__all__ = ["render"]


@st.cache_resource(show_spinner="generating and classifying faces…", max_entries=4)
def _population(_ctx: AppContext, _cache: Any, gen_key: str, clf_key: str, data_key: str,
                n: int, groups: tuple[str, ...], seed: int, associations: bool = False):
    from biaslens.pipelines.population import population_on_cache

    del gen_key, clf_key, data_key
    # the training split (all rows without one), uncorrected, 1,000 of its faces as the
    # association reference
    return population_on_cache(_ctx.model("generator"), _ctx.model("classifier"), _cache,
                               split=None, correct=False,
                               associations="auto" if associations else "none",
                               reference_n=1000, reference_seed=seed,
                               reference_name="training faces of the app's data", n=n,
                               groups=list(groups), seed=seed, n_boot=300,
                               batch_size=256).result


def render(ctx: AppContext) -> None:
    """Draw the population page."""
    from biaslens.report.figures import fig_to_png
    from biaslens.report.plots_generators import plot_population

    st.header("Population")
    st.write("Does the generator reproduce the mix of its training data? Faces are "
             "generated, labelled by the classifier, and compared with the training labels "
             "(Wilson CIs; amplification > 0 = pushed further toward the data's majority).")
    cache = ctx.cache()
    clf = ctx.model("classifier")
    ctx.model("generator")
    common = [a for a in cache.attribute_names if a in list(clf.attribute_names)]
    c1, c2 = st.columns(2)
    n = c1.slider("generated faces", 64, MAX_POPULATION, 512, 64, key="pop_n")
    seed = c1.number_input("seed", 0, 2**31 - 1, 0, key="pop_seed")
    groups = c2.multiselect("groups of", common,
                            default=[g for g in ("Male",) if g in common] or common[:1],
                            max_selections=3, key="pop_groups")
    assoc = c2.checkbox("compare associations with the training faces", value=True,
                        key="pop_assoc",
                        help="Slope of every attribute's logit on the first group "
                             "attribute's, across generated vs real training faces (same "
                             "classifier): which associations the generator added or lost.")
    if not groups:
        st.info("Choose at least one attribute to form groups.")
        return
    res = _population(ctx, cache, ctx.model_key("generator"), ctx.model_key("classifier"),
                      cache.content_hash, int(n), tuple(groups), int(seed), bool(assoc))
    st.image(fig_to_png(plot_population(res), dpi=80))
    st.caption(res.correction_note)
    st.subheader("Per attribute")
    st.dataframe(pd.DataFrame([{
        "attribute": res.attribute_names[j], "generated": res.generated[j],
        "data": res.data[j], "difference": res.difference[j],
        "CI low": res.difference_ci[0][j], "CI high": res.difference_ci[1][j],
        "ratio": res.ratio[j], "amplification": res.amplification[j]}
        for j in res.ranked_amplification()]), hide_index=True)
    st.subheader("Per group")
    st.dataframe(pd.DataFrame({"group": res.group_labels, "data share": res.group_share_data,
                               "generated share": res.group_share_generated,
                               "CI low": res.group_share_ci[0],
                               "CI high": res.group_share_ci[1]}), hide_index=True)
    d = res.discrepancy
    st.caption(f"Fairness discrepancy (L2): to the data {d['l2_to_data']:.3f}, to uniform "
               f"{d['l2_to_uniform']:.3f}.")
    dc = res.associations
    if dc is not None:
        st.subheader(f"Associations with {res.association_target}")
        st.dataframe(pd.DataFrame([{
            "attribute": res.attribute_names[j], "generated slope": dc.path_slope[j],
            "data slope": dc.data_slope[j], "excess": dc.excess[j],
            "CI low": dc.excess_ci_low[j], "CI high": dc.excess_ci_high[j],
            "q-value": dc.q_values[j], "beyond data": dc.verdict(j)}
            for j in res.ranked_associations()]), hide_index=True)
        st.caption(f"Slope: logit change per unit of {res.association_target} logit, across "
                   f"{res.n_generated} generated vs {dc.n_reference} training faces; beyond "
                   f"data = excess significant at FDR {dc.fdr:g} "
                   f"({int(dc.beyond_data.sum())} attributes).")
