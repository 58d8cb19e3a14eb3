"""Population page: generated vs training prevalence per attribute and group, and the
independent judges' raw and judge-error-corrected shares (as in the report)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.common import MAX_POPULATION, association_word, group_words, upscale
from biaslens.app.context import AppContext, full_table
from biaslens.report.tables import fmt_ci, fmt_p
from biaslens.report.words import REVERSED_WORDS, plural

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


@st.cache_resource(show_spinner="judging the generated faces…", max_entries=4)
def _judges(_ctx: AppContext, _cache: Any, gen_key: str, data_key: str,
            judges: tuple[str, ...], n: int, seed: int) -> list[dict[str, Any]]:
    """The report's judge blocks (raw and, where the data calibrates them, corrected
    shares) of the same ``n`` seeded faces."""
    from biaslens.pipelines.judges import judge_blocks

    del gen_key, data_key
    return judge_blocks(_ctx.model("generator"), _cache, judges, n=n, seed=seed, n_boot=300)


def _judge_choice(column: Any) -> list[str]:
    """The judges to run: those that load here; the default is the report's."""
    from biaslens.models.judges import list_judges
    from biaslens.pipelines.report import ReportOptions

    names = [r["judge"] for r in list_judges() if r["available"]]
    return column.multiselect(
        "independent judges", names, default=[j for j in ReportOptions().judges if j in names],
        key="pop_judges",
        help="Label the generated faces with a judge other than the classifier, and "
             "correct its shares for its own errors where the data has the true labels.")


@st.cache_resource(show_spinner="generating faces…", max_entries=4)
def _faces(_generator: Any, gen_key: str, seed: int, n: int = 16) -> np.ndarray:
    """``n`` faces of the generator (seeded) as one grid: what it makes, at a glance."""
    from biaslens.report.plots_steer import make_grid
    from biaslens.tensors import generate_images, to_uint8_numpy

    del gen_key
    out: list[np.ndarray] = []
    generate_images(_generator, n, seed=seed, batch_size=n,
                    consumer=lambda x, rows: out.append(to_uint8_numpy(x)))
    imgs = np.concatenate(out)
    per_row = 8
    return upscale(make_grid(imgs.reshape((-1, per_row) + imgs.shape[1:]), pad=2), 2)


def render(ctx: AppContext) -> None:
    """Draw the population page."""
    from biaslens.report.figures import fig_to_png
    from biaslens.report.plots_generators import plot_population

    st.header("Population")
    st.write("Does the generator reproduce the mix of its training data? Faces are "
             "generated, labelled by the classifier, and compared with the training labels "
             "(95% Wilson CIs).")
    cache = ctx.cache()
    clf = ctx.model("classifier")
    gen = ctx.model("generator")
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
    judges = _judge_choice(c2)
    st.image(_faces(gen, ctx.model_key("generator"), int(seed)), width="stretch",
             caption=f"16 faces of the generator (seed {int(seed)})")
    if not groups:
        st.info("Choose at least one attribute to form groups.")
        return
    res = _population(ctx, cache, ctx.model_key("generator"), ctx.model_key("classifier"),
                      cache.content_hash, int(n), tuple(groups), int(seed), bool(assoc))
    words = [group_words(g) for g in res.group_labels]
    fig = plot_population(dataclasses.replace(res, group_labels=words))
    d = res.discrepancy
    fig.axes[-1].set_title(f"Group shares (distance to the data {d['l2_to_data']:.3f}, "
                           f"to equal shares {d['l2_to_uniform']:.3f})")
    st.image(fig_to_png(fig, dpi=80, tight=True), width="stretch")
    if res.corrected:
        st.caption("Generated prevalences are corrected for the classifier's own error rates.")
    else:
        st.caption("Generated prevalences are the classifier's labels of the generated faces, "
                   "not corrected for the classifier's own errors (its error rates were not "
                   "given).")
    st.subheader("Per attribute")
    full_table(pd.DataFrame([{
        "attribute": res.attribute_names[j], "generated": round(res.generated[j], 3),
        "data": round(res.data[j], 3), "difference": round(res.difference[j], 3),
        "95% CI": fmt_ci(res.difference_ci[0][j], res.difference_ci[1][j]),
        "ratio": round(res.ratio[j], 3), "amplification": round(res.amplification[j], 3)}
        for j in res.ranked_amplification()]))
    st.caption("difference = generated − data. amplification > 0: the generator pushes the "
               "attribute further toward the data's majority (a rare attribute rarer, a "
               "common one commoner); < 0: toward 50 %. Largest |amplification| first.")
    st.subheader("Per group")
    full_table(pd.DataFrame({
        "group": words, "data share": np.round(res.group_share_data, 3),
        "generated share": np.round(res.group_share_generated, 3),
        "95% CI": [fmt_ci(lo, hi) for lo, hi in zip(*res.group_share_ci)]}))
    st.caption(f"Fairness discrepancy (L2 distance of the generated group shares): to the "
               f"data's shares {d['l2_to_data']:.3f}, to equal shares "
               f"{d['l2_to_uniform']:.3f} (0 = identical).")
    dc = res.associations
    if dc is not None:
        st.subheader(f"Associations with {res.association_target}")
        full_table(pd.DataFrame([{
            "attribute": res.attribute_names[j],
            "generated slope": round(float(dc.path_slope[j]), 3),
            "data slope": round(float(dc.data_slope[j]), 3),
            "excess": round(float(dc.excess[j]), 3),
            "95% CI": fmt_ci(dc.excess_ci_low[j], dc.excess_ci_high[j]),
            "q-value": fmt_p(dc.q_values[j]),
            "beyond data": association_word(float(dc.path_slope[j]), float(dc.data_slope[j]),
                                            dc.verdict(j))}
            for j in res.ranked_associations()]))
        st.caption(f"Slope: logit change per unit of {res.association_target} logit, across "
                   f"{res.n_generated:,} generated vs {dc.n_reference:,} training faces (same "
                   f"classifier). Beyond data: the excess is significant at FDR {dc.fdr:g} "
                   f"({plural(int(dc.beyond_data.sum()), 'attribute')}) — added (steeper "
                   f"than in the data), weakened (flatter) or reversed ({REVERSED_WORDS}).")
    if judges:
        _judge_block(_judges(ctx, cache, ctx.model_key("generator"), cache.content_hash,
                             tuple(judges), int(n), int(seed)))


def _judge_block(blocks: list[dict[str, Any]]) -> None:
    """Per judge: what it is, its raw and corrected shares, what it labelled."""
    from biaslens.report.judges import (JUDGE_EXPLAINER, judge_cells, judge_comparison,
                                        judge_title, judge_verdict)

    st.subheader("Independent judges")
    st.write(JUDGE_EXPLAINER)
    for b in blocks:
        st.markdown(f"**Judge {judge_title(b)}**")
        comparison = judge_comparison(b)
        if comparison:
            st.write(comparison)
        full_table(pd.DataFrame(judge_cells(b),
                                columns=["shares", "category", "share", "95% CI", "interval"]))
        st.caption(judge_verdict(b))
