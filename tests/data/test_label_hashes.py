"""Label files are checked against the manifest's ``label_hashes`` on every load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biaslens.data.cache import CacheWriter, content_hash, label_hashes, load_cache
from biaslens.errors import DataError


@pytest.fixture
def cache_dir(tmp_path):
    rng = np.random.default_rng(0)
    n = 12
    images = rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    with CacheWriter(tmp_path / "c", n=n, height=4, width=4, attribute_names=["a", "b"],
                     group_names=["g"], extra_names=["tone"]) as w:
        w.write_images(0, images)
        w.set_labels(attrs=rng.random((n, 2)) < 0.5, split=rng.integers(0, 3, n),
                     groups=rng.integers(0, 3, (n, 1)), extra={"tone": rng.random(n)})
    return tmp_path / "c"


def test_new_caches_record_and_verify_label_hashes(cache_dir):
    cache = load_cache(cache_dir)
    assert sorted(cache.manifest["label_hashes"]) == ["attrs.npy", "extra.npz", "groups.npy",
                                                      "split.npy"]
    assert cache.manifest["label_hashes"] == label_hashes(cache.attrs, cache.split,
                                                          cache.groups, cache.extra)
    assert cache.labels_verified and not cache.images_verified
    # the content hash is the same function of the same bytes as before label hashes
    assert cache.content_hash == content_hash(cache.images, cache.attrs, cache.split,
                                              cache.groups, cache.extra)
    assert load_cache(cache_dir, verify=True).images_verified


@pytest.mark.parametrize("file", ["attrs.npy", "split.npy", "groups.npy"])
def test_changed_label_bytes_are_refused_without_verify(cache_dir, file):
    arr = np.load(cache_dir / file)
    flat = arr.reshape(-1)
    flat[0] = (not flat[0]) if arr.dtype == bool else (flat[0] + 1) % 3
    np.save(cache_dir / file, arr)
    with pytest.raises(DataError, match=f"{file}: content differs from the hash"):
        load_cache(cache_dir)


def test_changed_extra_column_is_refused(cache_dir):
    with np.load(cache_dir / "extra.npz") as z:
        tone = z["tone"] + 1
    np.savez(cache_dir / "extra.npz", tone=tone)
    with pytest.raises(DataError, match="extra.npz: content differs"):
        load_cache(cache_dir)


def test_cache_without_label_hashes_still_loads_unverified(cache_dir):
    path = cache_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["label_hashes"]
    path.write_text(json.dumps(manifest))
    cache = load_cache(cache_dir, verify=True)
    assert not cache.labels_verified and cache.images_verified


def test_label_hashes_must_be_an_object(cache_dir):
    path = cache_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["label_hashes"] = "sha256:0"
    path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="field 'label_hashes'"):
        load_cache(cache_dir)


@pytest.mark.parametrize("offset, data", [(20, b"}" * 10), (0, b"XXXX"), (8, b"\xff\xff")])
def test_damaged_npy_header_is_one_data_error(cache_dir, offset, data):
    with open(cache_dir / "images.npy", "r+b") as f:
        f.seek(offset)
        f.write(data)
    with pytest.raises(DataError, match="images.npy: cannot read array"):
        load_cache(cache_dir)


# ---------------------------------------------------------------- identities
def _cache_with_identities(tmp_path, ids):
    rng = np.random.default_rng(1)
    n = len(ids)
    with CacheWriter(tmp_path / "ci", n=n, height=4, width=4, attribute_names=["a"]) as w:
        w.write_images(0, rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8))
        w.identity_info = {"from": "identity_CelebA.txt"}
        w.set_labels(attrs=rng.random((n, 1)) < 0.5, identities=ids)
    return tmp_path / "ci"


def test_identities_are_stored_hashed_and_verified(tmp_path):
    ids = np.array([7, 7, 3, 9, 3, 7])
    path = _cache_with_identities(tmp_path, ids)
    cache = load_cache(path, verify=True)
    np.testing.assert_array_equal(cache.identities, ids)
    assert cache.identities.dtype == np.int64
    assert cache.manifest["identities"] == {"n_identities": 3, "from": "identity_CelebA.txt"}
    assert "identities.npy" in cache.manifest["label_hashes"] and cache.labels_verified
    assert cache.clusters().sizes.tolist() == [3, 2, 1]
    view = cache.subset(indices=np.array([2, 3, 4]))
    np.testing.assert_array_equal(view.identities, [3, 9, 3])
    assert view.clusters().n_clusters == 2
    # a changed identity is refused on load, as any label file
    arr = np.load(path / "identities.npy")
    arr[0] = 3
    np.save(path / "identities.npy", arr)
    with pytest.raises(DataError, match="identities.npy: content differs from the hash"):
        load_cache(path)
    (path / "identities.npy").unlink()
    with pytest.raises(DataError, match="missing identities.npy"):
        load_cache(path)


def test_caches_without_identities_hash_and_load_as_before(cache_dir):
    cache = load_cache(cache_dir, verify=True)
    assert cache.identities is None and cache.clusters() is None
    assert cache.manifest["identities"] is None
    # the hash of a cache without identities is the function it was before they existed
    assert cache.content_hash == content_hash(cache.images, cache.attrs, cache.split,
                                              cache.groups, cache.extra)
    # a manifest written before identities existed (no key at all) loads
    path = cache_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["identities"]
    path.write_text(json.dumps(manifest))
    assert load_cache(cache_dir).identities is None


def test_identities_must_be_integers_per_row(tmp_path):
    with CacheWriter(tmp_path / "x", n=2, height=4, width=4, attribute_names=["a"]) as w:
        w.write_images(0, np.zeros((2, 4, 4, 3), np.uint8))
        with pytest.raises(ValueError, match="identities must be integers"):
            w.set_labels(attrs=np.zeros((2, 1), bool), identities=np.array([1.5, 2.0]))
        w.set_labels(attrs=np.zeros((2, 1), bool))
