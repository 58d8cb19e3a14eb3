"""Tiny CelebA-format and folder+CSV fixtures written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from biaslens.data.celeba import format_table
from biaslens.names import CELEBA_ATTRIBUTES


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
                 groups: bool = False, names: tuple[str, ...] = CELEBA_ATTRIBUTES) -> dict:
    """Write a CelebA folder at ``root``; return the truth written."""
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
    return {"files": files, "attrs": attrs, "split": split if partition else np.zeros(n, np.int8),
            "groups": grp if groups else None, "img_dir": img_dir}


@pytest.fixture
def celeba(tmp_path: Path) -> tuple[Path, dict]:
    root = tmp_path / "celeba_src"
    return root, write_celeba(root, groups=True)


@pytest.fixture
def folder_csv(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A folder of 12 non-square PNG/JPEG images and a labels CSV with groups and split."""
    rng = np.random.default_rng(3)
    img_dir = tmp_path / "faces"
    img_dir.mkdir()
    n = 12
    files = [f"img_{i}.{'png' if i % 3 == 0 else 'jpg'}" for i in range(n)]
    for name, arr in zip(files, smooth_images(n, 5, width=90, height=70)):
        Image.fromarray(arr).save(img_dir / name)
    smiling = rng.random(n) < 0.5
    young = rng.random(n) < 0.5
    race = rng.choice(["Black", "White", "East Asian"], n)
    skin = rng.integers(0, 2, n)
    split = rng.choice(["train", "val", "test"], n)
    lines = ["file,Smiling,Young,race,skin,split"]
    lines += [f"{f},{int(s)},{1 if y else -1},{r},{k},{sp}"
              for f, s, y, r, k, sp in zip(files, smiling, young, race, skin, split)]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    return img_dir, csv_path, {"files": files, "Smiling": smiling, "Young": young,
                               "race": race, "skin": skin, "split": split}


@pytest.fixture
def make_celeba():
    """The :func:`write_celeba` helper, for tests that need a variant."""
    return write_celeba


@pytest.fixture
def make_images():
    """The :func:`smooth_images` helper."""
    return smooth_images
