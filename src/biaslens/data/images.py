"""Decode, crop and resize images into uint8 HWC arrays.

Decoding uses JPEG DCT-domain downscaling (PIL ``Image.draft``): when the crop box is
larger than the target, the decoder itself produces a 1/2, 1/4 or 1/8 scale image that
is still at least as large as the target, which skips most of the inverse DCT work.
The crop is then applied as a (float) ``box`` of ``Image.resize`` in the reduced image,
so crop + resize is a single antialiased resampling step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from biaslens.errors import DataError

#: CelebA's usual face crop on the 178x218 aligned images: the 178x178 square at row 20.
CELEBA_CROP: tuple[int, int, int, int] = (20, 0, 178, 178)

Crop = tuple[int, int, int, int] | str | None   # (top, left, height, width), "center" or None

__all__ = ["CELEBA_CROP", "parse_crop", "crop_box", "load_image", "decode_batch", "BadImage"]


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


def load_image(path: str | Path, *, size: int | tuple[int, int], crop: Crop = CELEBA_CROP,
               draft: bool = True) -> np.ndarray:
    """Decode one image to uint8 (H, W, 3) after cropping and resizing.

    Parameters
    ----------
    path : image file (any format PIL reads; JPEG gets DCT-domain downscaling).
    size : target side, or ``(height, width)``.
    crop : see :func:`parse_crop` (already parsed).
    draft : use JPEG draft decoding when shrinking.

    Raises :class:`BadImage` for unreadable, truncated or too small images.
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
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
                 draft: bool = True) -> tuple[np.ndarray, list[tuple[int, str]]]:
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
            out[k] = load_image(root / name, size=size, crop=crop, draft=draft)
            k += 1
        except BadImage as exc:
            bad.append((i, str(exc)))
    return out[:k], bad
