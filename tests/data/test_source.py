"""The source table and the value checks the readers share (data/source.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biaslens.data.source import (
    SourceTable,
    check_unique,
    ints_to_bool,
    missing_files,
    require_files,
    split_counts,
)
from biaslens.errors import DataError


def _table(n: int = 4, groups: bool = True) -> SourceTable:
    return SourceTable(filenames=[f"{i}.jpg" for i in range(n)],
                       attrs=np.arange(2 * n).reshape(n, 2) % 3 == 0,
                       attribute_names=["Male", "Young"],
                       split=np.array([0, 1, 2, 0][:n], np.int8),
                       groups=np.arange(n, dtype=np.int16)[:, None] if groups else None,
                       group_names=["skin"] if groups else [], image_dir=Path("imgs"),
                       kind="folder_csv", info={"annotations": "labels.csv"})


def test_select_keeps_rows_in_order_and_to_dict_summarises():
    t = _table()
    s = t.select(np.array([True, False, True, True]))
    assert len(s) == 3 and s.filenames == ["0.jpg", "2.jpg", "3.jpg"]
    np.testing.assert_array_equal(s.attrs, t.attrs[[0, 2, 3]])
    np.testing.assert_array_equal(s.groups[:, 0], [0, 2, 3])
    assert s.to_dict() == {"kind": "folder_csv", "image_dir": "imgs", "n": 3,
                           "attribute_names": ["Male", "Young"], "group_names": ["skin"],
                           "split_counts": {"train": 2, "val": 0, "test": 1},
                           "annotations": "labels.csv"}
    assert _table(groups=False).select(np.ones(4, bool)).groups is None


@pytest.mark.parametrize("change, match", [
    ({"attrs": np.zeros((4, 2), np.int8)}, "attrs must be bool"),
    ({"attrs": np.zeros((4, 3), bool)}, "attrs must be bool"),
    ({"split": np.zeros(4, np.int64)}, "split must be int8"),
    ({"groups": np.zeros((4, 1), np.int32)}, "groups must be int16"),
])
def test_shapes_and_dtypes_are_checked(change, match):
    t = _table()
    fields = {k: getattr(t, k) for k in t.__dataclass_fields__}
    with pytest.raises(ValueError, match=match):
        SourceTable(**{**fields, **change})


def test_split_counts_name_every_split():
    assert split_counts(np.array([2, 2, 0], np.int8)) == {"train": 1, "val": 0, "test": 2}


def test_check_unique_names_the_duplicate():
    check_unique(["a", "b"], path="f.txt")
    with pytest.raises(DataError, match="duplicate group name 'a'") as e:
        check_unique(["a", "b", "a"], path="f.txt", line=2, what="group")
    assert (e.value.path, e.value.line, e.value.field) == ("f.txt", 2, "a")


def test_ints_to_bool_accepts_plus_minus_one_or_zero_one_per_column():
    v = np.array([[1, 0], [-1, 1], [1, 1]])
    np.testing.assert_array_equal(ints_to_bool(v, ["a", "b"], path="f"),
                                  [[True, False], [False, True], [True, True]])
    with pytest.raises(DataError, match="value 2 must be -1, 0 or 1") as e:
        ints_to_bool(np.array([[1, 0], [2, 1]]), ["a", "b"], path="f", lines=np.array([3, 4]))
    assert (e.value.line, e.value.field) == (4, "a")
    with pytest.raises(DataError, match="value 0 mixes -1 and 0") as e:
        ints_to_bool(np.array([[1, -1], [1, 0]]), ["a", "b"], path="f", lines=np.array([3, 4]))
    assert (e.value.line, e.value.field) == (4, "b")


def test_missing_and_required_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.jpg", "sub/b.jpg"):
        (tmp_path / name).write_bytes(b"")
    names = ["a.jpg", "sub/b.jpg", "c.jpg", "sub/d.jpg", "nodir/e.jpg", "sub"]
    assert missing_files(tmp_path, names) == ["c.jpg", "sub/d.jpg", "nodir/e.jpg", "sub"]
    require_files(tmp_path, names[:2], listed_in="list.txt")
    with pytest.raises(DataError, match=r"listed image 'c.jpg' not found .* \(4 missing in "
                                        r"all, of 6 listed; next: sub/d.jpg, nodir/e.jpg, "
                                        r"sub\)$") as e:
        require_files(tmp_path, names, listed_in="list.txt", lines=np.arange(2, 8))
    assert (e.value.path, e.value.line) == ("list.txt", 4)
