"""What the generator audits resolve alike: checkpoints for roles, a split, the settings."""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs
from biaslens.pipelines.audit_setup import AuditRun, AuditSetup, split_view
from biaslens.pipelines.inputs import group_columns


@pytest.fixture(scope="module")
def cache(tiny):
    return inputs.open_cache(tiny["cache"])


def test_images_from_the_cache_view_match_the_cache(cache):
    view = split_view(cache, "val")
    assert len(view) == int((cache.split == 1).sum())
    np.testing.assert_array_equal(view.images[np.arange(len(view))],
                                  cache.images[np.flatnonzero(cache.split == 1)])
    assert len(split_view(cache, "all")) == len(cache)


class _NoRowsIn:
    """A cache whose split ``empty`` has no rows."""

    def __init__(self, cache, empty):
        self.cache, self.empty, self.path = cache, empty, "somewhere"

    def subset(self, split=None):
        if split == self.empty:
            return self.cache.subset(None, indices=np.array([], np.int64))
        return self.cache.subset(split)


def test_split_none_is_the_usual_split_or_every_row(cache):
    assert len(split_view(cache, None, usual="test")) == int((cache.split == 2).sum())
    assert len(split_view(cache, None)) == int((cache.split == 0).sum())
    assert len(split_view(_NoRowsIn(cache, "test"), None, usual="test")) == len(cache)


def test_unknown_and_empty_splits_are_named(cache):
    with pytest.raises(BiasLensError, match="unknown split 'holdout'; valid: train, val"):
        split_view(cache, "holdout")
    with pytest.raises(BiasLensError, match="somewhere: the cache has no 'test' rows"):
        split_view(_NoRowsIn(cache, "test"), "test")


def test_group_columns_of_a_view(cache):
    view = split_view(cache, "train")
    cols = group_columns(view)
    assert list(cols) == list(cache.group_names)
    np.testing.assert_array_equal(cols[cache.group_names[0]],
                                  cache.groups[cache.split == 0, 0])


def test_setup_resolves_before_loading_and_records_settings(tiny, tmp_path):
    setup = AuditSetup.resolve({"generator": tiny["generator"], "classifier": None},
                               None, "cpu")
    assert setup.paths["generator"] == tiny["generator"] and setup.cache is None
    assert list(setup.settings(n=3)) == ["generator", "classifier", "cache", "n", "device"]
    assert setup.settings(n=3)["device"] == "cpu"
    with pytest.raises(BiasLensError, match="nope: vae checkpoint not found"):
        AuditSetup.resolve({"vae": tmp_path / "nope"})


def test_a_run_records_settings_then_what_it_resolved():
    class Result:
        def to_dict(self):
            return {"audit": "x"}

    run = AuditRun(Result(), {"cache": "synthesized", "rates": None})
    data = run.to_dict({"generator": "g", "cache": None, "out": "o"})
    assert data == {"audit": "x", "inputs": {"generator": "g", "cache": "synthesized",
                                             "out": "o", "rates": None}}
    assert list(data["inputs"]) == ["generator", "cache", "out", "rates"]
