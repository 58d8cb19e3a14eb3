"""Plain helpers of the app (no Streamlit): input bounds, target choices, uploads, tables.

Kept free of Streamlit so they are unit-tested directly; the page modules only wire
widgets to these and to the library.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from biaslens.errors import DataError

__all__ = ["MAX_COUNTERFACTUAL", "MAX_FACES", "MAX_POPULATION", "MAX_STEPS", "MAX_UPLOAD_BYTES",
           "decode_upload", "steer_rows", "target_options"]

#: Upper bounds of every size widget, so no setting can exhaust memory.
MAX_FACES = 64
MAX_STEPS = 60
MAX_POPULATION = 4096
MAX_COUNTERFACTUAL = 256
MAX_UPLOAD_BYTES = 10 * 2**20


def target_options(names: Sequence[str]) -> dict[str, str]:
    """Display label -> steering target, both signs of every attribute.

    >>> target_options(["Male"])
    {'more Male': 'Male', 'less Male': '-Male'}
    """
    out: dict[str, str] = {}
    for n in names:
        out[f"more {n}"] = n
        out[f"less {n}"] = f"-{n}"
    return out


def decode_upload(data: bytes, size: int, *, name: str = "upload") -> np.ndarray:
    """Decode an uploaded image file into uint8 ``(1, size, size, 3)`` (centre crop, resize).

    Anything that is not a decodable image (or is larger than :data:`MAX_UPLOAD_BYTES`)
    raises :class:`DataError` naming the file.
    """
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(f"file is {len(data) / 2**20:.1f} MiB; the limit is "
                        f"{MAX_UPLOAD_BYTES // 2**20} MiB", path=name)
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DataError("not an image file (expected PNG, JPEG, ...)", path=name) from None
    w, h = rgb.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    rgb = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    return np.array(rgb, dtype=np.uint8)[None]  # a writable copy (torch warns on read-only)


def _finite(x: float, digits: int | None = None) -> float | None:
    """``x`` rounded to ``digits`` (as a float when ``None``), or ``None`` when undefined."""
    if not np.isfinite(x):
        return None
    return float(x) if digits is None else round(x, digits)


def steer_rows(result: Any, top_k: int = 10) -> list[dict[str, Any]]:
    """The top-``k`` rows of a :class:`~biaslens.audit.steer.SteerResult` as app table rows:
    :func:`biaslens.report.plots_steer.steer_rows`, rounded for display."""
    from biaslens.report.plots_steer import steer_rows as ranked_rows

    rows = []
    for r in ranked_rows(result, top_k):
        rows.append({"attribute": r["attribute"], "covariance": round(r["covariance"], 4),
                     "CI low": _finite(r["ci_low"], 4), "CI high": _finite(r["ci_high"], 4),
                     "q-value": _finite(r["q_value"]), "significant": r["significant"]})
        if "path_slope" in r:
            rows[-1].update({"path slope": round(r["path_slope"], 3),
                             "data slope": round(r["data_slope"], 3),
                             "beyond data": r["beyond_data"]})
    return rows
