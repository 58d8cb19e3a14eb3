"""Option objects (options.py): options plus keyword overrides, unknown names refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from biaslens.errors import BiasLensError
from biaslens.options import options_dict, resolve_options


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
