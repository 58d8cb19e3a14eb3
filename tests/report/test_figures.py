"""Figures as PNG bytes or files (report/figures.py)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from biaslens.report.figures import array_to_png, fig_to_png, save_figure

PNG = b"\x89PNG\r\n\x1a\n"


def _fig() -> Figure:
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_fig_to_png_renders_at_the_dpi_and_fits_the_drawing_when_tight():
    png = fig_to_png(_fig(), dpi=50)
    assert png.startswith(PNG)
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (100, 50)
    with Image.open(io.BytesIO(fig_to_png(_fig(), dpi=50, tight=True))) as im:
        assert im.size != (100, 50)          # the box follows what is drawn


def test_array_to_png_round_trips_the_pixels():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(array_to_png(a))) as im:
        assert im.format == "PNG" and np.array_equal(np.asarray(im), a)


def test_save_figure_writes_a_png_atomically(tmp_path):
    path = save_figure(_fig(), tmp_path / "sub" / "plot.png", dpi=40)
    assert path == tmp_path / "sub" / "plot.png" and path.read_bytes().startswith(PNG)
    assert [p.name for p in path.parent.iterdir()] == ["plot.png"]
