"""Decode, crop and resize images into uint8 HWC arrays.

Decoding uses JPEG DCT-domain downscaling: when the crop box is larger than the target,
the decoder itself produces a 1/2, 1/4 or 1/8 scale image that is still at least as
large as the target, which skips most of the inverse DCT work. Two decoders do that:

- ``"opencv"`` (OpenCV's ``IMREAD_REDUCED_COLOR_{2,4,8}``, libjpeg-turbo, then an
  area-averaging ``cv2.resize`` of the crop): the fastest measured, about 2x PIL's
  draft per core on 178x218 CelebA JPEGs (``benchmarks/ingest.py``, ``docs/data.md``);
  used for complete JPEG files when ``opencv-python-headless`` is installed;
- ``"pil"`` (``Image.draft``): the crop is applied as a (float) ``box`` of
  ``Image.resize`` in the reduced image, so crop + resize is a single antialiased
  resampling step; every other format, damaged files (so the error is PIL's clear one)
  and ``draft=False`` (the full-decode reference) go this way.

Both stay within about 1 grey level (mean absolute difference) of a full decode + resize;
the manifest of a cache records which decoder made it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from biaslens.errors import DataError

#: CelebA's usual face crop on the 178x218 aligned images: the 178x178 square at row 20.
CELEBA_CROP: tuple[int, int, int, int] = (20, 0, 178, 178)

Crop = tuple[int, int, int, int] | str | None   # (top, left, height, width), "center" or None

#: JPEG decoders: "auto" = "opencv" when importable, else "pil".
DECODERS: tuple[str, ...] = ("auto", "opencv", "pil")

__all__ = ["CELEBA_CROP", "DECODERS", "parse_crop", "crop_box", "load_image", "decode_batch",
           "BadImage", "resolve_decoder"]


class BadImage(Exception):
    """An image that cannot be decoded or cropped; ``str()`` is the reason."""


def parse_crop(spec: str | Sequence[int] | None) -> Crop:
    """Normalize a crop spec.

    Accepts ``"celeba"`` (:data:`CELEBA_CROP`), ``"center"`` (the largest centred
    square of each image), ``None`` / ``"none"`` (whole image, squashed to the target),
    ``"top,left,height,width"`` or a 4-sequence of ints.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "none":
            return None
        if key == "celeba":
            return CELEBA_CROP
        if key in ("center", "centre"):
            return "center"
        parts = key.split(",")
        try:
            box = tuple(int(p) for p in parts)
        except ValueError:
            box = ()
        if len(box) != 4:
            raise DataError(f"crop must be 'celeba', 'center', 'none' or top,left,height,width; "
                            f"got {spec!r}", field="crop")
    else:
        box = tuple(int(v) for v in spec)
        if len(box) != 4:
            raise DataError(f"crop must have 4 numbers (top, left, height, width), got {spec!r}",
                            field="crop")
    top, left, height, width = box
    if top < 0 or left < 0 or height <= 0 or width <= 0:
        raise DataError(f"crop {box} needs top, left >= 0 and height, width > 0", field="crop")
    return (top, left, height, width)


