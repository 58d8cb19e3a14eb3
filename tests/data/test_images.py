"""Image decode / crop / resize."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from biaslens.data.images import (
    CELEBA_CROP,
    BadImage,
    crop_box,
    decode_batch,
    load_image,
    parse_crop,
)
from biaslens.errors import DataError


@pytest.mark.parametrize("spec, expected", [
    ("celeba", CELEBA_CROP), ("none", None), (None, None), ("center", "center"),
    ("1,2,30,40", (1, 2, 30, 40)), ((0, 0, 5, 6), (0, 0, 5, 6)),
])
def test_parse_crop(spec, expected):
    assert parse_crop(spec) == expected


@pytest.mark.parametrize("spec", ["1,2,3", "a,b,c,d", "0,0,0,10", "-1,0,5,5", "square"])
def test_parse_crop_rejects(spec):
    with pytest.raises(DataError, match="crop"):
        parse_crop(spec)


def test_center_box_and_fit_check():
    assert crop_box("center", 90, 70) == (0, 10, 70, 70)
    assert crop_box(None, 90, 70) == (0, 0, 70, 90)
    with pytest.raises(BadImage, match="does not fit"):
        crop_box(CELEBA_CROP, 100, 100)


def _banded(tmp_path, fmt="JPEG"):
    """178x218 image: red above row 20, blue below row 198, green between."""
    arr = np.zeros((218, 178, 3), np.uint8)
    arr[:20] = (255, 0, 0)
    arr[20:198] = (0, 255, 0)
    arr[198:] = (0, 0, 255)
    path = tmp_path / f"banded.{fmt.lower()}"
    Image.fromarray(arr).save(path, format=fmt, quality=95)
    return path


@pytest.mark.parametrize("draft", [True, False])
def test_celeba_crop_keeps_only_the_face_square(tmp_path, draft):
    out = load_image(_banded(tmp_path), size=32, crop=CELEBA_CROP, draft=draft)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    inner = out[1:-1].astype(int)          # JPEG chroma bleeds one row at the borders
    assert inner[..., 1].min() > 200 and inner[..., 0].max() < 60 and inner[..., 2].max() < 60


def test_no_crop_keeps_the_bands(tmp_path):
    out = load_image(_banded(tmp_path, "PNG"), size=(218, 178), crop=None)
    assert out.shape == (218, 178, 3)
    assert tuple(out[5, 5]) == (255, 0, 0) and tuple(out[210, 5]) == (0, 0, 255)


def test_draft_matches_full_decode(tmp_path, make_images):
    arr = make_images(1, seed=1)[0]
    path = tmp_path / "a.jpg"
    Image.fromarray(arr).save(path, quality=90)
    fast = load_image(path, size=64, crop=CELEBA_CROP, draft=True).astype(int)
    slow = load_image(path, size=64, crop=CELEBA_CROP, draft=False).astype(int)
    ref = np.asarray(Image.fromarray(arr[20:198]).resize((64, 64), Image.Resampling.BILINEAR))
    assert np.abs(fast - slow).mean() < 3
    assert np.abs(fast - ref.astype(int)).mean() < 4


def test_grayscale_becomes_rgb(tmp_path):
    path = tmp_path / "g.jpg"
    Image.fromarray(np.full((218, 178), 77, np.uint8), mode="L").save(path)
    out = load_image(path, size=16, crop=CELEBA_CROP)
    assert out.shape == (16, 16, 3) and np.abs(out.astype(int) - 77).max() <= 2


def test_truncated_and_garbage_files_are_bad(tmp_path, make_images):
    good = tmp_path / "good.jpg"
    Image.fromarray(make_images(1, seed=2)[0]).save(good, quality=90)
    data = good.read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    for name in ("trunc.jpg", "junk.jpg"):
        with pytest.raises(BadImage, match="cannot decode"):
            load_image(tmp_path / name, size=16)
    images, bad = decode_batch(str(tmp_path), ["good.jpg", "trunc.jpg", "good.jpg", "junk.jpg"],
                               16, CELEBA_CROP)
    assert images.shape == (2, 16, 16, 3)
    assert [i for i, _ in bad] == [1, 3]
    np.testing.assert_array_equal(images[0], images[1])


# ---------------------------------------------------------------- decoders
from biaslens.data.images import resolve_decoder  # noqa: E402
from biaslens.errors import DataError  # noqa: E402

cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize("crop,size", [(CELEBA_CROP, 64), (CELEBA_CROP, 32), ("center", 20),
                                       (None, (50, 40)), (CELEBA_CROP, 200)])
def test_opencv_and_pil_reduced_decodes_match_the_full_decode(tmp_path, make_images, crop,
                                                              size):
    arr = make_images(1, seed=4)[0]
    path = tmp_path / "a.jpg"
    Image.fromarray(arr).save(path, quality=90)
    full = load_image(path, size=size, crop=crop, draft=False).astype(int)
    fast = load_image(path, size=size, crop=crop, decoder="opencv").astype(int)
    pil = load_image(path, size=size, crop=crop, decoder="pil").astype(int)
    assert fast.shape == full.shape == pil.shape
    assert np.abs(fast - full).mean() < 2 and np.abs(pil - full).mean() < 2
    assert resolve_decoder("auto") == "opencv"


def test_opencv_path_leaves_damaged_files_and_other_formats_to_pil(tmp_path, make_images):
    arr = make_images(1, seed=5)[0]
    Image.fromarray(arr).save(tmp_path / "a.png")
    png = load_image(tmp_path / "a.png", size=16, decoder="opencv")
    assert png.shape == (16, 16, 3)
    Image.fromarray(arr).save(tmp_path / "b.jpg", quality=90)
    data = (tmp_path / "b.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])      # truncated: no EOI marker
    with pytest.raises(BadImage, match="cannot decode"):
        load_image(tmp_path / "t.jpg", size=16, decoder="opencv")
    with pytest.raises(BadImage, match="cannot decode"):
        load_image(tmp_path / "missing.jpg", size=16, decoder="opencv")
    with pytest.raises(DataError, match="unknown decoder 'turbo'"):
        resolve_decoder("turbo")


@pytest.mark.parametrize("kw", [{}, {"progressive": True}, {"exif": b"Exif\x00\x00" + b"\x00" * 40},
                                {"dpi": (300, 300)}])
def test_jpeg_size_from_the_frame_header(tmp_path, make_images, kw):
    from biaslens.data.images import _jpeg_size

    Image.fromarray(make_images(1, seed=6, width=91, height=57)[0]).save(tmp_path / "a.jpg",
                                                                         **kw)
    assert _jpeg_size((tmp_path / "a.jpg").read_bytes()) == (91, 57)
    assert _jpeg_size(b"\xff\xd8\x00junk") is None
