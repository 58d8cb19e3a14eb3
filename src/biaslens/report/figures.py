"""Writing figures: one atomic PNG writer shared by every plotting module."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically (temp file in the same folder +
    ``os.replace``), readable by others (0644), then release it if pyplot manages it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        import sys

        if "matplotlib.pyplot" in sys.modules:  # a pyplot figure must be closed to free it
            sys.modules["matplotlib.pyplot"].close(fig)
    return path
