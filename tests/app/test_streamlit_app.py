"""Drive every page and widget of the Streamlit app with ``streamlit.testing``."""

from __future__ import annotations

import io
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
    assert set(table.columns) >= {"attribute", "covariance", "CI low", "CI high", "significant"}
    assert "6 faces" in at.image[0].captions[0]
    assert "data slope" not in table.columns

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
    assert list(groups.columns[:2]) == ["Young", "skin_type"]
    assert groups["count"].sum() == 160


def test_population_page_widgets(tiny):
    at = _page(_app(tiny), "Population")
    at.slider(key="pop_n").set_value(128)
    at.multiselect(key="pop_groups").set_value(["Male", "Young"])
    at.number_input(key="pop_seed").set_value(3)
    at.run()
    _ok(at)
    assert len(at.dataframe[1].value) == 4  # 2 x 2 groups
    assoc = at.dataframe[2].value                 # associations with Male (checkbox on)
    assert {"generated slope", "data slope", "beyond data"} <= set(assoc.columns)
    assert "Male" not in set(assoc["attribute"])
    at.checkbox(key="pop_assoc").set_value(False)
    at.run()
    _ok(at)
    assert len(at.dataframe) == 2
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
    assert 2 <= len(groups) <= 4 and groups["n"].sum() == 16  # the test split of 160 faces
    assert all("skin_type=" in g and "Male=" in g for g in groups["group"])


def _png(size: int = 80) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (size, size + 10, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_counterfactual_page_data_and_upload(tiny):
    at = _page(_app(tiny), "Counterfactual")
    _ok(at)
    assert len(at.image) == 5  # original + 4 variants
    at.slider(key="cf_index").set_value(3)
    at.slider(key="cf_n").set_value(16)
    at.run()
    _ok(at)
    assert len(at.dataframe[0].value) == 4
    at.radio(key="cf_source").set_value("upload").run()
    _ok(at)
    assert at.info  # asks for a file
    at.file_uploader(key="cf_upload").set_value(("face.png", _png(), "image/png")).run()
    _ok(at)
    assert len(at.image) == 5


def test_counterfactual_upload_that_is_not_an_image_is_refused(tiny):
    at = _page(_app(tiny), "Counterfactual")
    at.radio(key="cf_source").set_value("upload").run()
    at.file_uploader(key="cf_upload").set_value(("face.png", b"not an image", "image/png"))
    at.run()
    assert not at.exception
    assert any("face.png" in e.value and "not an image" in e.value for e in at.error)


def test_counterfactual_needs_a_conditional_vae(tiny):
    at = _page(_app(tiny, cvae=tiny["generator"]), "Counterfactual")
    assert not at.exception
    assert any("not a conditional VAE" in e.value for e in at.error)
