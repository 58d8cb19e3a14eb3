"""``biaslens data ingest`` / ``biaslens data info`` through typer's test runner."""

from __future__ import annotations

import json
import re

import typer
from typer.testing import CliRunner

import biaslens.cli.data_ingest  # noqa: F401  (registers the commands)
from biaslens.cli._common import data_app
from biaslens.errors import DataError

runner = CliRunner()
app = typer.Typer()
app.add_typer(data_app, name="data")


def test_ingest_and_info(celeba, tmp_path):
    root, _ = celeba
    out = tmp_path / "cache"
    res = runner.invoke(app, ["data", "ingest", str(root), "--out", str(out), "--size", "8",
                              "--workers", "1", "--crop", "0,0,178,178"])
    assert res.exit_code == 0, res.output
    assert "wrote 20 images" in res.output
    res = runner.invoke(app, ["data", "info", str(out), "--verify"])
    assert res.exit_code == 0, res.output
    assert "content hash verified" in res.output and "train" in res.output
    assert re.search(r"image names\s+│ recorded \(relative to the image folder\)", res.output)
    res = runner.invoke(app, ["data", "info", str(out), "--json", "-"])
    manifest = json.loads(res.output)
    assert manifest["n"] == 20 and manifest["crop"] == [0, 0, 178, 178]
    assert manifest["image_names"]["width"] == 10


def test_info_says_when_a_cache_has_no_image_names(tmp_path):
    from biaslens.world.synth import synthesize_cache

    cache = synthesize_cache("celeba", 12, tmp_path / "w", size=8, seed=0)
    res = runner.invoke(app, ["data", "info", str(cache.path)])
    assert res.exit_code == 0, res.output
    assert re.search(r"image names\s+│ - \(not recorded\)", res.output)


def test_skip_bad_reports_count(celeba, tmp_path):
    root, truth = celeba
    (truth["img_dir"] / "000003.jpg").write_bytes(b"junk")
    out = tmp_path / "cache"
    res = runner.invoke(app, ["data", "ingest", str(root), "--out", str(out), "--size", "8",
                              "--workers", "1"])
    assert isinstance(res.exception, DataError) and "000003.jpg" in str(res.exception)
    res = runner.invoke(app, ["data", "ingest", str(root), "--out", str(out), "--size", "8",
                              "--workers", "1", "--skip-bad", "--crop", "none"])
    assert res.exit_code == 0, res.output
    assert "skipped 1 unreadable" in res.output and "wrote 19 images" in res.output


def test_kaggle_partial_download_and_only_present(make_kaggle_celeba, tmp_path):
    from biaslens.cli.main import cli_message

    root = tmp_path / "archive"
    make_kaggle_celeba(root, n=10, present=4)
    out = tmp_path / "cache"
    res = runner.invoke(app, ["data", "ingest", str(root), "--out", str(out), "--size", "8",
                              "--workers", "1"])
    assert isinstance(res.exception, DataError)
    msg = cli_message(str(res.exception))
    assert "--only-present" in msg and "6 missing in all, of 10 listed" in msg
    res = runner.invoke(app, ["data", "ingest", str(root), "--out", str(out), "--size", "8",
                              "--workers", "1", "--only-present"])
    assert res.exit_code == 0, res.output
    assert "left out 6 of 10 listed rows" in res.output and "wrote 4 images" in res.output
    assert "bootstraps resample images" in res.output


def test_identity_column_for_a_csv_source(make_images, tmp_path):
    from PIL import Image

    img_dir = tmp_path / "faces"
    img_dir.mkdir()
    files = [f"f{i}.jpg" for i in range(12)]
    for name, arr in zip(files, make_images(12, 1, width=40, height=50)):
        Image.fromarray(arr).save(img_dir / name)
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("file,Smiling,person\n" + "".join(f"{f},{i % 2},p{i // 3}\n"
                                                          for i, f in enumerate(files)))
    out = tmp_path / "cache"
    res = runner.invoke(app, ["data", "ingest", str(img_dir), "--csv", str(csv_path), "--out",
                              str(out), "--size", "8", "--workers", "1",
                              "--identity-column", "person"])
    assert res.exit_code == 0, res.output
    assert "4 (from person): bootstraps resample identities" in res.output
