"""Missing or unsortable group labels are a DataError naming the column and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biaslens.audit.fairness import demographic_parity_difference, fairness_report
from biaslens.audit.frame import encode_groups
from biaslens.errors import DataError

Y = [1, 0, 1, 1]


@pytest.mark.parametrize("features, match", [
    ([0, None, 1, 1], r"field 'sensitive_feature_0': missing group label \(None\) in row 1"),
    (["a", "b", None, None], r"missing group label \(None\) in row 2 and 1 more row"),
    ([0.0, 1.0, np.nan, 1.0], r"missing group label \(NaN\) in row 2"),
    ({"sex": ["m", "f", "f", None]}, r"field 'sex': missing group label \(None\) in row 3"),
    (pd.DataFrame({"race": pd.array(["a", pd.NA, "b", "b"], dtype="string")}),
     r"field 'race': missing group label \(<NA>\) in row 1"),
    (pd.Series([1, 2, None, 1], name="age", dtype=object), r"field 'age'.*row 2"),
])
def test_missing_group_label_names_column_and_row(features, match):
    with pytest.raises(DataError, match=match):
        fairness_report(Y, Y, sensitive_features=features, n_boot=0)
    with pytest.raises(DataError, match=match):
        demographic_parity_difference(Y, Y, sensitive_features=features)


def test_unsortable_mixed_values_name_the_column():
    with pytest.raises(DataError, match="field 'g': mixes values that cannot be sorted.*int, str"):
        encode_groups({"g": np.array([1, "a", 1, 2], dtype=object)})


def test_object_columns_without_missing_values_still_encode():
    enc = encode_groups({"g": np.array(["b", "a", "b"], dtype=object)})
    assert enc.labels == ["g=a", "g=b"] and enc.codes.tolist() == [1, 0, 1]
