"""Counterfactual page: a conditional VAE's flip at the decoder vs the encoder, and ×2."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from biaslens.app.common import (
    MAX_COUNTERFACTUAL,
    MAX_UPLOAD_MIB,
    decode_upload,
    upload_warnings,
    value_word,
)
from biaslens.app.context import AppContext, full_table
from biaslens.report.tables import fmt_ci
from biaslens.tensors import to_uint8_numpy

__all__ = ["VARIANT_WORDS", "render"]

#: One vocabulary for the picture, the table and the text: variant -> words.
VARIANT_WORDS = {"original": "original", "recon": "reconstruction",
                 "decoder_flip": "counterfactual (decoder flip)",
                 "encoder_flip": "control (encoder flip)", "scaled": "counterfactual ×2"}


@st.cache_resource(show_spinner="auditing flips…", max_entries=4)
def _audit(_ctx: AppContext, _cache: Any, cvae_key: str, clf_key: str, data_key: str,
           condition: str, n: int, seed: int):
    from biaslens.pipelines.counterfactual import counterfactual_on_cache

    del cvae_key, clf_key, data_key
    # n images of the test split (all rows without one), flip rates by the condition
    return counterfactual_on_cache(_ctx.model("cvae"), _ctx.model("classifier"), _cache,
                                   split=None, condition=condition, groups=[condition], n=n,
                                   n_boot=300, seed=seed, n_show=0).result


def _direction_words(key: str) -> str:
    """``"Male 0→1"`` -> ``"Female → Male"``."""
    name, _, change = key.rpartition(" ")
    frm, _, to = change.partition("→")
    return f"{value_word(name, frm)} → {value_word(name, to)}" if to else key


def render(ctx: AppContext) -> None:
    """Draw the counterfactual page."""
    from biaslens.audit.counterfactual import VARIANTS, counterfactual_images
    from biaslens.errors import BiasLensError
    from biaslens.names import canonical_name
    from biaslens.pipelines.audit_setup import split_view
    from biaslens.tensors import predict_logits

    st.header("Counterfactuals")
    st.write("The conditional VAE re-draws a face with its condition flipped. The "
             "**counterfactual** flips the condition at the decoder; the **control** flips it "
             "at the encoder (it should change little); **counterfactual ×2** pushes the flip "
             "twice as far. The **reconstruction** keeps the condition.")
    cvae = ctx.model("cvae")
    clf = ctx.model("classifier")
    cache = ctx.cache()
    cond_names = list(getattr(cvae, "condition_names", None) or [])
    if not cond_names:
        raise BiasLensError(f"{ctx.model_path('cvae')}: not a conditional VAE "
                            "(no condition_names)")
    names = list(cache.attribute_names)
    clf_names = list(clf.attribute_names)
    size = int(getattr(cvae, "image_size", cache.images.shape[1]))
    c1, c2 = st.columns(2)
    condition = c1.selectbox("condition to flip", cond_names, key="cf_condition")
    column = cond_names.index(condition)
    source = c2.radio("face", ["from the data set", "upload"], horizontal=True,
                      key="cf_source")
    view = split_view(cache, None, usual="test")
    if source == "upload":
        # no type filter: a wrong file is refused below with a visible message, not a tooltip
        up = c2.file_uploader(f"face image (PNG or JPEG, at most {MAX_UPLOAD_MIB} MiB)",
                              key="cf_upload")
        if up is None:
            st.info("Upload a face image, or pick one from the data set.")
            return
        image = decode_upload(up.getvalue(), size, name=up.name)
        for why in upload_warnings(image, np.asarray(view.images[:256])):
            st.warning(f"This upload is unlike the training data: {why}. The models were "
                       "trained on synthetic cartoon faces, so their output on it means "
                       "little.")
        # no labels for an upload: the classifier supplies the condition values
        logit = predict_logits(clf, image, precision="auto")[0]
        cvals = np.array([[float(logit[clf_names.index(canonical_name(c, clf_names))] > 0)
                           for c in cond_names]], np.float32)
        origin = "the classifier's label of the upload"
    else:
        idx = c2.slider("test image", 0, len(view) - 1, 0, key="cf_index")
        image = np.asarray(view.images[idx:idx + 1])
        row = np.asarray(view.attrs)[idx]
        cvals = np.array([[float(row[names.index(canonical_name(c, names))])
                           for c in cond_names]], np.float32)
        origin = "its label in the data set"
    if image.shape[1:3] != (size, size):
        raise BiasLensError(f"the conditional VAE works on {size}×{size} images but the "
                            f"face is {image.shape[1]}×{image.shape[2]}")
    outs = counterfactual_images(cvae, image, cvals, column, scale=2.0)
    shown = {"original": image[0], **{v: to_uint8_numpy(outs[v][0]) for v in VARIANTS}}
    stack = np.stack(list(shown.values()))
    clf_col = clf_names.index(canonical_name(condition, clf_names))
    prob = 1 / (1 + np.exp(-predict_logits(clf, stack, precision="auto")[:, clf_col]))
    frm = int(cvals[0, column])
    st.subheader(f"{value_word(condition, frm)} → {value_word(condition, 1 - frm)}")
    cols = st.columns(len(shown))
    for col, (v, img), p in zip(cols, shown.items(), prob):
        col.image(np.asarray(img).repeat(2, 0).repeat(2, 1), width="stretch",
                  caption=f"{VARIANT_WORDS[v]} · P({condition}) = {p:.2f}")
    st.caption(f"The face's {condition} value is {origin}. P({condition}): the classifier's "
               "probability for each image; a working counterfactual moves it across 0.5 "
               "while the control stays near the original.")

    st.subheader("Flip rates over test images")
    n = st.slider("images audited", 8, MAX_COUNTERFACTUAL, 64, 8, key="cf_n")
    res = _audit(ctx, cache, ctx.model_key("cvae"), ctx.model_key("classifier"),
                 cache.content_hash, condition, int(n), 0)
    full_table(pd.DataFrame([{
        "image": VARIANT_WORDS[v], "label changed": round(res.flip_rate[v], 3),
        "95% CI (changed)": fmt_ci(*res.flip_rate_ci[v]),
        "classified as requested": round(res.to_target[v], 3),
        "95% CI (requested)": fmt_ci(*res.to_target_ci[v])} for v in VARIANTS]))
    st.caption(f"Over {res.n} test images: label changed = share whose classifier label of "
               f"{condition} differs from the original's; classified as requested = share "
               "labelled with the condition the image was decoded with (the flipped one for "
               "the counterfactuals, the original one for the reconstruction and the "
               "control). 95% Wilson CIs.")
    for direction, shifts in res.shifts.items():
        st.caption(f"{_direction_words(direction)}: the counterfactual also changes "
                   + ", ".join(f"{s.name} {s.logit_shift:+.2f}" for s in shifts[:5])
                   + " (mean logit change vs the reconstruction)")
