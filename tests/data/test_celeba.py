"""CelebA readers: round trips, every bad-input case, property tests of the parsers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.data.celeba import (
    format_table,
    parse_attr_file,
    parse_groups_file,
    parse_partition_file,
    read_celeba,
)
from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES


def test_read_celeba_round_trip(celeba):
    root, truth = celeba
    t = read_celeba(root)
    assert t.kind == "celeba"
    assert t.filenames == truth["files"]
    np.testing.assert_array_equal(t.attrs, truth["attrs"])
    assert t.attribute_names == list(CELEBA_ATTRIBUTES)
    np.testing.assert_array_equal(t.split, truth["split"])
    assert t.split.dtype == np.int8
    np.testing.assert_array_equal(t.groups, truth["groups"])
    assert t.groups.dtype == np.int16
    assert t.group_names == ["skin_type", "age_band"]
    assert t.image_dir == root / "img_align_celeba"


def test_torchvision_layout(tmp_path, make_celeba):
    truth = make_celeba(tmp_path / "celeba", n=5)
    t = read_celeba(tmp_path)
    assert t.filenames == truth["files"]
    assert t.groups is None and t.group_names == []


def test_no_partition_means_all_train_with_note(tmp_path, make_celeba):
    make_celeba(tmp_path, n=6, partition=False)
    t = read_celeba(tmp_path)
    assert (t.split == 0).all()
    assert any("list_eval_partition.txt" in note for note in t.info["notes"])


def test_partition_in_other_order_is_aligned(celeba):
    root, truth = celeba
    rows = list(zip(truth["files"], truth["split"]))[::-1]
    (root / "list_eval_partition.txt").write_text("".join(f"{f}  {s}\n" for f, s in rows))
    np.testing.assert_array_equal(read_celeba(root).split, truth["split"])


def _attr_file(root: Path) -> Path:
    return root / "list_attr_celeba.txt"


def _edit_line(path: Path, line: int, fn) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = fn(lines[line - 1])
    path.write_text("\n".join(lines) + "\n")


def test_header_count_mismatch(celeba):
    root, _ = celeba
    _edit_line(_attr_file(root), 1, lambda s: "21")
    with pytest.raises(DataError, match="header says 21 images but the file has 20") as e:
        read_celeba(root)
    assert e.value.line == 1 and e.value.path.endswith("list_attr_celeba.txt")


def test_unknown_attribute_name(celeba):
    root, _ = celeba
    _edit_line(_attr_file(root), 2, lambda s: s.replace("Smiling", "Smilling"))
    with pytest.raises(DataError, match="unknown attribute 'Smilling'.*Smiling") as e:
        read_celeba(root)
    assert e.value.line == 2 and e.value.field == "Smilling"


def test_duplicate_attribute_name(celeba):
    root, _ = celeba
    _edit_line(_attr_file(root), 2, lambda s: s.replace("Young", "Male"))
    with pytest.raises(DataError, match="duplicate attribute name 'Male'"):
        read_celeba(root)


def _set_value(path: Path, line: int, column: int, value: str) -> None:
    """Set value number ``column`` (1-based, after the file name) on ``line``."""
    def edit(s: str) -> str:
        parts = s.split()
        parts[column] = value
        return " ".join(parts)
    _edit_line(path, line, edit)


@pytest.mark.parametrize("bad", ["2", "x", "1.0"])
def test_bad_value_names_line_and_column(celeba, bad):
    root, _ = celeba
    _set_value(_attr_file(root), 9, 4, bad)
    with pytest.raises(DataError, match=f"value '?{bad}'? ") as e:
        read_celeba(root)
    assert e.value.line == 9 and e.value.field == "Bags_Under_Eyes"


def test_zero_in_a_plus_minus_one_column_is_ambiguous(celeba):
    root, _ = celeba
    _set_value(_attr_file(root), 3, 4, "-1")
    _set_value(_attr_file(root), 9, 4, "0")
    with pytest.raises(DataError, match="mixes -1 and 0") as e:
        read_celeba(root)
    assert e.value.line == 9 and e.value.field == "Bags_Under_Eyes"


def test_zero_one_coding_is_accepted(tmp_path, make_celeba):
    truth = make_celeba(tmp_path, n=4)
    path = _attr_file(tmp_path)
    path.write_text(path.read_text().replace("-1", " 0"))
    np.testing.assert_array_equal(read_celeba(tmp_path).attrs, truth["attrs"])


def test_row_with_missing_value(celeba):
    root, _ = celeba
    _edit_line(_attr_file(root), 5, lambda s: s.rsplit(" ", 1)[0])
    with pytest.raises(DataError, match=r"expected 41 fields \(a file name and 40 values\), got 40"
                       ) as e:
        read_celeba(root)
    assert e.value.line == 5


def test_missing_image(celeba):
    root, truth = celeba
    (truth["img_dir"] / "000004.jpg").unlink()
    with pytest.raises(DataError, match="'000004.jpg' not found") as e:
        read_celeba(root)
    assert e.value.line == 6


def test_partition_disagrees(celeba):
    root, truth = celeba
    part = root / "list_eval_partition.txt"
    _edit_line(part, 3, lambda s: s.replace("000003.jpg", "999999.jpg"))
    with pytest.raises(DataError, match="000003.jpg.*disagrees"):
        read_celeba(root)
    _edit_line(part, 3, lambda s: s.replace("999999.jpg", "000003.jpg"))
    part.write_text(part.read_text() + "000099.jpg 1\n")
    with pytest.raises(DataError, match="000099.jpg.*not in list_attr_celeba.txt") as e:
        read_celeba(root)
    assert e.value.line == 21


def test_partition_bad_split_value(celeba):
    root, _ = celeba
    _edit_line(root / "list_eval_partition.txt", 4, lambda s: s.split()[0] + " 3")
    with pytest.raises(DataError, match="split must be 0") as e:
        read_celeba(root)
    assert e.value.line == 4


def test_duplicate_image_row(celeba):
    root, _ = celeba
    _edit_line(_attr_file(root), 8, lambda s: s.replace("000006.jpg", "000002.jpg"))
    with pytest.raises(DataError, match="listed twice") as e:
        read_celeba(root)
    assert e.value.line == 8


def test_groups_file_disagrees(celeba):
    root, _ = celeba
    _edit_line(root / "list_groups_celeba.txt", 1, lambda s: "19")
    with pytest.raises(DataError, match="list_groups_celeba.txt, line 1: header says 19"):
        read_celeba(root)


def test_not_a_celeba_folder(tmp_path):
    with pytest.raises(DataError, match="no list_attr_celeba.txt"):
        read_celeba(tmp_path)


# ---------------------------------------------------------------- property tests
_seps = st.text(alphabet=" \t", min_size=1, max_size=3)


@st.composite
def _tables(draw):
    a = draw(st.integers(1, 6))
    names = draw(st.permutations(CELEBA_ATTRIBUTES))[:a]
    n = draw(st.integers(0, 25))
    flat = draw(st.lists(st.booleans(), min_size=n * a, max_size=n * a))
    values = np.array(flat, dtype=bool).reshape(n, a)
    files = [f"{i:06d}.jpg" for i in draw(st.lists(st.integers(1, 999_999), min_size=n,
                                                    max_size=n, unique=True))]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    rows = []
    for f, row in zip(files, values):
        seps = [draw(_seps) for _ in range(a)]
        lead = draw(st.sampled_from(["", " "]))
        trail = draw(st.sampled_from(["", " ", "  "]))
        rows.append(lead + f + "".join(s + ("1" if v else "-1") for s, v in zip(seps, row))
                    + trail)
    text = newline.join([str(n), " ".join(names) + draw(st.sampled_from(["", " "])), *rows])
    text += draw(st.sampled_from(["", newline, newline + newline]))
    return text, files, values, list(names)


@settings(max_examples=60, deadline=None)
@given(_tables())
def test_attr_parser_round_trips_any_spacing(table):
    text, files, values, names = table
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "list_attr_celeba.txt"
        path.write_bytes(text.encode())
        got_files, got_attrs, got_names, lines = parse_attr_file(path)
    assert got_files == files
    assert got_names == names
    np.testing.assert_array_equal(got_attrs, values.reshape(len(files), len(names)))
    np.testing.assert_array_equal(lines, np.arange(len(files)) + 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-40, 1200), st.integers(-5, 5)), max_size=20),
       st.sampled_from([" ", "  ", "\t", " \t "]))
def test_groups_and_partition_parsers_round_trip(codes, sep):
    n = len(codes)
    files = [f"f{i}.jpg" for i in range(n)]
    values = np.array(codes, dtype=np.int64).reshape(n, 2)
    split = np.abs(values[:, 1]) % 3
    with tempfile.TemporaryDirectory() as d:
        gpath, ppath = Path(d) / "g.txt", Path(d) / "p.txt"
        gpath.write_text(format_table(files, values, ["a", "b"], width=1).replace(" ", sep))
        ppath.write_text("".join(f"{f}{sep}{s}\n" for f, s in zip(files, split)))
        g_files, groups, g_names, _ = parse_groups_file(gpath)
        p_files, got_split, _ = parse_partition_file(ppath)
    assert g_files == files == p_files and g_names == ["a", "b"]
    np.testing.assert_array_equal(groups, values)
    assert groups.dtype == np.int16
    np.testing.assert_array_equal(got_split, split)


# ---------------------------------------------------------------- identities, Kaggle, partial
from biaslens.data.celeba import parse_attr_csv, parse_identity_file  # noqa: E402


def test_identity_file_is_read_and_aligned(make_celeba, tmp_path):
    root = tmp_path / "c"
    truth = make_celeba(root, n=12, per_identity=3)
    t = read_celeba(root)
    np.testing.assert_array_equal(t.identities, truth["identities"])
    assert t.info["identity_file"] == "identity_CelebA.txt"
    assert t.to_dict()["n_identities"] == 4
    # another row order in the identity file: aligned by name
    lines = (root / "identity_CelebA.txt").read_text().splitlines()
    (root / "identity_CelebA.txt").write_text("\r\n".join(lines[::-1]) + "\r\n")
    np.testing.assert_array_equal(read_celeba(root).identities, truth["identities"])
    # a file listed in the attributes but not in the identities: named
    (root / "identity_CelebA.txt").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(DataError, match="'000001.jpg' .* has no row here"):
        read_celeba(root)


def test_identity_parser_multi_digit_and_errors(tmp_path):
    p = tmp_path / "identity_CelebA.txt"
    p.write_text("000001.jpg 2880\n000002.jpg 10177\n000003.jpg  7 \n000004.jpg -12\n")
    files, ids, lines = parse_identity_file(p)
    assert ids.tolist() == [2880, 10177, 7, -12] and lines.tolist() == [1, 2, 3, 4]
    p.write_text("000001.jpg 2880\n000002.jpg 12x\n")
    with pytest.raises(DataError, match=r"line 2.*'12x' is not an integer"):
        parse_identity_file(p)
    p.write_text("000001.jpg 2880 4\n")
    with pytest.raises(DataError, match="line 1.*expected 2 fields"):
        parse_identity_file(p)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-10**17, 10**17), min_size=1, max_size=30))
def test_long_integers_parse_vectorized(values):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "ids.txt"
        p.write_text("".join(f"f{i}.jpg {v}\n" for i, v in enumerate(values)))
        assert parse_identity_file(p)[1].tolist() == values


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("quote", [False, True])
def test_kaggle_layout_is_celeba_with_its_split(make_kaggle_celeba, tmp_path, newline, quote):
    root = tmp_path / "archive"
    truth = make_kaggle_celeba(root, n=10, newline=newline, quote=quote)
    t = read_celeba(root)
    assert t.kind == "celeba" and t.info["layout"] == "kaggle"
    assert t.info["attr_file"] == "list_attr_celeba.csv"
    assert t.info["partition_file"] == "list_eval_partition.csv"
    assert t.image_dir == truth["img_dir"]
    assert t.filenames == truth["files"] and t.attribute_names == list(CELEBA_ATTRIBUTES)
    np.testing.assert_array_equal(t.attrs, truth["attrs"])
    np.testing.assert_array_equal(t.split, truth["split"])
    assert t.identities is None


def test_kaggle_csv_errors_name_line_and_column(make_kaggle_celeba, tmp_path):
    root = tmp_path / "k"
    make_kaggle_celeba(root, n=5)
    path = root / "list_attr_celeba.csv"
    lines = path.read_text().splitlines()
    bad = lines[3].split(",")
    bad[5] = "2"
    path.write_text("\n".join(lines[:3] + [",".join(bad)] + lines[4:]) + "\n")
    with pytest.raises(DataError, match=r"list_attr_celeba.csv, line 4, field 'Bald'"
                                        r".*must be -1, 0 or 1"):
        parse_attr_csv(path)
    path.write_text("\n".join(lines[:2] + [lines[2] + ",1"] + lines[3:]) + "\n")
    with pytest.raises(DataError, match="line 3: expected 41 fields"):
        parse_attr_csv(path)
    path.write_text(lines[0].replace("Smiling", "Smilin") + "\n" + "\n".join(lines[1:]))
    with pytest.raises(DataError, match="line 1, field 'Smilin'.*Smiling"):
        parse_attr_csv(path)
    path.write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.csv").write_text("image_id,partition\n000001.jpg,3\n")
    with pytest.raises(DataError, match="list_eval_partition.csv, line 2: split must be 0"):
        read_celeba(root)


def test_partial_download_error_names_the_option_and_only_present_reads_the_rest(
        make_kaggle_celeba, make_celeba, tmp_path):
    root = tmp_path / "partial"
    make_kaggle_celeba(root, n=20, present=7)
    with pytest.raises(DataError) as e:
        read_celeba(root)
    msg = str(e.value)
    assert "listed image '000008.jpg' not found" in msg
    assert "13 missing in all, of 20 listed; next: 000009.jpg, 000010.jpg" in msg
    assert "only_present=True" in msg and "the 7 listed images that are there" in msg
    assert e.value.line == 9                       # 000008.jpg is on line 9 of the CSV
    t = read_celeba(root, only_present=True)
    assert len(t) == 7 and t.filenames == [f"{i:06d}.jpg" for i in range(1, 8)]
    assert t.info["left_out"] == 13 and "13 of 20 rows" in t.info["notes"][-1]
    # the official text layout with identities: rows stay aligned after leaving some out
    root2 = tmp_path / "official"
    truth = make_celeba(root2, n=12, per_identity=4)
    for f in truth["files"][5:9]:
        (truth["img_dir"] / f).unlink()
    t2 = read_celeba(root2, only_present=True)
    keep = np.r_[0:5, 9:12]
    np.testing.assert_array_equal(t2.identities, truth["identities"][keep])
    np.testing.assert_array_equal(t2.attrs, truth["attrs"][keep])
    for f in truth["files"]:
        (truth["img_dir"] / f).unlink(missing_ok=True)
    with pytest.raises(DataError, match="12 missing in all"):
        read_celeba(root2, only_present=True)


def test_text_layout_errors_are_kept(make_celeba, tmp_path):
    """Stale count line and CRLF/trailing spaces: the clear errors of the text layout."""
    root = tmp_path / "c"
    make_celeba(root, n=6)
    path = root / "list_attr_celeba.txt"
    text = path.read_text()
    path.write_bytes(text.replace("\n", "  \r\n").encode())     # CRLF + trailing spaces: fine
    assert len(read_celeba(root)) == 6
    path.write_text("7" + text[text.index("\n"):])
    with pytest.raises(DataError, match="line 1: header says 7 images but the file has 6"):
        read_celeba(root)
