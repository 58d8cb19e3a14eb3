import pytest
from hypothesis import given, strategies as st

from biaslens.errors import UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES, canonical_name, display_name, resolve_attribute


def test_forty_attributes_in_celeba_order():
    assert len(CELEBA_ATTRIBUTES) == 40
    assert CELEBA_ATTRIBUTES[20] == "Male"
    assert CELEBA_ATTRIBUTES[31] == "Smiling"
    assert CELEBA_ATTRIBUTES[36] == "Wearing_Lipstick"


@pytest.mark.parametrize(
    "alias, canonical",
    [("WearingLipstick", "Wearing_Lipstick"), ("5oClockShadow", "5_o_Clock_Shadow"),
     ("Sideburn", "Sideburns"), ("NoBeard", "No_Beard"), ("male", "Male"), ("Male", "Male")],
)
def test_course_aliases(alias, canonical):
    assert canonical_name(alias) == canonical


def test_negated_targets():
    assert resolve_attribute("-Male") == (20, -1)
    assert resolve_attribute("+Male") == (20, 1)
    assert resolve_attribute("--Male") == (20, 1)
    assert resolve_attribute("Female") == (20, -1)
    assert resolve_attribute("-Female") == (20, 1)
    assert display_name(20, -1) == "-Male"


def test_unknown_name_lists_valid_ones_and_suggests():
    with pytest.raises(UnknownNameError) as info:
        resolve_attribute("Smilling")
    msg = str(info.value)
    assert "Smiling" in msg and "Valid names" in msg and "Wearing_Necktie" in msg


def test_empty_name_rejected():
    with pytest.raises(UnknownNameError):
        resolve_attribute("-")


def test_custom_name_list():
    names = ["a_b", "Male"]
    assert resolve_attribute("AB", names) == (0, 1)
    assert resolve_attribute("-Male", names) == (1, -1)


@given(st.sampled_from(CELEBA_ATTRIBUTES), st.integers(0, 3))
def test_every_name_and_its_camelcase_resolves(name, n_minus):
    idx, sign = resolve_attribute("-" * n_minus + name.replace("_", ""))
    assert CELEBA_ATTRIBUTES[idx] == name
    assert sign == (-1) ** n_minus
