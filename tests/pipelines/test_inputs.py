"""The inputs every use case resolves: a model for a role, a cache, the default world."""

from __future__ import annotations

import pytest

from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs


def test_default_model_path_missing_is_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path))
    assert inputs.shipped_models() == {}
    with pytest.raises(BiasLensError, match="default model 'generator' is not shipped"):
        inputs.default_model_path("generator")
    with pytest.raises(BiasLensError, match="unknown model role"):
        inputs.default_model_path("unet")
    with pytest.raises(BiasLensError, match="is not shipped"):
        inputs.model_for_role(None, "classifier")


def test_default_models_load_from_the_resource_folder(tiny, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(tiny["classifier"], tmp_path / "classifier")
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path))
    model, path = inputs.model_for_role(None, "classifier")
    assert path == tmp_path / "classifier"
    assert list(model.attribute_names) == ["Male", "Smiling", "Young"]


def test_loaders_name_missing_paths(tmp_path):
    with pytest.raises(BiasLensError, match="missing: classifier checkpoint not found"):
        inputs.model_for_role(tmp_path / "missing", "classifier")
    with pytest.raises(BiasLensError, match="no such cache"):
        inputs.open_cache(tmp_path / "missing")


def test_a_model_of_the_wrong_kind_is_refused_naming_the_option(tiny):
    with pytest.raises(BiasLensError, match="--generator"):
        inputs.model_for_role(tiny["classifier"], "generator")


def test_default_world_cache_is_removed_afterwards(monkeypatch):
    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 12)
    notes = []
    with inputs.cache_or_default(None, size=16, note=notes.append) as cache:
        path = cache.path
        assert len(cache.attrs) == 12 and cache.images.shape[1:] == (16, 16, 3)
    assert not path.exists()
    assert "12 faces" in notes[0]
