"""Tensor conventions and batched model I/O (tensors.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biaslens.errors import BiasLensError, DataError
from biaslens.tensors import (
    frozen,
    generate_from_latents,
    generate_images,
    is_decoder,
    pick_device,
    predict_logits,
    to_model_pixels,
    to_uint8,
    to_uint8_numpy,
)


def test_pixels_map_0_255_to_minus_one_one_and_back():
    img = np.array([[[[0, 127, 255]]]], dtype=np.uint8)            # (1, 1, 1, 3)
    x = to_model_pixels(img)
    assert x.shape == (1, 3, 1, 1) and x.dtype == torch.float32
    torch.testing.assert_close(x.flatten(), torch.tensor([-1.0, 127 / 127.5 - 1, 1.0]))
    assert np.array_equal(to_uint8_numpy(x), img)
    assert to_uint8_numpy(x[0]).shape == (1, 1, 3)                  # a single image
    assert torch.equal(to_model_pixels(torch.from_numpy(img), "cpu"), x)
    assert to_model_pixels(x) is x                                  # float tensors pass


def test_uint8_clamps_and_rounds():
    x = torch.tensor([-3.0, 0.0, 5.0]).view(1, 3, 1, 1)           # NCHW, out of range ends
    u = to_uint8(x)
    assert u.shape == (1, 1, 1, 3) and u.dtype == torch.uint8
    assert u.flatten().tolist() == [0, 128, 255]


@pytest.mark.parametrize("bad", [np.zeros((2, 4, 4, 3), np.float32),
                                 np.zeros((4, 4, 3), np.uint8), np.zeros((1, 4, 4, 1), np.uint8)])
def test_pixels_refuse_other_layouts(bad):
    with pytest.raises(DataError, match=r"images must be uint8 \(n, H, W, 3\)") as e:
        to_model_pixels(bad)
    assert e.value.field == "images"


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    dev = torch.device("cpu")
    assert pick_device(dev) is dev
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(BiasLensError, match="unknown device 'gpu0'"):
        pick_device("gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_a_device_is_a_clear_error():
    with pytest.raises(BiasLensError, match="no CUDA device is available"):
        pick_device("cuda")


def test_frozen_restores_mode_and_grad_flags():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)).train()
    m[1].weight.requires_grad_(False)
    with frozen(m):
        assert not m.training and not any(p.requires_grad for p in m.parameters())
    assert m.training
    assert [p.requires_grad for p in m.parameters()] == [True, True, False, True]


class MeanClassifier(nn.Module):
    """Two logits per image: its mean pixel and its first pixel (red channel)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x.mean((1, 2, 3)), x[:, 0, 0, 0]], 1)


def test_predict_logits_batches_like_one_pass_and_restores_training():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 4, 4, 3), dtype=np.uint8)
    clf = MeanClassifier().train()
    logits = predict_logits(clf, images, batch_size=3)
    assert logits.shape == (7, 2) and logits.dtype == np.float32 and clf.training
    np.testing.assert_allclose(logits, MeanClassifier()(to_model_pixels(images)).numpy(),
                               rtol=1e-6)
    assert predict_logits(clf, images[:0]).shape == (0, 0)
    with pytest.raises(BiasLensError, match=r"logits \(n, A\)"):
        predict_logits(nn.Flatten(0), images)


class LinearGenerator(nn.Module):
    z_dim = 3

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3 * 2 * 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(z)).view(-1, 3, 2, 2)


class TinyDecoder(nn.Module):
    latent_dim = 2

    def encode(self, x):  # pragma: no cover - the protocol only
        raise NotImplementedError

    def decode(self, z, c=None):
        x = z.sum(1, keepdim=True) + (0 if c is None else 10 * c[:, :1])
        return x.view(-1, 1, 1, 1).expand(-1, 3, 1, 1)


def test_generate_images_is_seeded_and_independent_of_the_batch_size():
    torch.manual_seed(0)
    gen = LinearGenerator()
    seen: list[tuple[torch.Tensor, slice]] = []
    generate_images(gen, 5, batch_size=2, seed=4, consumer=lambda x, rows: seen.append((x, rows)))
    assert [r for _, r in seen] == [slice(0, 2), slice(2, 4), slice(4, 5)]
    once: list[torch.Tensor] = []
    generate_images(gen, 5, batch_size=5, seed=4, consumer=lambda x, rows: once.append(x))
    torch.testing.assert_close(torch.cat([x for x, _ in seen]), once[0])
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(once[0], gen(z))


def test_generate_images_decodes_a_vae_with_its_condition():
    dec = TinyDecoder()
    assert is_decoder(dec) and not is_decoder(LinearGenerator())
    plain, cond = [], []
    generate_images(dec, 3, seed=1, consumer=lambda x, rows: plain.append(x))
    generate_images(dec, 3, seed=1, condition=np.ones((3, 1)),
                    consumer=lambda x, rows: cond.append(x))
    torch.testing.assert_close(cond[0] - plain[0], torch.full((3, 3, 1, 1), 10.0))
    with pytest.raises(BiasLensError, match="no integer 'z_dim'"):
        generate_images(nn.Identity(), 1, consumer=lambda x, rows: None)


def test_generate_from_latents_keeps_order_and_clamps():
    torch.manual_seed(0)
    gen = LinearGenerator().train()
    z = np.random.default_rng(0).standard_normal((5, 3))
    out = generate_from_latents(gen, z, batch_size=2)
    assert out.shape == (5, 3, 2, 2) and gen.training
    with torch.no_grad():
        torch.testing.assert_close(out, gen(torch.as_tensor(z, dtype=torch.float32)))
    assert generate_from_latents(gen, z[:0]).numel() == 0


# --------------------------------------------------------------------------- precision


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
