"""Figures to bytes and files: PNG bytes for the HTML report and the app, atomic PNG files.

Every plotting module returns a matplotlib ``Figure``; these turn it into something to
embed (:func:`fig_to_png`) or to keep (:func:`save_figure`, written through
:func:`biaslens.io.atomic_write`).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from biaslens.io import atomic_write

__all__ = ["array_to_png", "fig_to_png", "save_figure"]


def _release(fig: Any) -> None:
    """Close ``fig`` if pyplot manages it (a pyplot figure lives until it is closed)."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)


def fig_to_png(fig: Figure, dpi: int = 100, *, tight: bool = False) -> bytes:
    """Render a matplotlib ``Figure`` to PNG bytes (Agg canvas), releasing a pyplot figure.

    ``tight`` crops to the drawn area (``bbox_inches="tight"``, as :func:`save_figure`).
    """
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    finally:
        _release(fig)
    return buf.getvalue()


def array_to_png(image: np.ndarray) -> bytes:
    """uint8 ``(H, W, 3)`` image to PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically (:func:`biaslens.io.atomic_write`),
    cropped to the drawn area, then release it if pyplot manages it."""
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi,
                                                          bbox_inches="tight"))
    finally:
        _release(fig)
