"""biaslens.tensors: pixel conversion and batched model I/O, including ``precision``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biaslens.errors import DataError
from biaslens.tensors import (
    generate_from_latents,
    generate_images,
    predict_logits,
    to_model_pixels,
    to_uint8,
    to_uint8_numpy,
)


class _Clf(nn.Module):
    attribute_names = ["a", "b", "c"]

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, 2)
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        return self.lin(torch.relu(self.conv(x)).mean((2, 3)))


class _Gen(nn.Module):
    z_dim = 5

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(5, 3, 4, 2)

    def forward(self, z):
        return torch.tanh(self.up(z.view(len(z), 5, 1, 1).expand(-1, -1, 3, 3)))


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)


def test_pixels_round_trip_exactly(images):
    x = to_model_pixels(images)
    assert x.shape == (10, 3, 8, 8) and x.dtype == torch.float32
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert np.array_equal(to_uint8(x).numpy(), images)
    assert np.array_equal(to_uint8_numpy(x), images)
    assert np.array_equal(to_uint8_numpy(x[0]), images[0])
    assert np.array_equal(to_uint8(to_model_pixels(images, "cpu")).numpy(), images)


def test_to_uint8_clamps_and_float_images_pass_through():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    assert to_uint8(x)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]
    f = torch.zeros(2, 3, 4, 4)
    assert to_model_pixels(f) is f


def test_wrong_pixels_are_refused():
    with pytest.raises(DataError):
        to_model_pixels(np.zeros((2, 8, 8), np.uint8))


def test_predict_logits_in_batches_equals_one_pass(images):
    torch.manual_seed(0)
    clf = _Clf().train()
    one = predict_logits(clf, images, batch_size=len(images))
    with torch.no_grad():
        direct = clf.eval()(to_model_pixels(images)).numpy()
    clf.train()
    batched = predict_logits(clf, images, batch_size=3)
    assert one.dtype == np.float32 and one.shape == (10, 3)
    np.testing.assert_allclose(batched, one, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(one, direct, rtol=1e-6, atol=1e-6)
    assert clf.training  # the caller's flag is restored


def test_predict_logits_bf16_is_float32_and_close(images):
    torch.manual_seed(0)
    clf = _Clf()
    fp32 = predict_logits(clf, images, precision="fp32")
    bf16 = predict_logits(clf, images, precision="bf16")
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(bf16, fp32, atol=0.05)
    assert not np.array_equal(bf16, fp32)  # bf16 did run


def test_generators_take_a_precision_and_return_float32():
    torch.manual_seed(0)
    gen = _Gen()
    z = torch.randn(6, 5)
    fp32 = generate_from_latents(gen, z, batch_size=4)
    bf16 = generate_from_latents(gen, z, batch_size=4, precision="bf16")
    assert fp32.dtype == bf16.dtype == torch.float32 and fp32.shape == (6, 3, 8, 8)
    assert float((bf16 - fp32).abs().max()) < 0.05
    got = {}
    generate_images(gen, 6, batch_size=4, seed=1, precision="bf16",
                    consumer=lambda x, rows: got.update({rows.start: x}))
    assert all(x.dtype == torch.float32 for x in got.values()) and sorted(got) == [0, 4]
