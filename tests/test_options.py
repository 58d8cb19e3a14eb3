"""Option objects (options.py): options plus keyword overrides, unknown names refused."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from biaslens.errors import BiasLensError
from biaslens.options import (
    OPEN_UNIT,
    POSITIVE,
    CheckedOptions,
    Range,
    options_dict,
    resolve_options,
)


@dataclass(frozen=True)
class Demo:
    steps: int = 30
    seed: int = 0
    out: Path | None = None
    progress: object = None


def test_defaults_options_and_overrides_merge():
    assert resolve_options(Demo, None, {}) == Demo()
    given = Demo(seed=1)
    assert resolve_options(Demo, given, {}) is given             # nothing to replace
    assert resolve_options(Demo, given, {"steps": 5}) == Demo(steps=5, seed=1)
    assert given == Demo(seed=1)                                 # the object is not changed


def test_unknown_field_lists_the_valid_ones_and_a_close_match():
    msg = (r"^steer_audit has no option 'step' \(did you mean 'steps'\?\); "
           r"valid: steps, seed, out, progress$")
    with pytest.raises(BiasLensError, match=msg):
        resolve_options(Demo, None, {"step": 5}, where="steer_audit")
    with pytest.raises(BiasLensError, match=r"^Demo has no option 'zzz'; valid: "):
        resolve_options(Demo, None, {"zzz": 5})


def test_options_of_another_class_are_refused():
    with pytest.raises(BiasLensError, match="run: options must be a Demo, got dict"):
        resolve_options(Demo, {"steps": 5}, {}, where="run")


def test_options_dict_is_jsonable():
    d = options_dict(Demo(out=Path("runs/x"), progress=print))
    assert d == {"steps": 30, "seed": 0, "out": "runs/x", "progress": None}


# ---------------------------------------------------------------- ranges and choices
@dataclass(frozen=True)
class Ranged(CheckedOptions):
    n: int = 8
    rate: float = 0.05
    step: float | None = None
    test: str = "t"

    RANGES = {"n": Range(1), "rate": OPEN_UNIT, "step": POSITIVE}
    CHOICES = {"test": ("t", "signflip")}


@pytest.mark.parametrize("kw, message", [
    ({"n": 0}, "Ranged: n must be >= 1; got 0"),
    ({"rate": 1.0}, "Ranged: rate must be in (0, 1); got 1.0"),
    ({"rate": math.nan}, "Ranged: rate must be a finite number in (0, 1); got nan"),
    ({"n": True}, "Ranged: n must be a finite number >= 1; got True"),
    ({"n": "8"}, "Ranged: n must be a finite number >= 1; got '8'"),
    ({"step": 0.0}, "Ranged: step must be > 0; got 0.0"),
    ({"test": "signflp"}, "Ranged: test must be one of 't', 'signflip'; got 'signflp' "
                          "(did you mean 'signflip'?)"),
])
def test_ranges_and_choices_are_checked_on_creation(kw, message):
    with pytest.raises(BiasLensError) as exc:
        Ranged(**kw)
    assert str(exc.value) == message


def test_replace_and_resolve_check_too_and_none_means_default():
    assert Ranged(step=None).step is None
    with pytest.raises(BiasLensError, match="n must be >= 1"):
        dataclasses.replace(Ranged(), n=-5)
    with pytest.raises(BiasLensError, match="n must be >= 1"):
        resolve_options(Ranged, Ranged(), {"n": -5})


def test_range_text_and_membership():
    assert (str(Range(0, 1)), str(Range(None, 3, high_open=True))) == ("in [0, 1]", "< 3")
    assert 0 in Range(0, 1) and 0 not in OPEN_UNIT and 1e-9 in POSITIVE
    assert Range(1).problem(3) is None and Range(1).problem(0) == "must be >= 1"

