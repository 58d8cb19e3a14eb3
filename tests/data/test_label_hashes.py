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
