"""cli/_common.py: the flag checks read the option dataclasses' RANGES tables."""

from __future__ import annotations

import pytest
import typer

from biaslens.cli._common import STEER, ranged
from biaslens.options import POSITIVE


def test_cli_flags_share_the_tables():
    check = ranged(STEER, "n_boot")
    assert check(5) == 5 and check(None) is None
    with pytest.raises(typer.BadParameter, match=r"must be >= 0; got -3"):
        check(-3)
    with pytest.raises(typer.BadParameter, match=r"must be > 0; got 0.0"):
        ranged(POSITIVE)(0.0)


def _ranged_flags(app, path=()):
    """(command, parameter, options, field) of every flag checked by :func:`ranged`."""
    import inspect

    for info in app.registered_commands:
        for pname, param in inspect.signature(info.callback).parameters.items():
            cb = getattr(param.default, "callback", None)
            if cb is not None and cb.__qualname__.startswith("ranged."):
                cells = dict(zip(cb.__code__.co_freevars,
                                 (c.cell_contents for c in cb.__closure__)))
                yield (" ".join((*path, info.name or info.callback.__name__)), pname,
                       cells["options"], cells["name"])
    for group in app.registered_groups:
        yield from _ranged_flags(group.typer_instance, (*path, group.name))


def test_every_ranged_flag_names_a_field_with_a_range():
    import dataclasses
    import importlib

    from biaslens.cli.main import app

    flags = list(_ranged_flags(app))
    assert len(flags) > 60 and {f[0].split()[0] for f in flags} >= {"audit", "train", "demo",
                                                                     "mitigate", "report"}
    for command, param, options, name in flags:
        if not isinstance(options, str):
            continue                       # a Range given directly (ranged(POSITIVE))
        module, cls = options.split(":")
        klass = getattr(importlib.import_module(module), cls)
        assert name in klass.RANGES, (command, param, options, name)
        assert name in {f.name for f in dataclasses.fields(klass)}
