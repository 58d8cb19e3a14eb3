"""Every docstring example in the package runs and prints what it says.

Examples that need files the tests do not have (a CelebA folder, a course ``.pth``) are
marked ``# doctest: +SKIP`` where they stand. The Streamlit pages are left out: importing
them outside ``streamlit run`` is what tests/app does, with the app test harness.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import biaslens

MODULES = sorted(m.name for m in pkgutil.walk_packages(biaslens.__path__, "biaslens.")
                 if not m.name.startswith("biaslens.app"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
