"""The predictions file: written in three formats, read back the same."""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.data.predictions import (
    PredictionTable,
    check_format,
    parse_binary,
    parse_float,
    read_predictions,
    target_columns,
)
from biaslens.errors import DataError


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    n = 12
    return PredictionTable(index=np.arange(n) * 2, split=rng.integers(0, 3, n),
                           attribute_names=["Smiling", "Male"],
                           logits=rng.normal(0, 3, (n, 2)).astype(np.float32),
                           labels={"Smiling": rng.random(n) < 0.5, "Male": rng.random(n) < 0.5},
                           groups={"skin_type": rng.integers(0, 2, n).astype(np.int16)})


def test_columns_follow_the_convention(table):
    cols = table.columns()
    assert list(cols)[:3] == ["index", "split", "Smiling_logit"]
    t, p, s = target_columns("Smiling")
    assert {t, p, s, "Male", "skin_type"} <= set(cols)
    np.testing.assert_array_equal(cols[p], table.logits[:, 0] > 0)
    np.testing.assert_allclose(cols[s], 1 / (1 + np.exp(-table.logits[:, 0])), rtol=1e-6)


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".parquet"])
def test_every_format_reads_back_the_same_values(table, tmp_path, suffix):
    path = table.write(tmp_path / f"preds{suffix}")
    cols = table.columns()
    names = ["Smiling", "Smiling_pred", "Smiling_prob", "skin_type", "split"]
    got = read_predictions(path, names)
    lines = got["__line__"]
    np.testing.assert_array_equal(parse_binary(got["Smiling"], lines, path=path, column="y"),
                                  table.labels["Smiling"])
    np.testing.assert_allclose(
        parse_float(got["Smiling_prob"], lines, path=path, column="s"),
        cols["Smiling_prob"].astype(np.float64), rtol=1e-7)      # float32 precision
    np.testing.assert_array_equal(got["skin_type"].astype(int), cols["skin_type"])
    assert list(got["split"].astype(str)) == list(cols["split"])


def test_bad_format_and_missing_column(table, tmp_path):
    with pytest.raises(DataError, match="unknown predictions format '.txt'"):
        check_format(tmp_path / "p.txt")
    path = table.write(tmp_path / "p.npz")
    with pytest.raises(DataError, match="missing column.*'Young'"):
        read_predictions(path, ["Young"])


def test_parse_binary_names_the_line(tmp_path):
    with pytest.raises(DataError, match="line 3.*'2' is not binary"):
        parse_binary(np.array([1, 2]), np.array([2, 3]), path=tmp_path / "p.npz", column="y")
    with pytest.raises(DataError, match="line 2.*'x' is not a number"):
        parse_float(np.array(["x", "1"]), np.array([2, 3]), path=tmp_path / "p.csv", column="s")
