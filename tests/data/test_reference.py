"""Tests for reference-set specs (``--reference``)."""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.data.reference import load_reference
from biaslens.errors import BiasLensError


def test_none_is_no_reference():
    assert load_reference("none") is None
    assert load_reference("NONE") is None


def test_world_renders_faces_deterministically():
    a = load_reference("world", n=12, seed=3)
    b = load_reference("world:celeba", n=12, seed=3)
    assert a.images.shape == (12, 64, 64, 3) and a.images.dtype == np.uint8
    assert np.array_equal(a.images, b.images) and "celeba" in a.description
    c = load_reference("world:independent", n=12, seed=3)
    assert "independent" in c.description and not np.array_equal(a.images, c.images)


def test_cache_samples_the_training_split(tiny):
    from biaslens.data.cache import load_cache

    ref = load_reference(tiny["cache"], n=50, seed=0)
    cache = load_cache(tiny["cache"])
    train = np.asarray(cache.images)[np.asarray(cache.split) == 0]
    assert ref.images.shape == (50, 64, 64, 3)
    # every sampled image is a training image
    flat = {im.tobytes() for im in train}
    assert all(im.tobytes() in flat for im in ref.images)
    assert load_reference(tiny["cache"], n=10_000).images.shape[0] == len(train)


@pytest.mark.parametrize("spec, match", [
    ("world:nope", "--reference world:nope"),
    ("no/such/folder", "not 'none', 'world"),
])
def test_bad_specs_name_the_spec(spec, match):
    with pytest.raises(BiasLensError, match=match):
        load_reference(spec, n=10)


def test_size_mismatch_and_small_n_are_user_errors(tiny):
    with pytest.raises(BiasLensError, match="expects 32x32"):
        load_reference(tiny["cache"], n=10, image_size=32)
    with pytest.raises(BiasLensError, match="reference-n"):
        load_reference("world", n=3)
