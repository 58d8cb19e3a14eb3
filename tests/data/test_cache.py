"""CacheWriter / load_cache: round trip, atomicity, damage detection, views."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.data.cache import CacheWriter, content_hash, load_cache, remove_stale_partials
from biaslens.errors import DataError


def _data(n=10, h=6, w=5, a=3, g=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"images": rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8),
            "attrs": rng.random((n, a)) < 0.5, "split": rng.integers(0, 3, n).astype(np.int8),
            "groups": rng.integers(0, 4, (n, g)).astype(np.int16),
            "extra": {"skin_tone": rng.random(n).astype(np.float32)}}


def _write(out, d, *, chunk=4, overwrite=False, **kw):
    n, h, w = d["images"].shape[:3]
    with CacheWriter(out, n=n, height=h, width=w, attribute_names=["a", "b", "c"],
                     group_names=["g0", "g1"], extra_names=["skin_tone"],
                     source={"kind": "test"}, crop=(1, 2, 3, 4), overwrite=overwrite, **kw) as wr:
        for s in range(0, n, chunk):
            wr.write_images(s, d["images"][s:s + chunk])
        wr.set_labels(attrs=d["attrs"], split=d["split"], groups=d["groups"], extra=d["extra"])
    return out


def test_round_trip(tmp_path):
    d = _data()
    cache = load_cache(_write(tmp_path / "c", d), verify=True)
    assert isinstance(cache.images, np.memmap) and not cache.images.flags.writeable
    np.testing.assert_array_equal(cache.images, d["images"])
    np.testing.assert_array_equal(cache.attrs, d["attrs"])
    np.testing.assert_array_equal(cache.split, d["split"])
    np.testing.assert_array_equal(cache.groups, d["groups"])
    np.testing.assert_array_equal(cache.extra["skin_tone"], d["extra"]["skin_tone"])
    m = cache.manifest
    assert m["format"] == "biaslens-cache" and m["version"] == 1 and m["complete"] is True
    assert (m["n"], m["height"], m["width"]) == (10, 6, 5)
    assert m["crop"] == [1, 2, 3, 4] and m["source"] == {"kind": "test"}
    assert m["counts"]["positives"]["b"] == int(d["attrs"][:, 1].sum())
    assert sum(m["counts"]["split"].values()) == 10
    assert cache.content_hash == content_hash(d["images"], d["attrs"], d["split"], d["groups"],
                                              d["extra"])
    assert sorted(os.listdir(tmp_path)) == ["c"]          # no partial left behind
    json.dumps(cache.to_dict())


def test_hash_changes_with_any_array():
    d = _data()
    base = content_hash(d["images"], d["attrs"], d["split"], d["groups"])
    img = d["images"].copy()
    img[3, 2, 1, 0] ^= 1
    attrs = d["attrs"].copy()
    attrs[0, 0] = ~attrs[0, 0]
    assert content_hash(img, d["attrs"], d["split"], d["groups"]) != base
    assert content_hash(d["images"], attrs, d["split"], d["groups"]) != base
    assert content_hash(d["images"], d["attrs"], d["split"], None) != base
    assert content_hash(d["images"].reshape(10, 5, 6, 3), d["attrs"], d["split"],
                        d["groups"]) != base


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_subset_views_read_the_right_rows(n, pick, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 2, 2, 3), dtype=np.uint8)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "c"
        split = rng.integers(0, 3, n).astype(np.int8)
        with CacheWriter(out, n=n, height=2, width=2, attribute_names=["a"]) as w:
            w.write_images(0, images)
            w.set_labels(attrs=rng.random((n, 1)) < 0.5, split=split)
        cache = load_cache(out)
        view = cache.subset(split="val")
        np.testing.assert_array_equal(view.indices, np.flatnonzero(split == 1))
        np.testing.assert_array_equal(np.asarray(view.images), images[split == 1])
        idx = rng.integers(0, n, pick)
        sub = cache.subset(indices=idx)
        np.testing.assert_array_equal(sub.images[np.arange(pick)[::-1]], images[idx[::-1]])
        np.testing.assert_array_equal(sub.images[0], images[idx[0]])
        np.testing.assert_array_equal(sub.attrs, cache.attrs[idx])
        del cache, view, sub


def test_unknown_split_name(tmp_path):
    cache = load_cache(_write(tmp_path / "c", _data()))
    with pytest.raises(DataError, match="unknown split 'dev'"):
        cache.subset(split="dev")


def test_exception_leaves_nothing(tmp_path):
    d = _data()
    with pytest.raises(KeyError):
        with CacheWriter(tmp_path / "c", n=10, height=6, width=5, attribute_names=["a"]) as w:
            w.write_images(0, d["images"][:4])
            raise KeyError("interrupted")
    assert os.listdir(tmp_path) == []


def test_unwritten_rows_are_an_error(tmp_path):
    d = _data()
    with pytest.raises(RuntimeError, match="6 of 10 image rows were never written"):
        with CacheWriter(tmp_path / "c", n=10, height=6, width=5,
                         attribute_names=["a", "b", "c"]) as w:
            w.write_images(0, d["images"][:4])
            w.set_labels(attrs=d["attrs"], split=d["split"])
    assert os.listdir(tmp_path) == []


def test_refuse_overwrite_then_overwrite(tmp_path):
    out = _write(tmp_path / "c", _data(seed=0))
    with pytest.raises(DataError, match="already exists.*overwrite"):
        _write(out, _data(seed=1))
    assert load_cache(out).content_hash == content_hash(**{
        k: v for k, v in _data(seed=0).items()})
    _write(out, _data(seed=1), overwrite=True)
    np.testing.assert_array_equal(load_cache(out, verify=True).images, _data(seed=1)["images"])
    assert sorted(os.listdir(tmp_path)) == ["c"]


def test_stale_partial_of_dead_process_is_removed(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f"c.partial-{int(proc.stdout)}"
    dead.mkdir()
    (dead / "images.npy").write_bytes(b"half")
    alive = tmp_path / f"c.partial-{os.getppid()}"
    alive.mkdir()
    assert remove_stale_partials(tmp_path / "c") == [dead]
    _write(tmp_path / "c", _data())
    assert sorted(os.listdir(tmp_path)) == ["c", alive.name]


def test_truncate_keeps_first_rows(tmp_path):
    d = _data()
    with CacheWriter(tmp_path / "c", n=10, height=6, width=5, attribute_names=["a"]) as w:
        w.write_images(0, d["images"][:7])
        w.truncate(7)
        w.set_labels(attrs=d["attrs"][:7, :1], split=d["split"][:7])
    cache = load_cache(tmp_path / "c", verify=True)
    np.testing.assert_array_equal(cache.images, d["images"][:7])
    assert os.path.getsize(tmp_path / "c" / "images.npy") == cache.images.offset + 7 * 6 * 5 * 3


# ---------------------------------------------------------------- damaged caches
@pytest.fixture
def cache_dir(tmp_path):
    return _write(tmp_path / "c", _data())


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def _set_manifest(path, **changes):
    m = _manifest(path)
    m.update(changes)
    (path / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("changes, match", [
    ({"format": "something"}, "format must be 'biaslens-cache'"),
    ({"version": 99}, "version 99 is not supported"),
    ({"complete": False}, "not marked complete"),
    ({"n": 11}, "shape is \\(10, 6, 5, 3\\), manifest says \\(11, 6, 5, 3\\)"),
    ({"attribute_names": ["a", "b"]}, "attrs.npy.*shape is \\(10, 3\\)"),
    ({"content_hash": None}, "invalid 'content_hash'"),
])
def test_damaged_manifest(cache_dir, changes, match):
    _set_manifest(cache_dir, **changes)
    with pytest.raises(DataError, match=match):
        load_cache(cache_dir)


def test_missing_manifest_and_missing_folder(cache_dir, tmp_path):
    (cache_dir / "manifest.json").unlink()
    with pytest.raises(DataError, match="no manifest.json"):
        load_cache(cache_dir)
    with pytest.raises(DataError, match="cache folder not found"):
        load_cache(tmp_path / "nope")


def test_truncated_images_file(cache_dir):
    path = cache_dir / "images.npy"
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(DataError, match="images.npy: cannot read array"):
        load_cache(cache_dir)


def test_wrong_dtype(cache_dir):
    np.save(cache_dir / "split.npy", np.zeros(10, np.int64))
    with pytest.raises(DataError, match="split.npy: dtype is int64, manifest needs int8"):
        load_cache(cache_dir)


def test_verify_detects_modified_pixels(cache_dir):
    arr = np.load(cache_dir / "images.npy", mmap_mode="r+")
    arr[0, 0, 0, 0] ^= 0xFF
    arr.flush()
    del arr
    load_cache(cache_dir)                                  # cheap checks still pass
    with pytest.raises(DataError, match="content hash mismatch"):
        load_cache(cache_dir, verify=True)


# ---------------------------------------------------------------- image names
def _named(tmp_path, names, name="cn"):
    d = _data(n=len(names))
    with CacheWriter(tmp_path / name, n=len(names), height=6, width=5,
                     attribute_names=["a", "b", "c"]) as w:
        w.write_images(0, d["images"])
        w.image_name_info = {"from": "test"}
        w.set_labels(attrs=d["attrs"], split=d["split"], image_names=names)
    return tmp_path / name, d


def test_image_names_are_stored_fixed_width_hashed_and_subset(tmp_path):
    names = [f"{i + 1:06d}.jpg" for i in range(9)] + ["sub/dir/é-long_name.png"]
    path, d = _named(tmp_path, names)
    raw = np.load(path / "image_names.npy", allow_pickle=False)      # no pickle needed
    assert raw.dtype == np.dtype("<U23") and raw.tolist() == names
    cache = load_cache(path, verify=True)
    assert cache.image_names.tolist() == names and cache.labels_verified
    assert cache.manifest["image_names"] == {"width": 23, "from": "test"}
    assert "image_names.npy" in cache.manifest["label_hashes"]
    plain = content_hash(d["images"], d["attrs"], d["split"])
    assert cache.content_hash == content_hash(d["images"], d["attrs"], d["split"],
                                              image_names=raw) != plain
    view = cache.subset(indices=np.array([9, 2]))
    assert view.image_names.tolist() == [names[9], names[2]]
    test = cache.subset("test")
    assert test.image_names.tolist() == [names[i] for i in np.flatnonzero(d["split"] == 2)]


@pytest.mark.parametrize("change", ["rename", "reorder", "widen"])
def test_changed_image_names_are_refused_on_load(tmp_path, change):
    path, _ = _named(tmp_path, [f"{i:06d}.jpg" for i in range(6)])
    arr = np.load(path / "image_names.npy")
    if change == "rename":
        arr[4] = "000005.png"
    elif change == "reorder":
        arr = arr[::-1].copy()
    np.save(path / "image_names.npy", arr.astype("<U12") if change == "widen" else arr)
    match = ("dtype is <U12" if change == "widen"
             else "image_names.npy: content differs from the hash")
    with pytest.raises(DataError, match=match):
        load_cache(path)
    (path / "image_names.npy").unlink()
    with pytest.raises(DataError, match="missing image_names.npy"):
        load_cache(path)


def test_object_array_of_names_is_never_loaded(tmp_path):
    path, _ = _named(tmp_path, ["a.jpg", "b.jpg"])
    np.save(path / "image_names.npy", np.array(["a.jpg", "b.jpg"], dtype=object),
            allow_pickle=True)
    with pytest.raises(DataError, match="image_names.npy: cannot read array"):
        load_cache(path)


def test_caches_without_image_names_load_and_hash_as_before(tmp_path):
    d = _data()
    cache = load_cache(_write(tmp_path / "c", d), verify=True)
    assert cache.image_names is None and cache.subset("train").image_names is None
    assert cache.manifest["image_names"] is None
    assert not (cache.path / "image_names.npy").exists()
    assert "image_names.npy" not in cache.manifest["label_hashes"]
    assert cache.content_hash == content_hash(d["images"], d["attrs"], d["split"], d["groups"],
                                              d["extra"])
    # a manifest from before names existed (no key at all) loads, labels still verified
    mpath = cache.path / "manifest.json"
    manifest = json.loads(mpath.read_text())
    del manifest["image_names"]
    mpath.write_text(json.dumps(manifest))
    old = load_cache(cache.path, verify=True)
    assert old.image_names is None and old.labels_verified
    # dropping the names from a named cache's manifest is caught by the label hashes
    path, _ = _named(tmp_path, ["x.jpg", "y.jpg", "z.jpg"])
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["image_names"] = None
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="image_names.npy: content differs"):
        load_cache(path)


def test_image_names_are_checked_when_set(tmp_path):
    with CacheWriter(tmp_path / "x", n=2, height=4, width=4, attribute_names=["a"]) as w:
        w.write_images(0, np.zeros((2, 4, 4, 3), np.uint8))
        attrs = np.zeros((2, 1), bool)
        with pytest.raises(ValueError, match="image_names must be strings"):
            w.set_labels(attrs=attrs, image_names=["only-one.jpg"])
        with pytest.raises(ValueError, match="image_names must be strings"):
            w.set_labels(attrs=attrs, image_names=np.array([1, 2]))
        with pytest.raises(ValueError, match="row 1 has an empty name"):
            w.set_labels(attrs=attrs, image_names=["a.jpg", ""])
        w.set_labels(attrs=attrs, image_names=np.array(["a.jpg", "b.jpg"], dtype=object))
    assert load_cache(tmp_path / "x").image_names.dtype == np.dtype("<U5")
