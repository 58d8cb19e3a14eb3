"""Drive every page and widget of the Streamlit app with ``streamlit.testing``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import biaslens.app
from biaslens.app.common import MAX_FACES, MAX_STEPS

SCRIPT = str(Path(biaslens.app.__file__).with_name("streamlit_app.py"))
PAGES = ["Steering", "Dataset", "Population", "Counterfactual", "Fairness"]


def _app(tiny: dict[str, Path], **override: str) -> AppTest:
    """The app with the sidebar paths pointing at the tiny models and cache."""
    at = AppTest.from_file(SCRIPT, default_timeout=120)
    at.run()
    for role in ("generator", "classifier", "cvae", "cache"):
        at.sidebar.text_input(key=f"path_{role}").set_value(str(override.get(role, tiny[role])))
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _page(at: AppTest, name: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(name)
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(tiny, page):
    at = _page(_app(tiny), page)
    _ok(at)
    assert page.lower()[:6] in at.header[0].value.lower()
    assert len(at.dataframe) >= 1


def test_steering_widgets_bounds_and_determinism(tiny):
    at = _app(tiny)
    _ok(at)
    assert at.slider(key="steer_n").max == MAX_FACES
    assert at.slider(key="steer_steps").max == MAX_STEPS
    options = at.selectbox(key="steer_target").options
    assert "more Male" in options and "less Male" in options and "less Smiling" in options
    first = at.dataframe[0].value.copy()
    # the same settings in a fresh session give the same faces and numbers (fixed seed)
    again = _app(tiny)
    assert again.dataframe[0].value.equals(first)

    at.selectbox(key="steer_target").set_value("less Male")
    at.slider(key="steer_n").set_value(6)
    at.slider(key="steer_steps").set_value(4)
    at.slider(key="steer_disentangle").set_value(0.5)
    at.number_input(key="steer_step_size").set_value(0.2)
    at.run()
    _ok(at)
    table = at.dataframe[0].value
    assert "Male" not in set(table["attribute"])  # the target itself is never ranked
    assert set(table.columns) >= {"attribute", "covariance", "95% CI", "q-value", "significant"}
    assert all(ci == "—" or (ci.startswith("[") and ci.endswith("]") and ", " in ci)
               for ci in table["95% CI"])
    assert all(abs(v * 1000 - round(v * 1000)) < 1e-6 for v in table["covariance"])  # 3 dp
    assert "data slope" not in table.columns
    titles = [s.value for s in at.subheader]
    assert "less Male: 6 faces along the steering path" in titles   # the selector's words
    assert not any("-Male" in t for t in titles)
    assert any("Only 6 faces" in w.value for w in at.warning)
    text = " ".join(m.value for m in at.markdown)
    assert "steering away from Male" in text                        # the verdict line
    assert text.count("P(Male)") == 4                               # 4 steps -> 4 columns
    # 6 faces requested: all are shown (8 at most), so no "first 8 of" note
    assert not any("first" in c.value and "faces are shown" in c.value for c in at.caption)
    at.slider(key="steer_n").set_value(12).run()
    _ok(at)
    assert any("The first 8 of the 12 faces are shown" in c.value for c in at.caption)

    at.checkbox(key="steer_compare").check().run()     # compare with the training data
    _ok(at)
    table = at.dataframe[0].value
    assert {"path slope", "data slope", "beyond data"} <= set(table.columns)
    assert set(table["beyond data"]) <= {"no", "added", "weakened", "reversed"}

    seed = at.number_input(key="steer_seed").value
    at.button(key="steer_new").click().run()
    _ok(at)
    assert at.number_input(key="steer_seed").value == seed + 1


def test_missing_model_is_a_message(tiny, tmp_path):
    at = _app(tiny, generator=tmp_path / "nope")
    assert not at.exception
    assert any("nope" in e.value and "no such" in e.value for e in at.error)


def test_zero_config_without_shipped_models_says_so(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(SCRIPT, default_timeout=120).run()
    assert not at.exception
    assert any("is not shipped" in e.value for e in at.error)


def test_zero_config_uses_shipped_models(tiny, tmp_path, monkeypatch):
    import shutil

    for role in ("generator", "classifier"):
        shutil.copytree(tiny[role], tmp_path / role)
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(SCRIPT, default_timeout=120).run()
    _ok(at)
    assert len(at.dataframe) == 1


def test_dataset_page_widgets_and_world_truth(tiny):
    at = _page(_app(tiny), "Dataset")
    _ok(at)
    subheaders = [s.value for s in at.subheader]
    assert any("Ground truth" in s for s in subheaders)  # the cache is synthetic
    at.selectbox(key="ds_target").set_value("Smiling")
    at.multiselect(key="ds_groups").set_value(["Young", "skin_type"])
    at.run()
    _ok(at)
    groups = at.dataframe[1].value
    assert list(groups.columns[:2]) == ["group", "faces"]
    assert set(groups["group"]) <= {"young, lighter skin", "young, darker skin",
                                    "older, lighter skin", "older, darker skin"}
    assert groups["faces"].sum() == 160
    assert any("small = fewer than 30 faces" in c.value for c in at.caption)
    assert f"synthetic world 'celeba', 160 faces, from {tiny['cache']}" in at.markdown[0].value


def test_population_page_widgets(tiny):
    at = _page(_app(tiny), "Population")
    at.slider(key="pop_n").set_value(128)
    at.multiselect(key="pop_groups").set_value(["Male", "Young"])
    at.number_input(key="pop_seed").set_value(3)
    at.run()
    _ok(at)
    groups = at.dataframe[1].value
    assert list(groups["group"]) == ["Female, older", "Female, young", "Male, older",
                                     "Male, young"]  # 2 x 2 groups, in words
    captions = " ".join(c.value for c in at.caption)
    assert "classifier_rates" not in captions and "amplification > 0" in captions
    assert "seed 3" in at.image[0].captions[0]  # the generated faces are shown
    per_attr = at.dataframe[0].value
    assert len(per_attr) == 3  # every attribute the data and the classifier share
    # every number column at 3 decimals (0.250, not 0.25, beside 0.123)
    shown = json.loads(at.dataframe[0].proto.columns)
    assert {c for c in per_attr.columns if per_attr[c].dtype.kind == "f"} == {
        c for c, v in shown.items() if v.get("type_config", {}).get("format") == "%.3f"}
    assoc = at.dataframe[2].value                 # associations with Male (checkbox on)
    assert {"generated slope", "data slope", "beyond data"} <= set(assoc.columns)
    assert "Male" not in set(assoc["attribute"])
    # the judge block, as in the report: skin_tone by default, raw and corrected shares
    assert at.multiselect(key="pop_judges").value == ["skin_tone"]
    judged = at.dataframe[3].value
    assert set(judged["shares"]) == {"raw (judge's reading)", "corrected for judge error",
                                     "training faces (true groups)"}
    assert list(judged[judged["shares"] == "corrected for judge error"]["category"]) == [
        "lighter", "darker"]
    assert any("Judge skin_tone: skin colour rule" in m.value for m in at.markdown)
    assert any("The skin_tone judge labelled 128 generated faces" in c.value
               for c in at.caption)
    # and the sentence comparing the judged shares with the data's (as in the report)
    assert any(m.value.startswith("Corrected for the skin_tone judge's errors, ")
               and "training faces" in m.value
               for m in at.markdown)
    at.checkbox(key="pop_assoc").set_value(False)
    at.multiselect(key="pop_judges").set_value([])
    at.run()
    _ok(at)
    assert len(at.dataframe) == 2 and not any("Independent judges" in h.value
                                              for h in at.subheader)
    at.multiselect(key="pop_groups").set_value([])
    at.run()
    _ok(at)
    assert at.info


def test_fairness_page_widgets(tiny):
    at = _page(_app(tiny), "Fairness")
    at.selectbox(key="fair_target").set_value("Young")
    at.multiselect(key="fair_protected").set_value(["Male", "skin_type"])
    at.run()
    _ok(at)
    groups = at.dataframe[0].value
    assert 2 <= len(groups) <= 4 and groups["faces"].sum() == 16  # the test split of 160 faces
    assert all(g.split(", ")[0] in ("Female", "Male") and
               g.split(", ")[1] in ("lighter skin", "darker skin") for g in groups["group"])
    assert {"TPR", "TPR 95% CI", "FPR 95% CI"} <= set(groups.columns)
    # 16 test faces: every group has fewer than 10 with Young; the page says so
    assert any("Fewer than 10 faces with Young" in w.value for w in at.warning)
    assert len(at.dataframe) == 2  # 4 groups: no Ramaswamy table ...
    assert any("exactly two groups" in c.value for c in at.caption)  # ... and why
    at.multiselect(key="fair_protected").set_value(["Male"]).run()
    _ok(at)
    ram = at.dataframe[2].value
    assert [m.split(" ")[0] for m in ram["metric"]] == ["AP", "DEO", "BA", "KL"]


def _png(size: int = 80) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (size, size + 10, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_counterfactual_page_data_and_upload(tiny):
    at = _page(_app(tiny), "Counterfactual")
    _ok(at)
    assert len(at.image) == 5  # original + 4 variants
    from biaslens.app.page_counterfactual import VARIANT_WORDS

    at.slider(key="cf_index").set_value(3)
    at.slider(key="cf_n").set_value(16)
    at.run()
    _ok(at)
    table = at.dataframe[0].value
    assert list(table["image"]) == [VARIANT_WORDS[v] for v in
                                    ("recon", "decoder_flip", "encoder_flip", "scaled")]
    captions = [c for img in at.image for c in img.captions]
    assert len(captions) == 5 and all(" · P(Male) = 0." in c or " · P(Male) = 1." in c
                                      for c in captions)
    assert [c.split(" · ")[0] for c in captions] == list(VARIANT_WORDS.values())
    at.radio(key="cf_source").set_value("upload").run()
    _ok(at)
    assert at.info  # asks for a file
    at.file_uploader(key="cf_upload").set_value(("face.png", _png(), "image/png")).run()
    _ok(at)
    assert len(at.image) == 5
    assert "10 MiB" in at.file_uploader(key="cf_upload").label
    buf = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buf, "PNG")
    at.file_uploader(key="cf_upload").set_value(("gray.png", buf.getvalue(), "image/png")).run()
    _ok(at)
    assert any("unlike the training data" in w.value and "grayscale" in w.value
               for w in at.warning)


def test_counterfactual_upload_that_is_not_an_image_is_refused(tiny):
    at = _page(_app(tiny), "Counterfactual")
    at.radio(key="cf_source").set_value("upload").run()
    # any file is accepted by the widget, so the refusal is a visible message
    at.file_uploader(key="cf_upload").set_value(("notes.txt", b"not an image", "text/plain"))
    at.run()
    assert not at.exception
    assert any("notes.txt" in e.value and "not an image" in e.value for e in at.error)


def test_counterfactual_needs_a_conditional_vae(tiny):
    at = _page(_app(tiny, cvae=tiny["generator"]), "Counterfactual")
    assert not at.exception
    assert any("not a conditional VAE" in e.value for e in at.error)


def test_sidebar_fields_match_its_note_and_say_what_the_data_is(tiny):
    at = _app(tiny)
    notes = " ".join(c.value for c in at.sidebar.caption)
    assert "dbvae" not in notes and "vae," not in notes
    assert "the GAN generator, the attribute classifier, the conditional VAE" in notes
    assert "2,000 fresh faces" in notes and "synthetic" in notes
    fields = {t.label for t in at.sidebar.text_input}
    assert fields == {"generator checkpoint", "classifier checkpoint", "cvae checkpoint",
                      "dataset cache"}


def test_steering_feeds_a_progress_bar_from_the_audits_callback(tiny):
    from biaslens.app import page_steering
    from biaslens.pipelines.inputs import load_for_role

    models = {r: load_for_role(tiny[r], r) for r in ("generator", "classifier")}

    class Ctx:
        def model(self, role):
            return models[role]

        def model_key(self, role):
            return role

    class Bar:
        calls: list[tuple[float, str]] = []

        def progress(self, value, text=""):
            self.calls.append((value, text))

    bar = Bar()
    key = ("progress-test", "Male", 4, 5)
    res = page_steering._steer(Ctx(), bar, key, "Male", 4, 5, None, 0.0, 0)
    assert [v for v, _ in bar.calls] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert bar.calls[-1][1] == "steering: step 5 of 5"
    again = Bar()
    again.calls = []
    assert page_steering._steer(Ctx(), again, key, "Male", 4, 5, None, 0.0, 0) is res
    assert again.calls == []  # the same settings come from the server's LRU, at once
