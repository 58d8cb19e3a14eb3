"""``biaslens data ingest`` / ``biaslens data info`` through typer's test runner."""

from __future__ import annotations

import json

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
    res = runner.invoke(app, ["data", "info", str(out), "--json", "-"])
    manifest = json.loads(res.output)
    assert manifest["n"] == 20 and manifest["crop"] == [0, 0, 178, 178]


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
