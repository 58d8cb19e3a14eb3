"""Fairness page: per-group metrics of the attribute classifier on the test split."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.common import MIN_POSITIVES, group_words
from biaslens.app.context import AppContext, full_table
from biaslens.report.tables import fmt_ci

__all__ = ["render"]


@st.cache_resource(show_spinner="classifying the test split…", max_entries=4)
def _logits(_ctx: AppContext, _cache: Any, clf_key: str, data_key: str) -> tuple:
    from biaslens.pipelines.fairness import fairness_logits

    del clf_key, data_key
    return fairness_logits(_ctx.model("classifier"), _cache, batch_size=256,
                           precision="auto")


def _positives(cache: Any, rows: np.ndarray, target: str, protected: list[str],
               labels: list[str]) -> list[int]:
    """True positives of ``target`` per group of ``protected`` on ``rows``, in the order of
    the report's group ``labels``."""
    from biaslens.audit.frame import encode_groups
    from biaslens.pipelines.fairness import sensitive_columns

    enc = encode_groups(sensitive_columns(cache, protected, rows))
    y = np.asarray(cache.attrs[rows, list(cache.attribute_names).index(target)], dtype=float)
    pos = np.bincount(enc.codes, weights=y, minlength=len(enc.labels)).astype(int)
    by_label = dict(zip(enc.labels, pos.tolist()))
    return [by_label.get(g, 0) for g in labels]


def render(ctx: AppContext) -> None:
    """Draw the fairness page."""
    from biaslens.pipelines.fairness import cache_fairness, check_image_size
    from biaslens.report.plots_fairness import fairness_png

    st.header("Fairness of the attribute classifier")
    st.write("Per-group selection rate, true and false positive rate (TPR, FPR) and accuracy "
             "of the attribute classifier on the test split, with 95% CIs (Wilson per group, or "
             "a bootstrap over identities where the data has them; bootstrap for the "
             "differences); "
             "differences 0 and ratios 1 are fair.")
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
    words = [group_words(g) for g in rep.groups]
    st.image(fairness_png(dataclasses.replace(rep, groups=words)), width="content")
    positives = _positives(cache, logits[0], target, protected, rep.groups)
    few = [f"{w} ({k})" for w, k in zip(words, positives) if k < MIN_POSITIVES]
    if few:
        st.warning(f"Fewer than {MIN_POSITIVES} faces with {target} in: " + ", ".join(few)
                   + ". Their TPR, and the equalized-odds and equal-opportunity numbers, rest "
                   "on that few faces; read them with their (wide) CIs.")
    rates = {"selection_rate": "selection rate", "true_positive_rate": "TPR",
             "false_positive_rate": "FPR", "accuracy": "accuracy"}
    rows = []
    for i, g in enumerate(words):
        row: dict[str, Any] = {"group": g, "faces": rep.counts[i], f"with {target}": positives[i]}
        for m, label in rates.items():
            row[label] = round(rep.by_group[m][i], 3)
            row[f"{label} 95% CI"] = fmt_ci(rep.by_group_ci[m][0][i], rep.by_group_ci[m][1][i])
        rows.append(row)
    full_table(pd.DataFrame(rows))
    st.subheader("Disparities")
    disp = rep.disparities["between_groups"]
    full_table(pd.DataFrame([{"metric": k.replace("_", " "), "value": round(v["value"], 3),
                              "95% CI": fmt_ci(*v["ci"])} for k, v in disp.items()]))
    st.caption("Differences: largest minus smallest group value (0 = fair); ratios: smallest "
               "over largest (1 = fair); fairlearn's definitions.")
    ram = rep.ramaswamy
    if ram is not None:
        st.subheader("Ramaswamy et al. metrics")
        full_table(pd.DataFrame([
            {"metric": "AP (average precision, ×100)", "median": round(ram.ap, 2),
             "± 2·std": round(ram.ap_pm, 2)},
            {"metric": "DEO (difference in equal opportunity, ×100)",
             "median": round(ram.deo, 2), "± 2·std": round(ram.deo_pm, 2)},
            {"metric": "BA (bias amplification, ×100)", "median": round(ram.ba, 2),
             "± 2·std": round(ram.ba_pm, 2)},
            {"metric": "KL (divergence of the groups' score distributions)",
             "median": round(ram.kl, 3), "± 2·std": round(ram.kl_pm, 3)}]))
        st.caption(f"As in Ramaswamy, Kim & Russakovsky (CVPR 2021): the median over "
                   f"{ram.n_boot} bootstrap resamples, ± twice their standard deviation; the "
                   f"protected group is {words[1]} (vs {words[0]}). AP higher is better; DEO, "
                   "BA and KL: 0 is fair.")
    else:
        st.caption("The Ramaswamy et al. metrics (AP, DEO, BA, KL) compare exactly two groups; "
                   f"these are {len(words)}.")
