"""A folder+CSV source written by the tests themselves (the CelebA fixtures are shared:
tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def folder_csv(tmp_path: Path, make_images) -> tuple[Path, Path, dict]:
    """A folder of 12 non-square PNG/JPEG images and a labels CSV with groups and split."""
    rng = np.random.default_rng(3)
    img_dir = tmp_path / "faces"
    img_dir.mkdir()
    n = 12
    files = [f"img_{i}.{'png' if i % 3 == 0 else 'jpg'}" for i in range(n)]
    for name, arr in zip(files, make_images(n, 5, width=90, height=70)):
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