def crop_box(crop: Crop, width: int, height: int) -> tuple[int, int, int, int]:
    """Resolve ``crop`` for a ``width`` x ``height`` image to ``(top, left, h, w)``.

    Raises :class:`BadImage` when a fixed box does not fit inside the image.
    """
    if crop is None:
        return (0, 0, height, width)
    if crop == "center":
        side = min(width, height)
        return ((height - side) // 2, (width - side) // 2, side, side)
    top, left, h, w = crop
    if top + h > height or left + w > width:
        raise BadImage(f"crop box (top={top}, left={left}, height={h}, width={w}) does not fit "
                       f"in a {width}x{height} image")
    return crop


@lru_cache(maxsize=1)
def _cv2() -> Any:
    """OpenCV, single-threaded (ingest parallelizes over processes), or None."""
    try:
        import cv2
    except ImportError:
        return None
    cv2.setNumThreads(1)
    return cv2


def resolve_decoder(decoder: str = "auto") -> str:
    """``"auto"`` -> ``"opencv"`` when OpenCV imports, else ``"pil"``; checks the name."""
    key = str(decoder).strip().lower()
    if key not in DECODERS:
        raise DataError(f"unknown decoder {decoder!r}; valid: {', '.join(DECODERS)}",
                        field="decoder")
    if key == "auto":
        return "opencv" if _cv2() is not None else "pil"
    if key == "opencv" and _cv2() is None:
        raise DataError("decoder 'opencv' needs opencv-python-headless (pip install "
                        "opencv-python-headless)", field="decoder")
    return key


#: JPEG start-of-frame markers (baseline, progressive, ...; not DHT/JPG/DAC)
_SOF = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                  0xCF))


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's start-of-frame segment (a walk over the few
    segment headers before it: 15x cheaper than opening the file with PIL), or None."""
    i, n = 2, len(data)
    while i + 9 < n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                              # fill byte
            i += 1
            continue
        if marker in _SOF:
            return (int.from_bytes(data[i + 7:i + 9], "big"),
                    int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def _opencv_reduced(data: bytes, crop: Crop, out_h: int, out_w: int) -> np.ndarray | None:
    """JPEG bytes -> uint8 (out_h, out_w, 3) via OpenCV's reduced decode, or None when the
    file is not a complete JPEG (PIL then decodes it, or names what is wrong)."""
    cv2 = _cv2()
    if not data.startswith(b"\xff\xd8") or b"\xff\xd9" not in data[-4096:]:
        return None                                   # not a JPEG, or truncated
    size = _jpeg_size(data)
    if size is None:                                  # an odd header: PIL reads it
        with Image.open(io.BytesIO(data)) as im:
            size = im.size
    full_w, full_h = size
    top, left, h, w = crop_box(crop, full_w, full_h)
    r = 8
    while r > 1 and (h / r < out_h or w / r < out_w):  # the smallest decode >= the target
        r //= 2
    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
            4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}[r]
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None:
        return None
    sy, sx = arr.shape[0] / full_h, arr.shape[1] / full_w
    t, lf = int(round(top * sy)), int(round(left * sx))
    part = arr[t:t + max(1, int(round(h * sy))), lf:lf + max(1, int(round(w * sx)))]
    shrink = part.shape[0] >= out_h and part.shape[1] >= out_w
    out = cv2.resize(part, (out_w, out_h),
                     interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.ascontiguousarray(out[..., ::-1])       # BGR -> RGB


def load_image(path: str | Path, *, size: int | tuple[int, int], crop: Crop = CELEBA_CROP,
               draft: bool = True, decoder: str = "auto") -> np.ndarray:
    """Decode one image to uint8 (H, W, 3) after cropping and resizing.

    Parameters
    ----------
    path : image file (any format PIL reads; JPEG gets DCT-domain downscaling).
    size : target side, or ``(height, width)``.
    crop : see :func:`parse_crop` (already parsed).
    draft : use reduced (DCT-domain) JPEG decoding when shrinking.
    decoder : ``"auto"``, ``"opencv"`` or ``"pil"`` for that reduced decode (see the module
        docstring); ``draft=False`` always decodes in full with PIL.

    Raises :class:`BadImage` for unreadable, truncated or too small images.
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
    if draft and resolve_decoder(decoder) == "opencv":
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise BadImage(f"cannot decode: {exc}") from None
        out = _opencv_reduced(data, crop, out_h, out_w)
        if out is not None:
            return out
    try:
        with Image.open(path) as im:
            top, left, h, w = crop_box(crop, *im.size)
            full_w, full_h = im.size
            if draft and im.format == "JPEG" and (h > out_h or w > out_w):
                # ask for the smallest decode whose crop is still >= the target
                im.draft("RGB", (math.ceil(full_w * out_w / w), math.ceil(full_h * out_h / h)))
            sx, sy = im.size[0] / full_w, im.size[1] / full_h
            if im.mode != "RGB":
                im = im.convert("RGB")
            box = (left * sx, top * sy, (left + w) * sx, (top + h) * sy)
            out = im.resize((out_w, out_h), Image.Resampling.BILINEAR, box=box)
            return np.asarray(out, dtype=np.uint8)
    except BadImage:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError,
            Image.DecompressionBombError) as exc:
        raise BadImage(f"cannot decode: {exc}") from None


def decode_batch(image_dir: str, filenames: Sequence[str], size: int, crop: Crop,
                 draft: bool = True, decoder: str = "auto"
                 ) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Decode a chunk of images (the unit of work of one ingest worker).

    Returns ``(images uint8 (k, size, size, 3), bad)`` where ``images`` holds the good
    images in order and ``bad`` lists ``(position in filenames, reason)`` for the others.
    """
    out = np.empty((len(filenames), size, size, 3), dtype=np.uint8)
    bad: list[tuple[int, str]] = []
    k = 0
    root = Path(image_dir)
    for i, name in enumerate(filenames):
        try:
            out[k] = load_image(root / name, size=size, crop=crop, draft=draft,
                                decoder=decoder)
            k += 1
        except BadImage as exc:
            bad.append((i, str(exc)))
    return out[:k], bad
