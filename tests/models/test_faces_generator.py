"""The DCGAN-tutorial generator layout (``netG_state_dict``), as gan-face-generate ships it."""

import importlib.util
from pathlib import Path

import pytest
import torch

from biaslens.models import build_model
from biaslens.models.importers import import_checkpoint


def test_tutorial_generator_without_biases_imports(tmp_path):
    torch.manual_seed(0)
    ref = build_model("dcgan_generator", z_dim=100, ngf=8, bias=False).eval()
    path = tmp_path / "weights.tar"
    torch.save({"netG_state_dict": ref.state_dict()}, path)
    model = import_checkpoint(path)
    assert model.architecture == "dcgan_generator" and model.config["bias"] is False
    z = torch.randn(3, 100)
    with torch.no_grad():
        assert torch.allclose(model(z), ref(z))


def test_biased_layout_still_goes_to_the_app_generator(tmp_path):
    ref = build_model("pytorch_dcgan_generator", ngf=8)
    torch.save({"netG_state_dict": ref.state_dict()}, tmp_path / "w.pth")
    assert import_checkpoint(tmp_path / "w.pth").architecture == "pytorch_dcgan_generator"


@pytest.mark.skipif(importlib.util.find_spec("gan_face_generate") is None,
                    reason="gan-face-generate is not installed")
def test_the_packaged_digiface_generator_imports():
    spec = importlib.util.find_spec("gan_face_generate")
    weights = Path(next(iter(spec.submodule_search_locations))) / "weights.tar"
    g = import_checkpoint(weights).eval()
    assert g.z_dim == 100 and sum(p.numel() for p in g.parameters()) == 3_576_704
    with torch.no_grad():
        x = g(torch.randn(2, 100))
    assert x.shape == (2, 3, 64, 64) and x.min() >= -1 and x.max() <= 1
