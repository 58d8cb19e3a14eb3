"""The image folder + CSV source (data/folder_csv.py): columns, groups, split, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.data.folder_csv import read_folder_csv
from biaslens.errors import DataError


def test_folder_csv_source(folder_csv):
    img_dir, csv_path, truth = folder_csv
    t = read_folder_csv(img_dir, csv_path, group_columns=["race", "skin"])
    assert t.kind == "folder_csv" and t.filenames == truth["files"]
    assert t.attribute_names == ["Smiling", "Young"]
    np.testing.assert_array_equal(t.attrs[:, 0], truth["Smiling"])
    np.testing.assert_array_equal(t.attrs[:, 1], truth["Young"])
    np.testing.assert_array_equal(t.split, np.searchsorted(["test", "train", "val"],
                                                           truth["split"]).choose([2, 0, 1]))
    levels = t.info["group_levels"]["race"]
    assert levels == sorted(set(truth["race"]))
    np.testing.assert_array_equal(np.array(levels)[t.groups[:, 0]], truth["race"])
    np.testing.assert_array_equal(t.groups[:, 1], truth["skin"])
    assert "skin" not in t.info["group_levels"]


def _set_field(line: str, i: int, value: str) -> str:
    fields = line.split(",")
    fields[i] = value
    return ",".join(fields)


@pytest.mark.parametrize("edit, match, line", [
    (lambda ls: ls[:3] + [_set_field(ls[3], 1, "2")] + ls[4:], "value '2' must be", 4),
    (lambda ls: ls[:3] + [_set_field(ls[3], 2, "")] + ls[4:], "value '' must be", 4),
    (lambda ls: ls[:2] + [ls[2] + ",extra"] + ls[3:], "expected 6 fields", 3),
    (lambda ls: ls[:5] + [ls[5].replace("img_4.", "missing.")] + ls[6:], "'missing.jpg' not", 6),
    (lambda ls: ls[:6] + [ls[6].rsplit(",", 1)[0] + ",dev"] + ls[7:], "split must be", 7),
    (lambda ls: [ls[0].replace("Young", "Smiling")] + ls[1:], "duplicate column", 1),
    (lambda ls: ls[:4] + [ls[2]] + ls[5:], "listed twice", 5),
])
def test_folder_csv_bad_input(folder_csv, edit, match, line):
    img_dir, csv_path, _ = folder_csv
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(edit(lines)) + "\n")
    with pytest.raises(DataError, match=match) as e:
        read_folder_csv(img_dir, csv_path, group_columns=["race", "skin"])
    assert e.value.line == line and e.value.path.endswith("labels.csv")


def test_folder_csv_unknown_group_column(folder_csv):
    img_dir, csv_path, _ = folder_csv
    with pytest.raises(DataError, match="no column 'ethnicity'; columns are: file,"):
        read_folder_csv(img_dir, csv_path, group_columns=["ethnicity"])


def _with_column(csv_path, name, values):
    lines = csv_path.read_text().splitlines()
    lines = [f"{lines[0]},{name}"] + [f"{ln},{v}" for ln, v in zip(lines[1:], values)]
    csv_path.write_text("\n".join(lines) + "\n")


def test_identity_column_numbers_or_names(folder_csv):
    img_dir, csv_path, truth = folder_csv
    _with_column(csv_path, "person", [41, 41, 7, 7, 7, 9, 9, 9, 9, 3, 3, 41])
    t = read_folder_csv(img_dir, csv_path, identity_column="person", group_columns=["race"])
    assert t.identities.tolist() == [41, 41, 7, 7, 7, 9, 9, 9, 9, 3, 3, 41]
    assert "person" not in t.attribute_names and t.info["identity_column"] == "person"
    _, csv2, _ = folder_csv
    text = csv2.read_text().splitlines()
    names = ["ann", "ann", "bo", "bo", "cy", "cy", "cy", "di", "di", "ed", "ed", "ann"]
    csv2.write_text("\n".join([text[0]] + [ln.rsplit(",", 1)[0] + f",{p}"
                                           for ln, p in zip(text[1:], names)]) + "\n")
    t = read_folder_csv(img_dir, csv2, identity_column="person", group_columns=["race"])
    assert t.identities.tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 0]
    with pytest.raises(DataError, match="no column 'who'"):
        read_folder_csv(img_dir, csv2, identity_column="who", group_columns=["race"])
    with pytest.raises(DataError, match="both the identity column and a group column"):
        read_folder_csv(img_dir, csv2, identity_column="race", group_columns=["race"])


def test_only_present_for_a_folder_csv(folder_csv):
    img_dir, csv_path, truth = folder_csv
    (img_dir / truth["files"][4]).unlink()
    with pytest.raises(DataError, match="only_present=True to ingest the 11 listed images"):
        read_folder_csv(img_dir, csv_path, group_columns=["race"])
    t = read_folder_csv(img_dir, csv_path, group_columns=["race"], only_present=True)
    assert len(t) == 11 and truth["files"][4] not in t.filenames and t.info["left_out"] == 1
