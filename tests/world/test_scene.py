"""The ``detection`` scene (world/scene.py): the capture distribution, its effect on darker
vs lighter faces, hard negatives, determinism, and the cache it renders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from biaslens.errors import UnknownNameError
from biaslens.world import World, render_faces
from biaslens.world.scene import (
    SceneParams,
    apply_scene,
    render_scene_nonfaces,
    scene_draws,
    scene_params,
)

from .conftest import plain_faces


def _tol(p: float, n: int) -> float:
    """Four binomial standard errors: a false failure about once in 16,000 runs."""
    return 4 * np.sqrt(p * (1 - p) / n)


def test_capture_draws_follow_the_scene_and_ignore_the_content():
    p = scene_params("detection")
    n = 3000
    d = scene_draws(n, p, seed=5)
    assert abs(d["dim"].mean() - p.low_light) < _tol(p.low_light, n)
    assert abs(d["occ"].mean() - p.occlusion) < _tol(p.occlusion, n)
    dim = d["exposure"][d["dim"]]
    assert dim.min() >= p.dim_exposure[0] and dim.max() <= p.dim_exposure[1]
    lit = d["exposure"][~d["dim"]]
    assert lit.min() >= p.exposure[0] and lit.max() <= p.exposure[1]
    assert d["zoom"].min() >= p.zoom[0] and d["zoom"].max() <= p.zoom[1]
    # draws depend on (seed, index) only: a chunk equals the same rows of one call
    part = scene_draws(10, p, seed=5, start_index=100)
    assert np.array_equal(part["exposure"], d["exposure"][100:110])


def test_celeba_world_under_represents_darker_faces():
    s = World.preset("celeba").sample(4000, seed=0)
    share = s.skin_type.mean()
    # the world is calibrated to ~15 % darker faces (docs/world.md); far from balanced
    assert abs(share - 0.147) < _tol(0.147, 4000)


def test_dim_light_leaves_darker_faces_less_feature_contrast():
    # same faces (attributes, nuisance), two tones, captured in the same dim light
    # without noise or framing: the feature contrast scales with skin brightness.
    n = 8
    attrs = plain_faces(n)
    dim = dataclasses.replace(SceneParams(), low_light=1.0, noise=(0.0, 0.0), zoom=(1.0, 1.0),
                              shift=0.0, occlusion=0.0)

    def contrast(tone: float) -> np.ndarray:
        img = apply_scene(render_faces(attrs, np.full(n, tone), seed=3), dim, seed=3)
        face = img[:, 20:44, 18:46].astype(float).mean(-1)          # eyes, nose, mouth
        return np.abs(np.diff(face, axis=2)).mean(axis=(1, 2))

    light, dark = contrast(0.15), contrast(0.85)
    assert (dark < light).all() and dark.mean() < 0.6 * light.mean()


def test_hard_negatives_and_chunking():
    p = scene_params("detection")
    a = render_scene_nonfaces(8, "detection", seed=2, size=32)
    b = np.concatenate([render_scene_nonfaces(3, "detection", seed=2, size=32),
                        render_scene_nonfaces(5, "detection", seed=2, size=32,
                                              start_index=3)])
    assert a.shape == (8, 32, 32, 3) and np.array_equal(a, b)
    hard = [np.random.default_rng([2, i, 15]).random() < p.hard_negatives for i in range(400)]
    assert abs(np.mean(hard) - p.hard_negatives) < _tol(p.hard_negatives, 400)
    imgs = render_faces(plain_faces(4), np.array([0.1, 0.4, 0.6, 0.9]), seed=1, size=32)
    assert np.array_equal(apply_scene(imgs, "none", seed=0), imgs)
    head = render_faces(plain_faces(1), np.array([0.3]), seed=1, size=32, features=False)
    assert not np.array_equal(head, imgs[:1])        # the eyes, brows, nose and mouth are gone


def test_unknown_scene_is_refused_with_the_valid_names():
    with pytest.raises(UnknownNameError, match="detection"):
        scene_params("dim")


def test_detection_cache_records_its_scene(tmp_path):
    from biaslens.world.synth import synthesize_cache

    c = synthesize_cache("celeba", 12, tmp_path / "c", size=32, seed=1, nonfaces=12,
                         scene="detection")
    assert c.manifest["source"]["scene"] == "detection"
    plain = synthesize_cache("celeba", 12, tmp_path / "p", size=32, seed=1, nonfaces=12)
    assert "scene" not in plain.manifest["source"]
    assert c.content_hash != plain.content_hash
