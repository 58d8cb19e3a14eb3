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
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from biaslens.errors import BiasLensError

__all__ = ["options_dict", "resolve_options"]

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
