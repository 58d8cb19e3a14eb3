"""Steering page: push faces toward (or away from) an attribute and see what else moves."""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from typing import Any

import pandas as pd
import streamlit as st

from biaslens.app.common import (
    MAX_FACES,
    MAX_STEPS,
    grid_columns,
    steer_rows,
    steer_verdict,
    target_curve,
    target_options,
    upscale,
)
from biaslens.app.context import AppContext, full_table
from biaslens.pipelines import steering

__all__ = ["render"]

N_BOOT = 300  # bootstrap resamples: CIs in about a second for 64 faces
N_REFERENCE = 1000  # default-world faces for the data comparison (about 1 s to render)
N_SHOW = 8  # faces (rows) in the grid; the statistics use all of them
GRID_COLUMNS = 6  # steps shown: tiles stay 2-3x their size at the width of the page
UPSCALE = 3  # nearest-neighbour upscale of each 64 px tile
MAX_RUNS = 6  # steering results kept per server


@st.cache_resource(show_spinner="rendering reference faces…", max_entries=2)
def _reference(_classifier, clf_key: str):
    """Faces of the default world (the data the shipped models were trained on) at the
    classifier's image size; ``clf_key`` identifies the classifier."""
    del clf_key
    return steering.reference_for(steering.SHIPPED_REFERENCE, _classifier, n=N_REFERENCE,
                                  seed=1)


@st.cache_resource
def _runs() -> tuple[OrderedDict, threading.Lock]:
    """The server's last steering results by settings (an LRU shared by all sessions).
    Not ``st.cache_resource`` on the run itself: the run feeds the page's progress bar,
    and a cached function may not draw into an element made outside it."""
    return OrderedDict(), threading.Lock()


def _steer(ctx: AppContext, bar: Any, key: tuple, target: str, n: int, steps: int,
           step_size: float | str, disentangle: float, seed: int, compare: bool = False):
    """The steering run for these settings, from the LRU or run now with ``bar`` showing
    the audit's progress. ``key`` = model keys + settings."""
    store, lock = _runs()
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    clf = ctx.model("classifier")
    ref = _reference(clf, ctx.model_key("classifier")) if compare else None

    def progress(step: int, total: int) -> None:
        bar.progress(step / total, text=f"steering: step {step} of {total}")

    result = steering.steer_models(
        ctx.model("generator"), clf, target, n_samples=n, steps=steps, step_size=step_size,
        direction="+", disentangle=disentangle, n_boot=N_BOOT, seed=seed,
        n_show=min(n, N_SHOW), keep_history=False, reference=ref, progress=progress)
    with lock:
        store[key] = result
        while len(store) > MAX_RUNS:
            store.popitem(last=False)
    return result


def _new_faces() -> None:
    st.session_state["steer_seed"] = int(st.session_state.get("steer_seed", 0)) + 1


def _grid(result: Any, label: str) -> None:
    """The faces along the steps, upscaled to the page's width, with the target's mean
    probability under each column."""
    from biaslens.report.plots_steer import make_grid

    cols = grid_columns(result.steps, GRID_COLUMNS)
    frames = result.images[cols]  # (cols, rows, H, W, 3) of the one (+) pass
    grid = upscale(make_grid(frames.transpose(1, 0, 2, 3, 4), pad=2), UPSCALE)
    base = result.attribute_names[result.target_index]
    shown, n = result.images.shape[1], result.n_samples
    st.subheader(f"{label}: {shown} faces along the steering path")
    st.image(grid, width="stretch")
    prob = target_curve(result, cols)
    cells = "".join(
        f'<div style="flex:1;text-align:center;font-size:0.85rem">step {int(k) + 1}<br>'
        f"P({html.escape(base)}) <b>{p:.2f}</b></div>" for k, p in zip(cols, prob))
    st.markdown(f'<div data-testid="steer-probabilities" style="display:flex">{cells}</div>',
                unsafe_allow_html=True)
    how = " (calibrated)" if "step_calibration" in result.extra else ""
    note = (f"Rows: faces; columns: step 1 to {result.steps} (step size "
            f"{result.step_size:.3g}{how}). Under each column: the classifier's probability of "
            f"{base}, averaged over all {n} faces.")
    if shown < n:
        note += f" The first {shown} of the {n} faces are shown; the statistics use all {n}."
    st.caption(note)


def render(ctx: AppContext) -> None:
    """Draw the steering page."""
    from biaslens.report.plots_steer import plot_covariance_bars

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
    n = c1.slider("number of faces", 2, MAX_FACES, 32, key="steer_n")
    steps = c1.slider("steps", 1, MAX_STEPS, 20, key="steer_steps")
    step_size = c2.number_input("step size (0 = calibrated: P(target) ends above 0.8)", 0.0,
                                5.0, 0.0, 0.05, key="steer_step_size",
                                help="0 picks the step under which the classifier's mean "
                                     "probability of the target ends above 0.8 (short "
                                     "pilot runs first); the course's rule is 1/steps.")
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

    bar = st.empty()
    bar.progress(0.0, text="steering…")
    settings = (options[label], int(n), int(steps),
                float(step_size) if step_size > 0 else "calibrated", float(disentangle), int(seed),
                bool(compare))
    key = (ctx.model_key("generator"), ctx.model_key("classifier"), *settings)
    result = _steer(ctx, bar, key, *settings)
    bar.empty()
    _grid(result, label)

    st.subheader(f"What else changes ({label})")
    line, notes, warns = steer_verdict(result)
    st.markdown(f"**{line}**")
    for w in warns:
        st.warning(w)
    for note in notes:
        st.info(note)
    st.image(_png(plot_covariance_bars(result)), width="content")
    st.subheader("Top 10")
    full_table(pd.DataFrame(steer_rows(result, 10)))
    st.caption(f"Covariance of the change in each attribute's logit with the change in the "
               f"target's, over {result.n_samples} faces × {result.steps} steps; 95% "
               f"bootstrap CI over faces; q-value: Benjamini–Hochberg at FDR "
               f"{result.fdr:g}. {result.image_steps_per_s:,.0f} image-steps/s "
               f"({result.precision}); seed {result.seed}.")


def _png(fig) -> bytes:
    from biaslens.report.figures import fig_to_png

    return fig_to_png(fig, tight=True)  # tight: the axis caption is never cut
