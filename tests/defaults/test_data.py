"""Tests for the caches of the default recipes (biaslens.defaults.data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from biaslens.defaults.data import make_data
from biaslens.defaults.recipes import DATASETS
from biaslens.errors import DataError


def test_make_data_refuses_a_cache_of_another_world(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete cache is reused only when its world and face count match the spec."""
    import biaslens.world.synth as synth

    monkeypatch.setitem(DATASETS, "faces", {**DATASETS["faces"], "size": 16})
    rendered = []
    real = synth.synthesize_cache

    def spy(*args, **kwargs):
        rendered.append(args[:2])
        return real(*args, **{**kwargs, "workers": 1})

    monkeypatch.setattr(synth, "synthesize_cache", spy)
    out = make_data("faces", tmp_path, world="independent", n_faces=12)
    assert rendered == [("independent", 12)]
    assert make_data("faces", tmp_path, world="independent", n_faces=12) == out
    assert len(rendered) == 1                       # reused, not re-rendered
    with pytest.raises(DataError, match="independent") as exc:
        make_data("faces", tmp_path)             # the recipe's celeba/30000
    assert str(out) in str(exc.value)
    with pytest.raises(DataError, match="12 faces"):
        make_data("faces", tmp_path, world="independent", n_faces=13)
