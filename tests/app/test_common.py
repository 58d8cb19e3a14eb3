"""Unit tests of the app's plain helpers (no Streamlit)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from biaslens.app.common import MAX_UPLOAD_BYTES, decode_upload, target_options
from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES, resolve_attribute


def test_target_options_cover_both_signs_and_resolve():
    opts = target_options(CELEBA_ATTRIBUTES)
    assert len(opts) == 2 * len(CELEBA_ATTRIBUTES)
    for label, target in opts.items():
        idx, sign = resolve_attribute(target)
        assert label.split(" ", 1)[1] == CELEBA_ATTRIBUTES[idx]
        assert sign == (1 if label.startswith("more ") else -1)


@pytest.mark.parametrize("fmt,mode,shape", [("PNG", "RGB", (30, 50, 3)), ("JPEG", "L", (70, 40)),
                                            ("PNG", "RGBA", (20, 20, 4))])
def test_decode_upload_crops_and_resizes(fmt, mode, shape):
    arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, fmt)
    out = decode_upload(buf.getvalue(), 16)
    assert out.shape == (1, 16, 16, 3) and out.dtype == np.uint8
    assert out.flags.writeable


def test_decode_upload_keeps_a_uniform_colour():
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), (10, 200, 30)).save(buf, "PNG")
    out = decode_upload(buf.getvalue(), 8)
    assert np.all(np.abs(out.astype(int) - [10, 200, 30]) <= 1)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=256))
def test_decode_upload_refuses_non_images(data):
    with pytest.raises(DataError, match="x.bin"):
        decode_upload(data, 8, name="x.bin")


def test_decode_upload_refuses_huge_files():
    with pytest.raises(DataError, match="limit"):
        decode_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), 8)
