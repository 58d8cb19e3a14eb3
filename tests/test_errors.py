"""User-facing errors (errors.py): one line naming the file, line and field."""

from __future__ import annotations

import pytest

from biaslens.errors import BiasLensError, CheckpointError, DataError, UnknownNameError


def test_data_error_names_where_it_happened():
    e = DataError("value must be -1 or 1, got '2'", path="list_attr_celeba.txt", line=7,
                  field="Male")
    assert str(e) == "list_attr_celeba.txt, line 7, field 'Male': value must be -1 or 1, got '2'"
    assert (e.message, e.path, e.line, e.field) == (
        "value must be -1 or 1, got '2'", "list_attr_celeba.txt", 7, "Male")
    assert str(DataError("bad", line=3)) == "line 3: bad"
    assert str(DataError("bad")) == "bad" and DataError("bad").path is None


def test_paths_are_kept_as_strings(tmp_path):
    e = DataError("missing", path=tmp_path / "x.csv")
    assert e.path == str(tmp_path / "x.csv") and str(e).startswith(str(tmp_path))


def test_unknown_name_is_a_key_error_with_a_plain_message():
    e = UnknownNameError("unknown attribute 'Mal'; valid: Male, Smiling")
    assert str(e) == "unknown attribute 'Mal'; valid: Male, Smiling"   # no KeyError quotes
    assert str(UnknownNameError()) == ""
    with pytest.raises(KeyError):
        raise e


@pytest.mark.parametrize("cls", [DataError, CheckpointError, UnknownNameError])
def test_every_error_is_a_biaslens_error(cls):
    assert issubclass(cls, BiasLensError) and issubclass(BiasLensError, Exception)
