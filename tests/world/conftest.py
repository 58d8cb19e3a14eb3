"""Attribute rows shared by the renderer and contact-sheet tests of this folder."""

from __future__ import annotations

import numpy as np

from biaslens.names import CELEBA_ATTRIBUTES

IDX = {n: i for i, n in enumerate(CELEBA_ATTRIBUTES)}
N_FACES = 6


def plain_faces(n: int = N_FACES) -> np.ndarray:
    """A plain young, beardless face: every optional feature off."""
    a = np.zeros((n, 40), dtype=bool)
    a[:, IDX["Young"]] = True
    a[:, IDX["No_Beard"]] = True
    return a


def random_attrs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random attribute rows (30 % on) and skin tones."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 40)) < 0.3, rng.random(n)
