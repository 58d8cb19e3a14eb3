"""ingest(): CelebA and folder+CSV sources into caches; bad images; interruption."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from biaslens.data.cache import load_cache
from biaslens.data.images import CELEBA_CROP, load_image
from biaslens.data.ingest import ingest, open_source
from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES


def test_ingest_celeba_round_trip(celeba, tmp_path):
    root, truth = celeba
    cache = ingest(root, tmp_path / "cache", size=16, workers=1)
    assert cache.images.shape == (20, 16, 16, 3) and cache.images.dtype == np.uint8
    np.testing.assert_array_equal(cache.attrs, truth["attrs"])
    np.testing.assert_array_equal(cache.split, truth["split"])
    np.testing.assert_array_equal(cache.groups, truth["groups"])
    assert cache.attribute_names == list(CELEBA_ATTRIBUTES)
    assert cache.group_names == ["skin_type", "age_band"]
    expected = load_image(truth["img_dir"] / truth["files"][7], size=16, crop=CELEBA_CROP)
    np.testing.assert_array_equal(cache.images[7], expected)
    m = cache.manifest
    assert m["crop"] == list(CELEBA_CROP) and m["source"]["kind"] == "celeba"
    assert m["counts"]["listed"] == 20 and m["counts"]["skipped_bad"] == 0
    assert m["source"]["partition_file"] == "list_eval_partition.txt"
    load_cache(cache.path, verify=True)


def test_parallel_workers_give_identical_cache(celeba, tmp_path):
    root, _ = celeba
    one = ingest(root, tmp_path / "one", size=16, workers=1, chunk_size=3)
    two = ingest(root, tmp_path / "two", size=16, workers=2, chunk_size=3)
    assert one.content_hash == two.content_hash
    np.testing.assert_array_equal(one.images, two.images)


@pytest.mark.parametrize("crop, expected", [(None, None), ("0,0,100,100", [0, 0, 100, 100])])
def test_crop_options(celeba, tmp_path, crop, expected):
    root, truth = celeba
    cache = ingest(root, tmp_path / "c", size=12, crop=crop, workers=1)
    assert cache.manifest["crop"] == expected
    box = None if crop is None else (0, 0, 100, 100)
    np.testing.assert_array_equal(
        cache.images[3], load_image(truth["img_dir"] / truth["files"][3], size=12, crop=box))


def _break(img_dir, name, how):
    path = img_dir / name
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:400])
    else:
        path.write_bytes(b"\x00" * 100)


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_bad_image_stops_by_default(celeba, tmp_path, how):
    root, truth = celeba
    _break(truth["img_dir"], "000005.jpg", how)
    with pytest.raises(DataError, match="000005.jpg.*cannot decode.*skip_bad=True"):
        ingest(root, tmp_path / "c", size=8, workers=1)
    assert sorted(os.listdir(tmp_path)) == ["celeba_src"]      # nothing half-written


def test_skip_bad_drops_and_counts(celeba, tmp_path):
    root, truth = celeba
    for name in ("000002.jpg", "000011.jpg", "000020.jpg"):
        _break(truth["img_dir"], name, "truncated")
    cache = ingest(root, tmp_path / "c", size=8, workers=2, chunk_size=4, skip_bad=True)
    keep = np.ones(20, bool)
    keep[[1, 10, 19]] = False
    assert len(cache) == 17
    np.testing.assert_array_equal(cache.attrs, truth["attrs"][keep])
    np.testing.assert_array_equal(cache.split, truth["split"][keep])
    np.testing.assert_array_equal(cache.groups, truth["groups"][keep])
    expected = [load_image(truth["img_dir"] / truth["files"][i], size=8, crop=CELEBA_CROP)
                for i in np.flatnonzero(keep)]
    np.testing.assert_array_equal(cache.images, np.stack(expected))
    counts = cache.manifest["counts"]
    assert counts["skipped_bad"] == 3 and counts["listed"] == 20
    assert [b["file"] for b in counts["bad_files"]] == ["000002.jpg", "000011.jpg", "000020.jpg"]
    assert any("skipped 3" in note for note in cache.manifest["notes"])
    load_cache(cache.path, verify=True)


def test_interrupted_ingest_leaves_no_cache_and_reruns(celeba, tmp_path):
    root, _ = celeba
    out = tmp_path / "c"

    def stop(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(root, out, size=8, workers=1, chunk_size=4, progress=stop)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["celeba_src"]
    seen = []
    cache = ingest(root, out, size=8, workers=1, chunk_size=4,
                   progress=lambda d, t: seen.append((d, t)))
    assert len(cache) == 20 and seen[-1] == (20, 20)


def test_existing_cache_needs_overwrite(celeba, tmp_path):
    root, _ = celeba
    first = ingest(root, tmp_path / "c", size=8, workers=1)
    with pytest.raises(DataError, match="already exists.*overwrite=True"):
        ingest(root, tmp_path / "c", size=8, workers=1)
    second = ingest(root, tmp_path / "c", size=10, workers=1, overwrite=True)
    assert second.images.shape[1] == 10 and first.content_hash != second.content_hash


# ---------------------------------------------------------------- folder + CSV
def test_ingest_folder_csv_center_crop(folder_csv, tmp_path):
    img_dir, csv_path, truth = folder_csv
    cache = ingest(img_dir, tmp_path / "c", csv=csv_path, size=10, workers=1,
                   group_columns=["race", "skin"])
    assert cache.manifest["source"]["crop_mode"] == "center" and cache.manifest["crop"] is None
    np.testing.assert_array_equal(
        cache.images[4], load_image(img_dir / truth["files"][4], size=10, crop="center"))
    assert cache.group_names == ["race", "skin"]
    # a CSV path alone means the images sit next to it; here they do not
    with pytest.raises(DataError, match="'img_0.png' not found"):
        open_source(csv_path, group_columns=["race", "skin"])


def test_open_source_detection(celeba, tmp_path, folder_csv):
    root, _ = celeba
    assert open_source(root).kind == "celeba"
    assert open_source(root.parent / "celeba_src").kind == "celeba"
    img_dir, csv_path, _ = folder_csv
    assert open_source(img_dir, csv=csv_path, group_columns=["race", "skin"]).kind == "folder_csv"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="not a CelebA folder.*csv=FILE"):
        open_source(empty)
    with pytest.raises(DataError, match="source not found"):
        open_source(tmp_path / "nope")


def test_crop_that_does_not_fit_is_reported(folder_csv, tmp_path):
    img_dir, csv_path, _ = folder_csv
    with pytest.raises(DataError, match="does not fit in a 90x70 image"):
        ingest(img_dir, tmp_path / "c", csv=csv_path, crop="celeba", size=8, workers=1,
               group_columns=["race", "skin"])


def test_png_in_celeba_folder_is_fine(tmp_path, make_celeba):
    truth = make_celeba(tmp_path / "src", n=3)
    path = truth["img_dir"] / truth["files"][0]
    arr = np.asarray(Image.open(path))
    Image.fromarray(arr).save(path, format="PNG")          # wrong extension, still decodable
    assert len(ingest(tmp_path / "src", tmp_path / "c", size=8, workers=1)) == 3


# ---------------------------------------------------------------- identities, Kaggle, partial
def test_ingest_keeps_identities_and_kaggle_split(make_celeba, make_kaggle_celeba, tmp_path):
    truth = make_celeba(tmp_path / "official", n=12, per_identity=3)
    cache = ingest(tmp_path / "official", tmp_path / "c1", size=8, workers=1)
    np.testing.assert_array_equal(cache.identities, truth["identities"])
    assert cache.manifest["identities"] == {"n_identities": 4, "from": "identity_CelebA.txt"}
    load_cache(cache.path, verify=True)
    k = make_kaggle_celeba(tmp_path / "archive", n=9, newline="\r\n", quote=True)
    cache = ingest(tmp_path / "archive", tmp_path / "c2", size=8, workers=1)
    np.testing.assert_array_equal(cache.split, k["split"])
    np.testing.assert_array_equal(cache.attrs, k["attrs"])
    assert cache.manifest["source"]["layout"] == "kaggle"
    assert cache.manifest["source"]["partition_file"] == "list_eval_partition.csv"
    expected = load_image(k["img_dir"] / k["files"][3], size=8, crop=CELEBA_CROP)
    np.testing.assert_array_equal(cache.images[3], expected)
    # the attribute CSV itself as the source: still CelebA (not a generic folder+CSV)
    again = ingest(tmp_path / "archive" / "list_attr_celeba.csv", tmp_path / "c3", size=8,
                   workers=1)
    assert again.content_hash == cache.content_hash


def test_ingest_only_present_counts_rows_left_out(make_kaggle_celeba, tmp_path):
    make_kaggle_celeba(tmp_path / "p", n=15, present=6)
    with pytest.raises(DataError, match="only_present=True"):
        ingest(tmp_path / "p", tmp_path / "c", size=8, workers=1)
    assert not (tmp_path / "c").exists()
    cache = ingest(tmp_path / "p", tmp_path / "c", size=8, workers=1, only_present=True)
    counts = cache.manifest["counts"]
    assert len(cache) == 6 and counts["left_out"] == 9 and counts["listed"] == 15
    assert any("9 of 15 rows" in note for note in cache.manifest["notes"])


# ---------------------------------------------------------------- image names
def test_celeba_names_survive_ingest_and_skip_bad(celeba, tmp_path):
    root, truth = celeba
    cache = ingest(root, tmp_path / "all", size=8, workers=1)
    assert cache.image_names.tolist() == truth["files"]            # 000001.jpg, ...
    assert cache.manifest["image_names"] == {"width": 10, "relative_to": "source.image_dir",
                                             "from": "list_attr_celeba.txt"}
    for name in ("000003.jpg", "000014.jpg"):
        _break(truth["img_dir"], name, "garbage")
    cache = ingest(root, tmp_path / "c", size=8, workers=2, chunk_size=4, skip_bad=True)
    kept = [f for f in truth["files"] if f not in ("000003.jpg", "000014.jpg")]
    assert cache.image_names.tolist() == kept
    # each name is the file its row was decoded from
    for i in (0, 2, 12, 17):
        np.testing.assert_array_equal(
            cache.images[i], load_image(truth["img_dir"] / str(cache.image_names[i]), size=8,
                                        crop=CELEBA_CROP))
    load_cache(cache.path, verify=True)


def test_kaggle_names_with_only_present(make_kaggle_celeba, tmp_path):
    k = make_kaggle_celeba(tmp_path / "p", n=10, present=4, quote=True)
    # delete two more from the middle: a gap, not just a cut-off tail
    for name in ("000002.jpg", "000003.jpg"):
        (k["img_dir"] / name).unlink()
    cache = ingest(tmp_path / "p", tmp_path / "c", size=8, workers=1, only_present=True)
    assert cache.image_names.tolist() == ["000001.jpg", "000004.jpg"]
    np.testing.assert_array_equal(cache.attrs, k["attrs"][[0, 3]])
    np.testing.assert_array_equal(cache.split, k["split"][[0, 3]])
    np.testing.assert_array_equal(
        cache.images[1], load_image(k["img_dir"] / "000004.jpg", size=8, crop=CELEBA_CROP))
    assert cache.manifest["image_names"]["from"] == "list_attr_celeba.csv"


def test_folder_csv_names_are_the_csv_cells(tmp_path, make_images):
    img_dir = tmp_path / "faces"
    (img_dir / "b").mkdir(parents=True)
    files = ["a_0.png", "b/a_1.jpg", "b/a_2.png", "a_3.jpg", "b/a_4.png"]
    for name, arr in zip(files, make_images(5, 1, width=30, height=40)):
        Image.fromarray(arr).save(img_dir / name)
    (img_dir / "b" / "a_2.png").unlink()                           # listed, not there
    _break(img_dir, "a_3.jpg", "truncated")                        # there, unreadable
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("image,Smiling\n" + "".join(f"{f},{i % 2}\n" for i, f in enumerate(files)))
    cache = ingest(img_dir, tmp_path / "c", csv=csv_path, size=8, workers=1,
                   only_present=True, skip_bad=True)
    assert cache.image_names.tolist() == ["a_0.png", "b/a_1.jpg", "b/a_4.png"]
    np.testing.assert_array_equal(cache.attrs[:, 0], [False, True, False])
    assert cache.manifest["image_names"]["from"] == "image"
    np.testing.assert_array_equal(
        cache.images[2], load_image(img_dir / "b" / "a_4.png", size=8, crop="center"))
