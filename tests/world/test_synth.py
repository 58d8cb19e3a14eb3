"""Tests for biaslens.world.synth: synthetic caches and the CelebA-format export."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from biaslens.data.cache import load_cache
from biaslens.data.celeba import read_celeba
from biaslens.data.ingest import ingest
from biaslens.errors import BiasLensError, DataError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.world import World, synth
from biaslens.world.nonface import render_nonfaces
from biaslens.world.render import render_faces
from biaslens.world.synth import export_celeba, load_world, plan_dataset, synthesize_cache


@pytest.fixture(scope="module")
def world() -> World:
    return World.preset("celeba")


@pytest.fixture
def small_blocks(monkeypatch):
    """Several render blocks even for tiny n, to exercise the block bookkeeping."""
    monkeypatch.setattr(synth, "BLOCK", 7)


def test_cache_matches_world_sample_and_one_shot_render(tmp_path, world, small_blocks):
    cache = synthesize_cache(world, 30, tmp_path / "c", size=16, seed=3)
    assert cache.images.shape == (30, 16, 16, 3) and cache.images.dtype == np.uint8
    assert cache.attribute_names == list(CELEBA_ATTRIBUTES)
    assert cache.group_names == ["skin_type"]
    sample = world.sample(30, seed=3)
    np.testing.assert_array_equal(cache.attrs, sample.attrs)
    np.testing.assert_array_equal(cache.groups[:, 0], sample.skin_type)
    np.testing.assert_allclose(cache.extra["skin_tone"], sample.skin_tone)
    # blocks of 7 rows give the pixels of rendering all faces in one call (the renderer
    # promises exact equality; today a few edge pixels differ by 1-2 levels, so allow that)
    seeds = plan_dataset(world, 30, seed=3).render_seeds
    direct = render_faces(sample.attrs, sample.skin_tone, seed=seeds[0], size=16)
    diff = np.abs(np.asarray(cache.images).astype(int) - direct)
    assert diff.max() <= 3 and (diff > 0).mean() < 1e-3
    assert np.bincount(cache.split, minlength=3).tolist() == [24, 3, 3]
    assert cache.manifest["source"]["kind"] == "synthetic-world"
    assert cache.manifest["source"]["world"]["name"] == "celeba"


def test_same_seed_same_hash_other_seed_differs(tmp_path, world):
    a = synthesize_cache(world, 12, tmp_path / "a", size=8, seed=1)
    b = synthesize_cache(world, 12, tmp_path / "b", size=8, seed=1)
    c = synthesize_cache(world, 12, tmp_path / "c", size=8, seed=2)
    assert a.content_hash == b.content_hash != c.content_hash


def test_workers_give_the_same_cache(tmp_path, world, small_blocks):
    one = synthesize_cache(world, 20, tmp_path / "one", size=8, seed=0)
    two = synthesize_cache(world, 20, tmp_path / "two", size=8, seed=0, workers=2)
    assert one.content_hash == two.content_hash


def test_nonfaces_add_is_face_group(tmp_path, world, small_blocks):
    calls = []
    cache = synthesize_cache(world, 20, tmp_path / "nf", size=8, seed=0, nonfaces=9,
                             progress=lambda done, total: calls.append((done, total)))
    assert cache.group_names == ["skin_type", "is_face"]
    face = cache.groups[:, 1] == 1
    assert face.sum() == 20 and len(cache) == 29
    assert not cache.attrs[~face].any()
    assert (cache.groups[~face, 0] == -1).all() and np.isnan(cache.extra["skin_tone"][~face]).all()
    np.testing.assert_array_equal(cache.attrs[face], world.sample(20, seed=0).attrs)
    seeds = plan_dataset(world, 20, seed=0, nonfaces=9).render_seeds
    np.testing.assert_array_equal(np.asarray(cache.images)[~face],
                                  render_nonfaces(9, seed=seeds[1], size=8))
    assert calls[-1] == (29, 29) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_export_celeba_round_trips_through_reader_and_ingest(tmp_path, world):
    out = export_celeba(world, 12, tmp_path / "celeba", seed=5, val_frac=0.25, test_frac=0.25)
    plan = plan_dataset(world, 12, seed=5, val_frac=0.25, test_frac=0.25)
    lines = (out / "list_attr_celeba.txt").read_text().splitlines()
    assert lines[0] == "12" and lines[1].split() == list(CELEBA_ATTRIBUTES)
    assert re.fullmatch(r"000001\.jpg( (-1| 1)){40}", lines[2])
    assert (out / "list_eval_partition.txt").read_text().splitlines()[0] == \
        f"000001.jpg {plan.split[0]}"
    g_lines = (out / "list_groups_celeba.txt").read_text().splitlines()
    assert g_lines[:2] == ["12", "skin_type"] and g_lines[2] == f"000001.jpg {plan.skin_type[0]}"

    table = read_celeba(out)
    np.testing.assert_array_equal(table.attrs, plan.attrs)
    np.testing.assert_array_equal(table.split, plan.split)
    assert table.group_names == ["skin_type"]
    np.testing.assert_array_equal(table.groups[:, 0], plan.skin_type)
    with Image.open(out / "img_align_celeba" / "000012.jpg") as im:
        assert im.format == "JPEG" and im.size == (178, 218)

    cache = ingest(out, tmp_path / "cache", size=16, workers=1)
    np.testing.assert_array_equal(cache.attrs, plan.attrs)
    np.testing.assert_array_equal(cache.split, plan.split)
    np.testing.assert_array_equal(cache.groups[:, 0], plan.skin_type)
    assert cache.images.shape == (12, 16, 16, 3) and np.asarray(cache.images).std() > 10


def test_export_refuses_a_non_empty_folder(tmp_path, world):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        export_celeba(world, 3, tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # no partial folder left behind


def test_load_world_by_name_file_and_errors(tmp_path):
    assert load_world("balanced").name == "balanced"
    spec = tmp_path / "w.json"
    spec.write_text(json.dumps({"base": "independent", "name": "mine"}))
    assert load_world(spec).name == "mine"
    with pytest.raises(UnknownNameError, match="celeba"):
        load_world("celebaa")
    with pytest.raises(DataError, match="not found"):
        load_world(tmp_path / "missing.json")


def test_bad_arguments_are_clear_errors(tmp_path, world):
    with pytest.raises(BiasLensError, match="val_frac"):
        synthesize_cache(world, 5, tmp_path / "c", val_frac=0.6, test_frac=0.5)
    with pytest.raises(BiasLensError, match="n >= 1"):
        synthesize_cache(world, 0, tmp_path / "c")
    assert not (tmp_path / "c").exists()
    load = pytest.raises(DataError)
    with load:
        load_cache(tmp_path / "c")
