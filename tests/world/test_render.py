"""Tests of the synthetic-face renderer: shapes, determinism, attribute locality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.world.render import (
    ATTRIBUTE_REGIONS,
    GLOBAL_ATTRIBUTES,
    LABEL_ONLY_ATTRIBUTES,
    RENDERED_ATTRIBUTES,
    render_faces,
    skin_rgb,
)

from .conftest import IDX, N_FACES, plain_faces, random_attrs

SIZE = 64


def test_shapes_and_dtype():
    attrs, tone = random_attrs(3, 0)
    img = render_faces(attrs, tone, seed=1, size=32)
    assert img.shape == (3, 32, 32, 3) and img.dtype == np.uint8
    img = render_faces(attrs, tone, seed=1, size=(218, 178))
    assert img.shape == (3, 218, 178, 3) and img.dtype == np.uint8
    assert render_faces(attrs[:0], tone[:0]).shape == (0, 64, 64, 3)


def test_attribute_lists_partition_celeba():
    assert set(RENDERED_ATTRIBUTES) | set(LABEL_ONLY_ATTRIBUTES) == set(CELEBA_ATTRIBUTES)
    assert not set(RENDERED_ATTRIBUTES) & set(LABEL_ONLY_ATTRIBUTES)
    assert "Attractive" in LABEL_ONLY_ATTRIBUTES
    assert set(ATTRIBUTE_REGIONS) == set(RENDERED_ATTRIBUTES)


def test_same_seed_same_pixels_other_seed_differs():
    attrs, tone = random_attrs(4, 1)
    a = render_faces(attrs, tone, seed=5)
    assert np.array_equal(a, render_faces(attrs, tone, seed=5))
    assert not np.array_equal(a, render_faces(attrs, tone, seed=6))


@settings(max_examples=8, deadline=None)
@given(n=st.integers(2, 9), cut=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_chunked_equals_one_call(n, cut, seed):
    cut = min(cut, n - 1)
    attrs, tone = random_attrs(n, seed % 1000)
    whole = render_faces(attrs, tone, seed=seed, size=24)
    parts = np.concatenate([
        render_faces(attrs[:cut], tone[:cut], seed=seed, size=24),
        render_faces(attrs[cut:], tone[cut:], seed=seed, size=24, start_index=cut),
    ])
    assert np.array_equal(whole, parts)


def test_face_does_not_depend_on_its_batch_neighbours():
    # Shapes are computed in pixel windows that depend on the batch's poses; a face alone
    # gets the tightest windows, so this checks every shape stays inside its window.
    rng = np.random.default_rng(2)
    attrs, tone = rng.random((12, 40)) < 0.5, rng.random(12)
    whole = render_faces(attrs, tone, seed=3, size=(40, 33))
    for i in range(len(attrs)):
        alone = render_faces(attrs[i:i + 1], tone[i:i + 1], seed=3, size=(40, 33), start_index=i)
        assert np.array_equal(whole[i], alone[0]), i


def _region_mask(name: str, size: int) -> np.ndarray:
    top, left, bottom, right = ATTRIBUTE_REGIONS[name]
    rows = (np.arange(size) + 0.5) / size
    inside_r = (rows >= top) & (rows <= bottom)
    inside_c = (rows >= left) & (rows <= right)
    return inside_r[:, None] & inside_c[None, :]


def _toggle(name: str, seed: int = 11):
    """Render the base faces with ``name`` off and on (No_Beard/Young: on and off)."""
    tone = np.linspace(0.05, 0.85, N_FACES)
    off = plain_faces()
    off[:, IDX[name]] = False
    on = off.copy()
    on[:, IDX[name]] = True
    a = render_faces(off, tone, seed=seed, size=SIZE).astype(np.int16)
    b = render_faces(on, tone, seed=seed, size=SIZE).astype(np.int16)
    return np.abs(a - b).max(axis=-1)  # (n, H, W)


LOCAL = [a for a in RENDERED_ATTRIBUTES if a not in GLOBAL_ATTRIBUTES]


@pytest.mark.parametrize("name", LOCAL)
def test_toggle_changes_only_its_region(name):
    diff = _toggle(name)
    mask = _region_mask(name, SIZE)
    # Visible: every face shows a clear change inside the region ...
    changed_inside = ((diff > 8) & mask).sum(axis=(1, 2))
    assert (changed_inside >= 4).all(), (name, changed_inside)
    # ... and nothing outside it moves (same seed: same pose, colours and noise).
    assert diff[:, ~mask].max(initial=0) <= 1, (name, diff[:, ~mask].max())


@pytest.mark.parametrize("name", GLOBAL_ATTRIBUTES)
def test_global_attributes_change_many_pixels(name):
    diff = _toggle(name)
    frac = (diff > 6).mean(axis=(1, 2))
    assert (frac > 0.03).all(), (name, frac)


def test_pale_skin_lightens_the_face_centre():
    tone = np.full(N_FACES, 0.7)
    off = plain_faces()
    on = off.copy()
    on[:, IDX["Pale_Skin"]] = True
    c = slice(SIZE // 2 - 3, SIZE // 2 + 3)  # cheeks/nose area: always skin
    a = render_faces(off, tone, seed=2)[:, c, c].astype(float).mean()
    b = render_faces(on, tone, seed=2)[:, c, c].astype(float).mean()
    assert b > a + 20


def test_blurry_reduces_high_frequencies():
    off = plain_faces()
    on = off.copy()
    on[:, IDX["Blurry"]] = True
    tone = np.full(N_FACES, 0.4)

    def sharpness(img):
        g = img.astype(float).mean(-1)
        return np.abs(np.diff(g, axis=1)).mean() + np.abs(np.diff(g, axis=2)).mean()

    blurred, sharp = render_faces(on, tone, seed=4), render_faces(off, tone, seed=4)
    assert sharpness(blurred) < 0.7 * sharpness(sharp)


def test_skin_tone_ramp_darkens_monotonically():
    t = np.linspace(0, 1, 21)
    lum = skin_rgb(t) @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(lum) < 0)
    assert skin_rgb(0.5).shape == (3,)


def test_skin_tone_controls_face_brightness():
    attrs = plain_faces(2)
    img = render_faces(attrs, np.array([0.05, 0.95]), seed=0)
    c = slice(SIZE // 2 - 3, SIZE // 2 + 3)
    lum = img[:, c, c].astype(float).mean(axis=(1, 2, 3))
    assert lum[0] > lum[1] + 60


def test_celeba_frame_contains_the_square_face():
    # The 218x178 frame is the 178x178 square frame with extra rows above and below.
    attrs, tone = random_attrs(2, 3)
    tall = render_faces(attrs, tone, seed=9, size=(218, 178)).astype(int)
    square = render_faces(attrs, tone, seed=9, size=178).astype(int)
    centre = (slice(None), slice(60, 160), slice(40, 138))
    # Sensor noise differs in layout; the drawn face must agree up to it.
    assert np.abs(tall[:, 20:198][centre] - square[centre]).mean() < 8


@pytest.mark.parametrize("bad, field", [
    (dict(attrs=np.zeros((2, 39), bool), skin_tone=np.zeros(2)), "attrs"),
    (dict(attrs=np.full((2, 40), 2), skin_tone=np.zeros(2)), "attrs"),
    (dict(attrs=np.zeros((2, 40), bool), skin_tone=np.zeros(3)), "skin_tone"),
    (dict(attrs=np.zeros((2, 40), bool), skin_tone=np.array([0.1, 1.5])), "skin_tone"),
    (dict(attrs=np.zeros((2, 40), bool), skin_tone=np.zeros(2), size=4), "size"),
])
def test_bad_inputs_raise_data_error(bad, field):
    with pytest.raises(DataError) as e:
        render_faces(**bad)
    assert e.value.field == field
