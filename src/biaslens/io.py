"""File-writing conventions: atomic writes, strict JSON (NaN -> null), shareable modes.

Every file biaslens writes goes through :func:`atomic_write` (a temp file in the same
folder, then ``os.replace``), so a reader never sees a half-written output, and gets
the permissions the user's umask gives an ordinary new file (``mkstemp`` alone makes
0600). JSON is written strictly: NaN and ±inf become ``null``, so any parser reads it.

>>> jsonable({"a": float("nan"), "b": (1, 2.5)})
{'a': None, 'b': [1, 2.5]}
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write", "dir_mode", "file_mode", "json_float", "json_floats", "jsonable",
           "write_json", "write_text"]


def file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def dir_mode() -> int:
    """The mode a plain ``mkdir`` would give a new folder under the current umask
    (``tempfile.mkdtemp`` alone makes 0700)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, then rename it over ``path``.

    The parent folder is created; on any error the temp file is removed and ``path`` is
    left as it was. The file gets the umask's ordinary mode (:func:`file_mode`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_folder(path: str | Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(tmp_folder)`` on a new folder beside ``path``, then swap it in by renames:
    the old folder goes to ``.<name>.old`` (removed after), so a crash leaves either the
    old or the new folder, never half of one (a reader may look in ``.<name>.old``).

    The folder gets the umask's mode (:func:`dir_mode`); on an error in ``fill`` the temp
    folder is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    os.chmod(tmp, dir_mode())  # mkdtemp makes 0700
    try:
        fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(f".{path.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def json_float(x: Any) -> float | None:
    """JSON-safe float (NaN/inf -> None)."""
    x = float(x)
    return x if math.isfinite(x) else None


def json_floats(a: Any) -> Any:
    """Nested list of JSON-safe floats for an array of any rank."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return json_float(a)
    return [json_floats(r) for r in a] if a.ndim > 1 else [json_float(v) for v in a]


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays, paths and tuples made JSON types and NaN/inf -> None.

    Modules become ``"<ClassName>"`` and other callables ``None`` (run configs may hold a
    model or a progress callback).
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_float(obj)
    if hasattr(obj, "parameters") and hasattr(obj, "forward"):  # an nn.Module
        return f"<{type(obj).__name__}>"
    if callable(obj):
        return None
    return obj


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as strict JSON (NaN -> null, indent 2, trailing newline), atomically."""
    text = json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"
    return write_text(path, text)
