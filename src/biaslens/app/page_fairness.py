"""Fairness page: per-group metrics of the attribute classifier on the test split."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from biaslens.app.context import AppContext

__all__ = ["render"]


@st.cache_resource(show_spinner="classifying the test split…", max_entries=4)
def _logits(_ctx: AppContext, _cache: Any, clf_key: str, data_key: str) -> tuple:
    from biaslens.pipelines.fairness import fairness_logits

    del clf_key, data_key
    return fairness_logits(_ctx.model("classifier"), _cache, batch_size=256,
                           precision="auto")


def render(ctx: AppContext) -> None:
    """Draw the fairness page."""
    from biaslens.pipelines.fairness import cache_fairness, check_image_size
    from biaslens.report.plots_fairness import fairness_png

    st.header("Fairness of the attribute classifier")
    st.write("Per-group selection rate, TPR, FPR and accuracy of the attribute classifier "
             "on the test split (95% bootstrap CIs); differences 0 and ratios 1 are fair.")
    cache = ctx.cache()
    clf = ctx.model("classifier")
    check_image_size(clf, cache, "classifier")
    names = list(cache.attribute_names)
    clf_names = list(clf.attribute_names)
    targets = [a for a in names if a in clf_names]
    c1, c2 = st.columns(2)
    target = c1.selectbox("classifier output", targets,
                          index=targets.index("Smiling") if "Smiling" in targets else 0,
                          key="fair_target")
    choices = [a for a in names if a != target] + list(cache.group_names)
    protected = c2.multiselect("protected attributes", choices,
                               default=[g for g in ("Male",) if g in choices] or choices[:1],
                               max_selections=3, key="fair_protected")
    if not protected:
        st.info("Choose at least one protected attribute.")
        return
    logits = _logits(ctx, cache, ctx.model_key("classifier"), cache.content_hash)
    [(_, rep)] = cache_fairness(clf, cache, [target], protected, n_boot=300, seed=0,
                                logits=logits)
    st.image(fairness_png(rep))
    rates = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
    st.dataframe(pd.DataFrame([{"group": g, "n": rep.counts[i],
                                **{m: rep.by_group[m][i] for m in rates}}
                               for i, g in enumerate(rep.groups)]), hide_index=True)
    st.subheader("Disparities")
    disp = rep.disparities["between_groups"]
    st.dataframe(pd.DataFrame([{"metric": k, "value": v["value"], "CI low": v["ci"][0],
                                "CI high": v["ci"][1]} for k, v in disp.items()]),
                 hide_index=True)
    for note in rep.notes:
        st.caption(note)
