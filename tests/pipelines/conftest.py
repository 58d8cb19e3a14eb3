"""Tiny models loaded for their roles, shared by the pipeline tests of this folder."""

from __future__ import annotations

import pytest

from biaslens.pipelines import inputs


@pytest.fixture(scope="module")
def cvae_models(tiny):
    """(cvae, classifier, cache) from the shared tiny checkpoints (tests/conftest.py)."""
    return (inputs.load_for_role(tiny["cvae"], "cvae"),
            inputs.load_for_role(tiny["classifier"], "classifier"),
            inputs.open_cache(tiny["cache"]))
