"""Group codes in words, and row anchors, as every audit writes its labels."""

from __future__ import annotations

from biaslens.report.words import anchor, group_words, value_words


def test_every_audit_label_format_decodes():
    # dataset stats (", "), population ("," no space), fairness frames ("|")
    for label in ("Male=0, skin_type=1", "Male=0,skin_type=1", "Male=0|skin_type=1"):
        assert group_words(label) == "Female, darker skin"
    assert group_words("Male=1|skin_type=0") == "Male, lighter skin"
    assert group_words("is_face=0") == "non-face"
    assert group_words("Eyeglasses=1, Young=0") == "Eyeglasses, no Young"


def test_what_it_cannot_decode_is_left_as_it_is():
    assert group_words("overall") == "overall"
    assert value_words("age_bin", 3) == "age_bin=3"
    assert value_words("Male", True) == "Male" and value_words("Male", "0.0") == "Female"


def test_anchors_are_valid_unique_ids():
    a, b = anchor("steer", "-Male", "Bald"), anchor("steer", "Male", "Bald")
    assert a != b and " " not in anchor("dataset", "group", "Male=0, skin_type=1")
    assert all(c.isalnum() or c in "-_" for c in anchor("x", "a|b=c, d"))
