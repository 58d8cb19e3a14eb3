"""Fixtures shared across test folders.

A folder's own conftest.py holds only the fixtures used by that folder alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from biaslens.data.celeba import format_table
from biaslens.names import CELEBA_ATTRIBUTES

NAMES = ["Male", "Smiling", "Young"]


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine is shared; tiny models do not profit from threads.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Checkpoint folders (generator, classifier, cvae) and a 64 px cache of 160 faces."""
    from biaslens.models import build_model, save_checkpoint
    from biaslens.world.synth import synthesize_cache

    root = tmp_path_factory.mktemp("tiny")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    paths = {
        "generator": save_checkpoint(build_model("coursera_dcgan_generator", z_dim=16,
                                                 hidden_dim=8), root / "generator"),
        "classifier": save_checkpoint(build_model("coursera_classifier", hidden_dim=8,
                                                  attribute_names=NAMES), root / "classifier"),
        "cvae": save_checkpoint(build_model("cvae", condition_names=["Male"], image_size=64,
                                            latent_dim=8, hidden_dim=8), root / "cvae"),
    }
    paths["cache"] = synthesize_cache("celeba", 160, root / "cache", size=64, seed=0).path
    torch.set_num_threads(old)
    return paths


def smooth_images(n: int, seed: int, width: int = 178, height: int = 218) -> np.ndarray:
    """uint8 (n, height, width, 3): random colour gradients plus mild noise."""
    rng = np.random.default_rng(seed)
    yy = np.linspace(0, 1, height)[None, :, None, None]
    xx = np.linspace(0, 1, width)[None, None, :, None]
    base = rng.uniform(0, 255, (n, 1, 1, 3))
    gy, gx = rng.uniform(-120, 120, (2, n, 1, 1, 3))
    noise = rng.normal(0, 6, (n, height, width, 3))
    return np.clip(base + gy * yy + gx * xx + noise, 0, 255).astype(np.uint8)


def write_celeba(root: Path, n: int = 20, seed: int = 0, *, partition: bool = True,
                 groups: bool = False, names: tuple[str, ...] = CELEBA_ATTRIBUTES,
                 per_identity: int | None = None) -> dict:
    """Write a CelebA folder at ``root``; return the truth written.

    ``per_identity``: also write ``identity_CelebA.txt`` with that many photos per person
    (identity numbers as CelebA's: 1..10177, not in row order).
    """
    rng = np.random.default_rng(seed)
    img_dir = root / "img_align_celeba"
    img_dir.mkdir(parents=True, exist_ok=True)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name, arr in zip(files, smooth_images(n, seed)):
        Image.fromarray(arr).save(img_dir / name, quality=90)
    attrs = rng.random((n, len(names))) < 0.4
    (root / "list_attr_celeba.txt").write_text(format_table(files, attrs, list(names)))
    split = rng.integers(0, 3, n).astype(np.int8)
    if partition:
        (root / "list_eval_partition.txt").write_text(
            "".join(f"{f} {s}\n" for f, s in zip(files, split)))
    grp = rng.integers(0, 2, (n, 2)).astype(np.int16)
    if groups:
        (root / "list_groups_celeba.txt").write_text(
            format_table(files, grp, ["skin_type", "age_band"], width=1))
    ids = None
    if per_identity:
        ids = (rng.permutation(10177)[:-(-n // per_identity)] + 1)[np.arange(n) // per_identity]
        (root / "identity_CelebA.txt").write_text(
            "".join(f"{f} {i}\n" for f, i in zip(files, ids)))
    return {"files": files, "attrs": attrs, "split": split if partition else np.zeros(n, np.int8),
            "groups": grp if groups else None, "img_dir": img_dir, "identities": ids}


def write_kaggle_celeba(root: Path, n: int = 12, seed: int = 0, *, newline: str = "\n",
                        quote: bool = False, present: int | None = None) -> dict:
    """Write CelebA as Kaggle ships it: ``list_attr_celeba.csv`` (``image_id,5_o_Clock_Shadow,
    ...``, -1/1), ``list_eval_partition.csv`` (``image_id,partition``), the bbox and
    landmark CSVs, and real JPEGs under ``img_align_celeba/img_align_celeba/``.

    ``quote``: every cell in double quotes (as some CSV exports write them); ``present``:
    write only the first ``present`` images (a partial download).
    """
    rng = np.random.default_rng(seed)
    img_dir = root / "img_align_celeba" / "img_align_celeba"
    img_dir.mkdir(parents=True, exist_ok=True)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    k = n if present is None else present
    for name, arr in zip(files[:k], smooth_images(k, seed)):
        Image.fromarray(arr).save(img_dir / name, quality=90)
    attrs = rng.random((n, 40)) < 0.4
    split = rng.integers(0, 3, n).astype(np.int8)

    def row(cells) -> str:
        return ",".join(f'"{c}"' if quote else str(c) for c in cells)

    def write(name: str, header: list[str], rows: list[list]) -> None:
        text = newline.join([row(header), *(row(r) for r in rows)]) + newline
        (root / name).write_bytes(text.encode())

    write("list_attr_celeba.csv", ["image_id", *CELEBA_ATTRIBUTES],
          [[f, *np.where(a, 1, -1)] for f, a in zip(files, attrs)])
    write("list_eval_partition.csv", ["image_id", "partition"],
          [[f, s] for f, s in zip(files, split)])
    write("list_bbox_celeba.csv", ["image_id", "x_1", "y_1", "width", "height"],
          [[f, 95, 71, 226, 313] for f in files])
    write("list_landmarks_align_celeba.csv",
          ["image_id", "lefteye_x", "lefteye_y", "righteye_x", "righteye_y", "nose_x",
           "nose_y", "leftmouth_x", "leftmouth_y", "rightmouth_x", "rightmouth_y"],
          [[f, 69, 109, 106, 113, 77, 142, 73, 152, 108, 154] for f in files])
    return {"files": files, "attrs": attrs, "split": split, "img_dir": img_dir}


@pytest.fixture
def make_kaggle_celeba():
    """The :func:`write_kaggle_celeba` helper."""
    return write_kaggle_celeba


@pytest.fixture
def celeba(tmp_path: Path) -> tuple[Path, dict]:
    """A tiny CelebA folder (20 images, partition and group files) and the truth written."""
    root = tmp_path / "celeba_src"
    return root, write_celeba(root, groups=True)


@pytest.fixture(scope="session")
def make_celeba():
    """The :func:`write_celeba` helper, for tests that need a variant (any scope)."""
    return write_celeba


@pytest.fixture
def make_images():
    """The :func:`smooth_images` helper."""
    return smooth_images
