"""Rendered non-faces (world/nonface.py): shape, determinism, chunking, variety."""

from __future__ import annotations

import numpy as np

from biaslens.world.nonface import render_nonfaces


def test_nonfaces_shape_determinism_and_chunking():
    a = render_nonfaces(6, seed=1, size=32)
    assert a.shape == (6, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_nonfaces(6, seed=1, size=32))
    parts = np.concatenate([render_nonfaces(2, seed=1, size=32),
                            render_nonfaces(4, seed=1, size=32, start_index=2)])
    assert np.array_equal(a, parts)
    assert render_nonfaces(2, seed=1, size=(30, 20)).shape == (2, 30, 20, 3)
    assert render_nonfaces(0).shape == (0, 64, 64, 3)


def test_nonfaces_are_varied_and_not_flat():
    imgs = render_nonfaces(12, seed=0).astype(float)
    assert imgs.std(axis=(1, 2, 3)).min() > 5       # every image has structure
    means = imgs.mean(axis=(1, 2))
    assert np.linalg.norm(means - means.mean(0), axis=1).mean() > 10   # and they differ
