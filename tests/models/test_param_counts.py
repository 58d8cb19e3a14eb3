"""Parameter counts at default config must match the sources exactly (ALGORITHMS.md)."""

from __future__ import annotations

import pytest
import torch

from biaslens.models import build_model, count_parameters
from biaslens.names import CELEBA_ATTRIBUTES


@pytest.mark.parametrize("name, expected", [
    ("coursera_dcgan_generator", 1_849_155),
    ("pytorch_dcgan_generator", 3_282_755),
    ("coursera_classifier", 823_656),
    ("standard_cnn", 640_889),
])
def test_parameter_counts(name, expected):
    assert count_parameters(build_model(name)) == expected


def test_default_shapes_of_the_course_models():
    gen = build_model("coursera_dcgan_generator").eval()
    cls = build_model("coursera_classifier").eval()
    with torch.no_grad():
        x = gen(torch.zeros(2, 64))
        assert x.shape == (2, 3, 64, 64)
        assert cls(x).shape == (2, 40)
    assert cls.attribute_names == CELEBA_ATTRIBUTES
    assert build_model("dbvae").encoder.fc[-1].out_features == 201  # 1 + 2 * 100


@pytest.mark.parametrize("size", [64, 128])
def test_dcgan_and_resnet_sizes(size):
    g = build_model("dcgan_generator", image_size=size, ngf=8)
    d = build_model("dcgan_discriminator", image_size=size, ndf=8)
    r = build_model("resnet_classifier", image_size=size, widths=[8, 16], blocks=1)
    with torch.no_grad():
        img = g(torch.zeros(2, g.z_dim))
        assert img.shape == (2, 3, size, size)
        assert d(img).shape == (2,)
        assert r(img).shape == (2, 40)
