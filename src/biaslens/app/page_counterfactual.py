"""Counterfactual page: a conditional VAE's flip at the decoder vs the encoder, and ×2."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.common import MAX_COUNTERFACTUAL, decode_upload
from biaslens.app.context import AppContext
from biaslens.tensors import to_uint8_numpy

__all__ = ["render"]

_COLUMNS = ("original", "reconstruction", "decoder flip (counterfactual)",
            "encoder flip (control)", "×2 condition")


@st.cache_resource(show_spinner="auditing flips…", max_entries=4)
def _audit(_ctx: AppContext, _cache: Any, cvae_key: str, clf_key: str, data_key: str,
           condition: str, n: int, seed: int):
    from biaslens.pipelines.counterfactual import counterfactual_on_cache

    del cvae_key, clf_key, data_key
    # n images of the test split (all rows without one), flip rates by the condition
    return counterfactual_on_cache(_ctx.model("cvae"), _ctx.model("classifier"), _cache,
                                   split=None, condition=condition, groups=[condition], n=n,
                                   n_boot=300, seed=seed, n_show=0).result


def render(ctx: AppContext) -> None:
    """Draw the counterfactual page."""
    from biaslens.audit.counterfactual import VARIANTS, counterfactual_images
    from biaslens.tensors import predict_logits
    from biaslens.errors import BiasLensError
    from biaslens.names import canonical_name
    from biaslens.pipelines.audit_setup import split_view

    st.header("Counterfactuals")
    st.write("The conditional VAE re-draws a face with its condition flipped. Flipping at "
             "the **decoder** is the counterfactual; flipping at the **encoder** is the "
             "control (it should change little); **×2** pushes the flip twice as far.")
    cvae = ctx.model("cvae")
    clf = ctx.model("classifier")
    cache = ctx.cache()
    cond_names = list(getattr(cvae, "condition_names", None) or [])
    if not cond_names:
        raise BiasLensError(f"{ctx.model_path('cvae')}: not a conditional VAE "
                            "(no condition_names)")
    names = list(cache.attribute_names)
    size = int(getattr(cvae, "image_size", cache.images.shape[1]))
    c1, c2 = st.columns(2)
    condition = c1.selectbox("condition to flip", cond_names, key="cf_condition")
    column = cond_names.index(condition)
    source = c2.radio("face", ["from the data set", "upload"], horizontal=True,
                      key="cf_source")
    if source == "upload":
        up = c2.file_uploader("face image (PNG/JPEG)", type=["png", "jpg", "jpeg", "webp"],
                              key="cf_upload")
        if up is None:
            st.info("Upload a face image, or pick one from the data set.")
            return
        image = decode_upload(up.getvalue(), size, name=up.name)
        # no labels for an upload: the classifier supplies the condition values
        logit = predict_logits(clf, image, precision="auto")[0]
        clf_names = list(clf.attribute_names)
        cvals = np.array([[float(logit[clf_names.index(canonical_name(c, clf_names))] > 0)
                           for c in cond_names]], np.float32)
    else:
        view = split_view(cache, None, usual="test")
        idx = c2.slider("test image", 0, len(view) - 1, 0, key="cf_index")
        image = np.asarray(view.images[idx:idx + 1])
        row = np.asarray(view.attrs)[idx]
        cvals = np.array([[float(row[names.index(canonical_name(c, names))])
                           for c in cond_names]], np.float32)
    if image.shape[1:3] != (size, size):
        raise BiasLensError(f"the conditional VAE works on {size}×{size} images but the "
                            f"face is {image.shape[1]}×{image.shape[2]}")
    outs = counterfactual_images(cvae, image, cvals, column, scale=2.0)
    shown = [image[0]] + [to_uint8_numpy(outs[v][0]) for v in VARIANTS]
    st.caption(f"{condition} = {int(cvals[0, column])} → {1 - int(cvals[0, column])}")
    cols = st.columns(len(shown))
    for col, img, title in zip(cols, shown, _COLUMNS):
        col.image(img, caption=title, width=128)

    st.subheader("Flip rates over test images")
    n = st.slider("images audited", 8, MAX_COUNTERFACTUAL, 64, 8, key="cf_n")
    res = _audit(ctx, cache, ctx.model_key("cvae"), ctx.model_key("classifier"),
                 cache.content_hash, condition, int(n), 0)
    st.dataframe(pd.DataFrame([{"variant": v, "flip rate": res.flip_rate[v],
                                "CI low": res.flip_rate_ci[v][0],
                                "CI high": res.flip_rate_ci[v][1],
                                "classified as requested": res.to_target[v]}
                               for v in VARIANTS]), hide_index=True)
    for direction, shifts in res.shifts.items():
        st.caption(f"{direction} also changes: " + ", ".join(
            f"{s.name} {s.logit_shift:+.2f}" for s in shifts[:5]))

