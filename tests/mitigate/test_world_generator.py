"""A generator with known latent hyperplanes (mitigate/world_generator.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.mitigate.world_generator import WorldGenerator
from biaslens.names import CELEBA_ATTRIBUTES

T, G = "Wearing_Earrings", "Male"


def test_world_generator_plants_the_latent_correlation():
    gen = WorldGenerator(z_dim=8, attributes=(T, G), cosines={f"{T},{G}": 0.8}, seed=0)
    assert gen.directions[0] @ gen.directions[1] == pytest.approx(0.8)
    z = np.random.default_rng(0).standard_normal((4000, 8))
    a = gen.attributes_of(z)
    t, g = CELEBA_ATTRIBUTES.index(T), CELEBA_ATTRIBUTES.index(G)
    phi = np.corrcoef(a[:, t], a[:, g])[0, 1]
    assert phi == pytest.approx(2 / np.pi * np.arcsin(0.8), abs=0.05)
    x = gen(torch.tensor(z[:3], dtype=torch.float32))
    assert x.shape == (3, 3, 64, 64) and x.min() >= -1 and x.max() <= 1
