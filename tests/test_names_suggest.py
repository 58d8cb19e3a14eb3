"""Near-miss attribute names get a "did you mean", negations (Female) included."""

from __future__ import annotations

import pytest

from biaslens.errors import UnknownNameError
from biaslens.names import canonical_name, resolve_attribute


@pytest.mark.parametrize("given, suggestion", [
    ("Femal", "'Female'"), ("femal", "'Female'"), ("Smilling", "'Smiling'"),
    ("Wearing_Lipstik", "'Wearing_Lipstick'"), ("-Olld", "'Old'"),
])
def test_near_miss_suggests(given, suggestion):
    with pytest.raises(UnknownNameError, match=f"did you mean {suggestion}"):
        resolve_attribute(given)


def test_negations_are_listed_and_case_folded():
    with pytest.raises(UnknownNameError, match="or a negation: Female = -Male"):
        resolve_attribute("xyzzy")
    assert resolve_attribute("female") == resolve_attribute("Female") == (20, -1)


def test_plain_names_do_not_suggest_negations():
    # canonical_name resolves real columns only: Female is not one
    with pytest.raises(UnknownNameError) as info:
        canonical_name("Femal")
    assert "'Female'" not in str(info.value) and "negation" not in str(info.value)


def test_a_real_column_named_like_a_negation_wins():
    assert resolve_attribute("female", ["Female", "Male"]) == (0, 1)
