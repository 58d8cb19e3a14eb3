"""Training data (train/data.py): validation, splits, groups, image store, labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.errors import DataError
from biaslens.train.data import ImageStore, TrainData, as_train_data, label_tensor


def _images(n: int = 6, size: int = 4) -> np.ndarray:
    return np.arange(n * size * size * 3, dtype=np.uint8).reshape(n, size, size, 3)


def test_train_data_fills_names_and_selects_splits_and_groups():
    d = TrainData(images=_images(), attrs=np.eye(6, 2), split=np.array([0, 0, 1, 2, 0, 1]),
                  groups=np.arange(12).reshape(6, 2), group_names=["is_face", "skin"])
    assert d.n == 6 and d.image_size == (4, 4) and d.attrs.dtype == bool
    assert d.attribute_names == ["attr_0", "attr_1"]
    np.testing.assert_array_equal(d.indices("train"), [0, 1, 4])
    np.testing.assert_array_equal(d.indices("test"), [3])
    np.testing.assert_array_equal(d.group("skin"), [1, 3, 5, 7, 9, 11])
    with pytest.raises(DataError, match="no group column 'age'"):
        d.group("age")
    plain = TrainData(images=_images())
    np.testing.assert_array_equal(plain.indices("train"), np.arange(6))
    assert plain.indices("val").size == 0


@pytest.mark.parametrize("kw, match", [
    ({"images": np.zeros((2, 4, 4), np.uint8)}, r"images must be \(N, H, W, 3\)"),
    ({"images": np.zeros((2, 4, 4, 3), np.float32)}, "images must be uint8"),
    ({"attrs": np.zeros((5, 2), bool)}, "attrs has 5 rows but there are 6 images"),
    ({"attrs": np.zeros((6, 2), bool), "attribute_names": ["a"]}, "1 attribute names for 2"),
])
def test_train_data_refuses_bad_arrays(kw, match):
    with pytest.raises(DataError, match=match):
        TrainData(**{"images": _images(), **kw})


def test_as_train_data_accepts_arrays_caches_and_refuses_others(tmp_path):
    d = TrainData(images=_images())
    assert as_train_data(d) is d
    assert as_train_data(torch.from_numpy(_images())).n == 6
    from biaslens.world.synth import synthesize_cache

    cache = synthesize_cache("celeba", 8, tmp_path / "c", size=16, seed=0)
    for given in (cache, cache.path, str(cache.path)):
        t = as_train_data(given)
        assert t.n == 8 and t.attribute_names == list(cache.attribute_names)
        assert t.content_hash == cache.content_hash
    with pytest.raises(DataError, match="cannot train on a dict"):
        as_train_data({})


def test_image_store_gathers_rows_from_ram_and_from_a_memmap(tmp_path):
    images = _images()
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8,
                                   shape=images.shape)
    mm[:] = images
    idx = torch.tensor([4, 1, 1, 3])
    for store in (ImageStore(images, torch.device("cpu")),
                  ImageStore(mm, torch.device("cpu"), max_ram_bytes=0)):
        np.testing.assert_array_equal(store.gather(idx).numpy(), images[[4, 1, 1, 3]])
    assert ImageStore(mm, torch.device("cpu"), max_ram_bytes=0).memmap is mm


def test_label_tensor_selects_columns_as_float():
    attrs = np.array([[True, False, True], [False, True, False]])
    t = label_tensor(attrs, [2, 0])
    assert t.dtype == torch.float32 and t.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    with pytest.raises(DataError, match="needs attribute labels"):
        label_tensor(None)
