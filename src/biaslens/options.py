"""Typed option objects: options that travel together are one frozen dataclass.

A use case takes ``options: XOptions | None`` and, for convenience, ``**overrides``
naming fields of the same dataclass (``steer_audit(G, C, "Male", steps=40)``), so a
caller can pass a prepared object, a few keywords, or both. :func:`resolve_options`
merges them and refuses an unknown name with the valid ones and a "did you mean".

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     steps: int = 30
...     seed: int = 0
>>> resolve_options(Demo, None, {"steps": 5})
Demo(steps=5, seed=0)
>>> resolve_options(Demo, Demo(seed=1), {"step": 5})
Traceback (most recent call last):
...
biaslens.errors.BiasLensError: Demo has no option 'step' (did you mean 'steps'?); valid: steps, seed

Numeric ranges and choices live on the dataclass, in one table each, and are checked
whenever an object is made (so ``dataclasses.replace`` and :func:`resolve_options` check
too, before any work): a class that derives from :class:`CheckedOptions` lists
``RANGES = {field: Range(...)}`` and ``CHOICES = {field: (...)}``. The CLI reads the same
tables for its flags (``biaslens.cli._common.ranged``).

>>> @dataclass(frozen=True)
... class Sized(CheckedOptions):
...     n: int = 8
...     RANGES = {"n": Range(1)}
>>> Sized(n=0)
Traceback (most recent call last):
...
biaslens.errors.BiasLensError: Sized: n must be >= 1; got 0
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from biaslens.errors import BiasLensError

__all__ = ["OPEN_UNIT", "POSITIVE", "CheckedOptions", "Range", "check_options", "options_dict",
           "resolve_options"]

T = TypeVar("T")


def resolve_options(cls: type[T], options: T | None, overrides: Mapping[str, Any],
                    where: str | None = None) -> T:
    """``options`` (default ``cls()``) with the fields in ``overrides`` replaced.

    ``where`` names the caller in the error for an unknown field (default: the class).
    """
    if options is not None and not isinstance(options, cls):
        raise BiasLensError(f"{where or cls.__name__}: options must be a {cls.__name__}, "
                            f"got {type(options).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in overrides:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BiasLensError(f"{where or cls.__name__} has no option {key!r}{hint}; "
                                f"valid: {', '.join(names)}")
    base = options if options is not None else cls()
    return dataclasses.replace(base, **overrides) if overrides else base  # type: ignore


def options_dict(options: Any) -> dict[str, Any]:
    """The fields of an options dataclass as a JSON-able dict (callables dropped to None)."""
    from biaslens.io import jsonable

    return jsonable({f.name: getattr(options, f.name) for f in dataclasses.fields(options)})


@dataclass(frozen=True)
class Range:
    """An allowed interval of a numeric option; a ``None`` bound is unbounded.

    >>> str(Range(0, 1, low_open=True, high_open=True)), str(Range(1)), str(Range(0, 1))
    ('in (0, 1)', '>= 1', 'in [0, 1]')
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False      # low itself is not allowed
    high_open: bool = False     # high itself is not allowed

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (``"must be >= 1"``), or ``None`` if it is."""
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not math.isfinite(value)):
            return f"must be a finite number {self}"
        return None if value in self else f"must be {self}"

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None
                    and (value >= self.high if self.high_open else value > self.high))

    def __str__(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_num(self.high)}"
        return (f"in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}"
                f"{')' if self.high_open else ']'}")


#: ``(0, 1)``: a rate, level or probability that excludes its ends.
OPEN_UNIT = Range(0, 1, low_open=True, high_open=True)
#: ``> 0``: a step size, learning rate or scale.
POSITIVE = Range(0, low_open=True)


def _num(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_options(options: Any, where: str | None = None) -> None:
    """Refuse a field of ``options`` outside its class's ``RANGES`` or ``CHOICES``.

    ``None`` passes (it means "the default"); a non-number, NaN or infinity in a ranged
    field is refused. The message names the class (or ``where``), the field, the allowed
    values and the given one.
    """
    who = where or type(options).__name__
    for name, allowed in getattr(type(options), "RANGES", {}).items():
        value = getattr(options, name)
        if isinstance(value, str) and name in getattr(type(options), "CHOICES", {}):
            continue  # a named value (e.g. step_size "calibrated"): checked as a choice
        problem = None if value is None else allowed.problem(value)
        if problem is not None:
            raise BiasLensError(f"{who}: {name} {problem}; got {value!r}")
    for name, choices in getattr(type(options), "CHOICES", {}).items():
        value = getattr(options, name)
        if name in getattr(type(options), "RANGES", {}) and not isinstance(value, str):
            continue  # a number in a field that also has named values: checked as a range
        if value not in choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BiasLensError(f"{who}: {name} must be one of "
                                f"{', '.join(repr(c) for c in choices)}; got {value!r}{hint}")


class CheckedOptions:
    """Base of option dataclasses whose ``RANGES``/``CHOICES`` are checked on creation."""

    RANGES: ClassVar[Mapping[str, Range]] = {}
    CHOICES: ClassVar[Mapping[str, tuple[Any, ...]]] = {}

    def __post_init__(self) -> None:
        check_options(self)
