"""Steering page: push faces toward (or away from) an attribute and see what else moves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from biaslens.app.common import MAX_FACES, MAX_STEPS, steer_rows, target_options
from biaslens.app.context import AppContext
from biaslens.pipelines import steering

__all__ = ["render"]

N_BOOT = 300  # bootstrap resamples: CIs in about a second for 64 faces
N_REFERENCE = 1000  # default-world faces for the data comparison (about 1 s to render)


@st.cache_resource(show_spinner="rendering reference faces…", max_entries=2)
def _reference(_classifier, clf_key: str):
    """Faces of the default world (the data the shipped models were trained on) at the
    classifier's image size; ``clf_key`` identifies the classifier."""
    del clf_key
    return steering.reference_for(steering.SHIPPED_REFERENCE, _classifier, n=N_REFERENCE,
                                  seed=1)


@st.cache_resource(show_spinner="steering…", max_entries=6)
def _steer(_ctx: AppContext, gen_key: str, clf_key: str, target: str, n: int, steps: int,
           step_size: float | None, disentangle: float, seed: int, compare: bool = False):
    """Cached steering run; the keys (model paths + mtimes and settings) identify it."""
    del gen_key
    clf = _ctx.model("classifier")
    return steering.steer_models(
        _ctx.model("generator"), clf, target, n_samples=n, steps=steps, step_size=step_size,
        direction="+", disentangle=disentangle, n_boot=N_BOOT, seed=seed, n_show=min(n, 8),
        keep_history=False, reference=_reference(clf, clf_key) if compare else None)


def _new_faces() -> None:
    st.session_state["steer_seed"] = int(st.session_state.get("steer_seed", 0)) + 1


def render(ctx: AppContext) -> None:
    """Draw the steering page."""
    from biaslens.report.plots_steer import plot_covariance_bars, steer_grid

    st.header("Steering")
    st.write("Noise vectors are pushed toward the target by gradient ascent on the "
             "classifier's logit. What else changes along the way is the generator's "
             "entanglement: the bars rank the covariance of each attribute's change with "
             "the target's (95% bootstrap CI over faces).")
    clf = ctx.model("classifier")
    ctx.model("generator")  # fail early, with its own message, if it is missing
    options = target_options(list(clf.attribute_names))
    default = list(options).index("more Male") if "more Male" in options else 0
    c1, c2 = st.columns(2)
    label = c1.selectbox("target", list(options), index=default, key="steer_target")
    n = c1.slider("number of faces", 2, MAX_FACES, 16, key="steer_n")
    steps = c1.slider("steps", 1, MAX_STEPS, 20, key="steer_steps")
    step_size = c2.number_input("step size (0 = 1/steps)", 0.0, 5.0, 0.0, 0.05,
                                key="steer_step_size")
    disentangle = c2.slider("disentangle penalty λ", 0.0, 2.0, 0.0, 0.05,
                            key="steer_disentangle")
    if "steer_seed" not in st.session_state:
        st.session_state["steer_seed"] = 0
    seed = c2.number_input("seed", 0, 2**31 - 1, key="steer_seed", step=1)
    c2.button("new faces", on_click=_new_faces, key="steer_new")
    compare = c2.checkbox("compare with the training data (default-world faces)", value=False,
                          key="steer_compare",
                          help="Adds each attribute's slope along the path and across "
                               f"{N_REFERENCE} training faces, and flags what the model "
                               "added beyond the data (for models trained on the default "
                               "world).")

    result = _steer(ctx, ctx.model_key("generator"), ctx.model_key("classifier"),
                    options[label], int(n), int(steps),
                    float(step_size) if step_size > 0 else None, float(disentangle), int(seed),
                    bool(compare))
    skip = max(1, steps // 10)
    grid = steer_grid(result, skip=skip)[0]
    st.image(grid, caption=f"{label}: {result.images.shape[1]} faces (rows) every {skip} "
                           f"step(s) of {steps} (columns →)", clamp=True)
    st.image(_png(plot_covariance_bars(result)), caption="ranked covariance with the target")
    st.subheader("Top 10")
    st.dataframe(pd.DataFrame(steer_rows(result, 10)), hide_index=True)
    st.caption(f"{result.image_steps_per_s:,.0f} image-steps/s ({result.precision}); "
               f"seed {result.seed}; "
               f"significance: Benjamini–Hochberg at FDR {result.fdr:g}.")


def _png(fig) -> bytes:
    from biaslens.report.figures import fig_to_png

    return fig_to_png(fig)
