"""Fairness page: per-group metrics of the attribute classifier on the test split."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.context import AppContext

__all__ = ["render"]


@st.cache_resource(show_spinner="classifying the test split…", max_entries=4)
def _logits(_ctx: AppContext, _cache: Any, clf_key: str, data_key: str) -> tuple:
    from biaslens.tensors import predict_logits

    del clf_key, data_key
    view = _cache.subset("test")
    if len(view) == 0:
        view = _cache.subset(None)
    return view.indices, predict_logits(_ctx.model("classifier"), view.images, batch_size=256)


def render(ctx: AppContext) -> None:
    """Draw the fairness page."""
    from biaslens.audit.fairness import fairness_report
    from biaslens.errors import BiasLensError
    from biaslens.report.plots_fairness import plot_fairness

    st.header("Fairness of the attribute classifier")
    st.write("Per-group selection rate, TPR, FPR and accuracy of the attribute classifier "
             "on the test split (95% bootstrap CIs); differences 0 and ratios 1 are fair.")
    cache = ctx.cache()
    clf = ctx.model("classifier")
    size = getattr(clf, "image_size", None)
    if isinstance(size, int) and (size, size) != tuple(cache.images.shape[1:3]):
        raise BiasLensError(f"the classifier works on {size}×{size} images but the cache holds "
                            f"{cache.images.shape[1]}×{cache.images.shape[2]}")
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
    rows, logits = _logits(ctx, cache, ctx.model_key("classifier"), cache.content_hash)
    sens = {}
    for p in protected:
        if p in cache.group_names:
            sens[p] = np.asarray(cache.groups[rows, cache.group_names.index(p)])
        else:
            sens[p] = np.asarray(cache.attrs[rows, names.index(p)]).astype(int)
    y_true = np.asarray(cache.attrs[rows, names.index(target)])
    score = 1 / (1 + np.exp(-logits[:, clf_names.index(target)].astype(np.float64)))
    rep = fairness_report(y_true, score > 0.5, sensitive_features=sens, y_score=score,
                          n_boot=300, seed=0)
    with tempfile.TemporaryDirectory(prefix="biaslens-app-") as tmp:
        st.image(plot_fairness(rep, Path(tmp) / "fairness.png").read_bytes())
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
