"""File-writing conventions (io.py): atomic writes, umask modes, strict JSON."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from biaslens.io import (
    atomic_write,
    file_mode,
    json_float,
    json_floats,
    jsonable,
    write_json,
    write_text,
)


def test_atomic_write_creates_parents_and_replaces(tmp_path):
    path = tmp_path / "a" / "b.txt"
    assert write_text(path, "one") == path and path.read_text() == "one"
    write_text(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["b.txt"]       # no temp file left
    assert stat.S_IMODE(os.stat(path).st_mode) == file_mode()


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = write_text(tmp_path / "keep.txt", "old")

    def fail(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_file_mode_follows_the_umask():
    old = os.umask(0o027)
    try:
        assert file_mode() == 0o640
    finally:
        os.umask(old)


def test_json_floats_map_non_finite_to_none():
    assert json_float(np.float32(1.5)) == 1.5 and json_float(float("inf")) is None
    assert json_floats(np.array([[1, np.nan], [-np.inf, 2]])) == [[1.0, None], [None, 2.0]]
    assert json_floats(np.float64(np.nan)) is None


def test_jsonable_converts_numpy_paths_tuples_modules_and_callables():
    obj = {1: (np.int64(3), np.bool_(True)), "p": Path("a/b"), "x": np.array([0.5, np.nan]),
           "m": torch.nn.Linear(1, 1), "f": print, "s": "text", "n": None}
    assert jsonable(obj) == {"1": [3, True], "p": "a/b", "x": [0.5, None], "m": "<Linear>",
                             "f": None, "s": "text", "n": None}


def test_write_json_is_strict_indented_and_ends_with_a_newline(tmp_path):
    path = write_json({"a": float("nan"), "b": [1, 2.5]}, tmp_path / "r.json")
    text = path.read_text()
    assert text.endswith("\n") and "NaN" not in text and text.startswith('{\n  "a": null')
    assert json.loads(text) == {"a": None, "b": [1, 2.5]}


def test_atomic_folder_swaps_whole_folders_and_keeps_the_old_on_error(tmp_path):
    import pytest

    from biaslens.io import atomic_folder

    dest = tmp_path / "latest"
    atomic_folder(dest, lambda t: (t / "a.txt").write_text("1"))
    atomic_folder(dest, lambda t: (t / "b.txt").write_text("2"))
    assert sorted(p.name for p in dest.iterdir()) == ["b.txt"]

    def broken(t):
        (t / "half.txt").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_folder(dest, broken)
    assert sorted(p.name for p in dest.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]   # no temp left
