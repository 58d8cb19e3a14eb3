"""Tiny data, tiny registered models and a tiny GAN run for the training tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from biaslens.models import register_model
from biaslens.models import registry as _registry
from biaslens.train import TrainData, train_gan

TINY_G = {"hidden_dim": 4}
TINY_D = {"ndf": 4}  # the default sn_dcgan_discriminator


class TinyLinearClassifier(nn.Module):
    """No BatchNorm, so data-parallel and single-process gradients agree exactly."""

    def __init__(self, attribute_names=("a", "b"), image_size: int = 8):
        super().__init__()
        self.config = {"attribute_names": list(attribute_names), "image_size": image_size}
        self.attribute_names = tuple(attribute_names)
        self.image_size = image_size
        self.fc = nn.Linear(3 * image_size * image_size, len(attribute_names))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class NaNClassifier(TinyLinearClassifier):
    """Produces NaN logits: drives the divergence guard."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)) * float("nan")


def make_data(n: int = 48, size: int = 64, seed: int = 0, faces: bool = False) -> TrainData:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    attrs = rng.random((n, 3)) < np.array([0.5, 0.2, 0.7])
    # make attribute "a" learnable: bright images
    images[attrs[:, 0]] //= 2
    split = np.where(np.arange(n) < n * 3 // 4, 0, 1).astype(np.int8)
    groups = (np.arange(n) % 2 == 0).astype(np.int16)[:, None] if faces else None
    return TrainData(images=images, attrs=attrs, attribute_names=["Male", "Smiling", "Young"],
                     split=split, groups=groups, group_names=["is_face"] if faces else [])


def train_tiny_gan(data, out, steps, **kw):
    """A few GAN steps on the tiny generator and discriminator (seed 3, CPU)."""
    return train_gan(data, out=out, steps=steps, batch_size=8, generator_config=TINY_G,
                     discriminator_config=TINY_D, log_every=1, sample_every=0,
                     checkpoint_every=0, device="cpu", seed=3, command="test", **kw)


def latest_weights(run, name):
    """The weights of model ``name`` in the run's latest checkpoint."""
    return load_file(str(run / "checkpoints" / "latest" / name / "model.safetensors"))


@pytest.fixture
def data64() -> TrainData:
    return make_data()


@pytest.fixture(autouse=True)
def _test_architectures():
    """Register the test-only architectures for one test, then remove them again so the
    registry seen by other test folders holds only the package's own architectures."""
    names = {"test_tiny_linear_classifier": TinyLinearClassifier,
             "test_nan_classifier": NaNClassifier}
    for name, cls in names.items():
        register_model(name)(cls)
    yield
    for name in names:
        _registry._REGISTRY.pop(name, None)
