"""``biaslens data stats`` on a tiny hand-made cache (CliRunner on the real app)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from biaslens.audit.dataset import dataset_stats
from biaslens.cli.main import app
from biaslens.data.cache import CacheWriter
from biaslens.errors import BiasLensError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES

N = 120


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    attrs = rng.random((N, 40)) < 0.4
    attrs[:, 36] = ~attrs[:, 20] & (rng.random(N) < 0.9)  # lipstick mostly on non-Male
    split = np.repeat(np.array([0, 1, 2], np.int8), N // 3)
    skin = (rng.random(N) < 0.2).astype(np.int16)[:, None]
    out = tmp_path_factory.mktemp("stats") / "cache"
    with CacheWriter(out, n=N, height=4, width=4, attribute_names=list(CELEBA_ATTRIBUTES),
                     group_names=["skin_type"]) as w:
        w.write_images(0, np.zeros((N, 4, 4, 3), np.uint8))
        w.set_labels(attrs=attrs, split=split, groups=skin)
    return out, attrs, split, skin[:, 0]


def test_stats_json_equals_library(cache_dir, tmp_path):
    path, attrs, split, skin = cache_dir
    out = tmp_path / "s.json"
    res = CliRunner().invoke(app, ["data", "stats", str(path), "--target", "-Male",
                                   "--groups", "Male,skin_type", "--split", "val",
                                   "--min-group", "10", "--n-boot", "50", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Most correlated with -Male" in res.output and "skin_type" in res.output
    got = json.loads(out.read_text())
    m = split == 1
    ref = dataset_stats(attrs[m], CELEBA_ATTRIBUTES, target="-Male", groups=["Male", "skin_type"],
                        group_columns={"skin_type": skin[m]}, n_boot=50, min_group=10,
                        split="val").to_dict()
    assert got["n"] == m.sum() == 40 and got["split"] == "val"
    assert got["top_correlated"] == ref["top_correlated"]
    assert got["groups"] == ref["groups"]
    assert got["top_correlated"][0]["name"] == "Wearing_Lipstick"
    assert got["top_correlated"][0]["phi"] > 0  # negated target: lipstick goes with -Male


def test_stats_without_target_or_groups(cache_dir):
    path = cache_dir[0]
    res = CliRunner().invoke(app, ["data", "stats", str(path), "--limit", "5"])
    assert res.exit_code == 0, res.output
    assert "Attribute prevalence (all), N = 120" in res.output
    assert "Most correlated" not in res.output and "Intersectional" not in res.output


def test_stats_errors_are_biaslens_errors(cache_dir):
    path = cache_dir[0]
    res = CliRunner().invoke(app, ["data", "stats", str(path), "--target", "Mael"])
    assert isinstance(res.exception, UnknownNameError)
    assert "Valid names" in str(res.exception)
    res = CliRunner().invoke(app, ["data", "stats", str(path), "--split", "dev"])
    assert isinstance(res.exception, BiasLensError) and "train, val, test" in str(res.exception)


def test_a_cache_with_identities_says_it_resamples_people(tmp_path):
    rng = np.random.default_rng(1)
    ids = np.repeat(np.arange(N // 6), 6)
    out = tmp_path / "cache"
    with CacheWriter(out, n=N, height=4, width=4, attribute_names=list(CELEBA_ATTRIBUTES)) as w:
        w.write_images(0, np.zeros((N, 4, 4, 3), np.uint8))
        w.set_labels(attrs=rng.random((N, 40)) < 0.4, identities=ids)
    js = tmp_path / "s.json"
    res = CliRunner().invoke(app, ["data", "stats", str(out), "--target", "Male", "--groups",
                                   "Young", "--n-boot", "40", "--json", str(js)])
    assert res.exit_code == 0, res.output
    assert "every interval: bootstrap over 20 identities (120 images)" in res.output
    d = json.loads(js.read_text())
    assert d["resampling"]["unit"] == "identities" and d["interval_method"] == "cluster_bootstrap"
