"""Tests for ``biaslens audit steer`` and the steering plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs
from biaslens.report.plots_steer import make_grid

torch.set_num_threads(1)
runner = CliRunner()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Tiny course-architecture generator and classifier saved as biaslens checkpoints."""
    from biaslens.models.checkpoint import save_checkpoint
    from biaslens.models.coursera import CourseraClassifier, CourseraDCGANGenerator

    root = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    save_checkpoint(CourseraDCGANGenerator(hidden_dim=4), root / "gen")
    save_checkpoint(CourseraClassifier(hidden_dim=4), root / "clf")
    return root / "gen", root / "clf"


def _args(ckpt, out, *extra):
    gen, clf = ckpt
    return ["audit", "steer", "--target", "-Male", "--generator", str(gen), "--classifier",
            str(clf), "--n", "6", "--steps", "4", "--n-boot", "50", "--n-show", "2",
            "--device", "cpu", "--out", str(out), *extra]


def test_end_to_end_writes_json_and_pngs(checkpoints, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, _args(checkpoints, out))
    assert res.exit_code == 0, res.output
    assert "Steering toward -Male" in res.output
    data = json.loads((out / "steer.json").read_text())
    assert data["target"] == "-Male" and data["sign"] == -1
    assert len(data["ranked"]) == 10 and len(data["covariance"]) == 40
    assert all(r["name"] != "Male" for r in data["ranked"])
    for name in ("steer_grid.png", "steer_covariance.png"):
        with Image.open(out / name) as im:
            assert im.format == "PNG" and im.size[0] > 100


def test_table_reads_at_80_columns_and_wide_adds_columns(checkpoints, tmp_path, monkeypatch):
    from biaslens.cli._common import console

    monkeypatch.setattr(console, "width", 80)
    res = runner.invoke(app, _args(checkpoints, tmp_path / "t", "--reference", "none"))
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "t" / "steer.json").read_text())
    lines = res.output.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in res.output
    for row in data["ranked"]:  # Wearing_Lipstick / Wearing_Earrings never both "Weari…"
        assert any(line.startswith(f"│ {row['name']} ") for line in lines), row["name"]
    flat = " ".join(res.output.split())  # undo the console's wrapping
    assert "6 faces, 4 steps each way" in flat and "logit²" in flat
    assert "settings: 6 faces (noise vectors), each steered 4 steps toward -Male" in flat
    def header(text):
        return next(line for line in text.splitlines() if line.startswith("┃ attribute"))

    assert "significant" not in header(res.output)
    monkeypatch.setattr(console, "width", 120)
    wide = runner.invoke(app, _args(checkpoints, tmp_path / "w", "--reference", "none",
                                    "--wide"))
    assert wide.exit_code == 0 and "significant" in header(wide.output)


def test_json_dash_is_strict_json_on_stdout_and_path_writes_a_file(checkpoints, tmp_path):
    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))

    res = runner.invoke(app, _args(checkpoints, tmp_path / "s", "--json", "-"))
    assert res.exit_code == 0
    assert strict(res.output)["target"] == "-Male"      # nothing but the JSON on stdout
    assert (tmp_path / "s" / "steer.json").is_file()    # and always the JSON in --out
    res = runner.invoke(app, _args(checkpoints, tmp_path / "p", "--json",
                                   str(tmp_path / "copy.json")))
    assert res.exit_code == 0 and "Steering toward -Male" in res.output
    assert strict((tmp_path / "copy.json").read_text()) == strict(
        (tmp_path / "p" / "steer.json").read_text())


def test_json_flag_prints_machine_readable(checkpoints, tmp_path):
    res = runner.invoke(app, _args(checkpoints, tmp_path / "j", "--json", "-", "--direction", "+"))
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["settings"]["direction"] == "+" and data["settings"]["steps"] == 4
    assert data == json.loads((tmp_path / "j" / "steer.json").read_text())


def test_dry_run_does_not_write(checkpoints, tmp_path):
    res = runner.invoke(app, _args(checkpoints, tmp_path / "d", "--dry-run"))
    assert res.exit_code == 0, res.output
    assert '"target": "-Male"' in res.output and not (tmp_path / "d").exists()


def test_missing_default_models_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "no-models"))
    res = runner.invoke(app, ["audit", "steer", "--out", str(tmp_path)])
    assert isinstance(res.exception, BiasLensError)
    assert "no --generator given" in str(res.exception)


def test_missing_checkpoint_file_is_named(tmp_path):
    with pytest.raises(BiasLensError, match="nope.pth: generator checkpoint not found"):
        inputs.model_path(tmp_path / "nope.pth", "generator")


def test_unknown_target_is_a_user_error(checkpoints, tmp_path):
    gen, clf = checkpoints
    res = runner.invoke(app, ["audit", "steer", "--target", "Beardy", "--generator", str(gen),
                              "--classifier", str(clf), "--n", "4", "--steps", "1",
                              "--out", str(tmp_path)])
    assert isinstance(res.exception, BiasLensError) and "Beardy" in str(res.exception)


def test_make_grid_places_every_image():
    imgs = np.arange(2 * 3, dtype=np.uint8).reshape(2, 3, 1, 1, 1) * 10 + 5
    imgs = np.broadcast_to(imgs, (2, 3, 2, 2, 3))
    grid = make_grid(imgs, pad=1, pad_value=255)
    assert grid.shape == (2 * 3 + 1, 3 * 3 + 1, 3)
    for r in range(2):
        for c in range(3):
            cell = grid[1 + 3 * r:3 + 3 * r, 1 + 3 * c:3 + 3 * c]
            assert (cell == imgs[r, c, 0, 0, 0]).all()
    assert (grid[0] == 255).all() and (grid[:, 0] == 255).all()


def test_reference_and_judge_options(checkpoints, tmp_path):
    out = tmp_path / "ref"
    gen, clf = checkpoints
    res = runner.invoke(app, _args(checkpoints, out, "--reference", "world:celeba",
                                   "--reference-n", "20", "--judge", str(clf)))
    assert res.exit_code == 0, res.output
    data = json.loads((out / "steer.json").read_text())
    dc = data["data_comparison"]
    assert dc["n_reference"] == 20 and "celeba" in dc["reference"]
    assert len(dc["path_slope"]) == 40 and data["judge"]["used"] is True
    assert data["inputs"]["reference"] == "world:celeba"
    assert "excesssignificantatFDR" in "".join(res.output.split())  # the table caption


def test_user_checkpoints_default_to_no_reference(checkpoints, tmp_path):
    res = runner.invoke(app, _args(checkpoints, tmp_path / "n", "--json", "-"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["data_comparison"] is None


def test_bad_reference_is_one_clear_error(checkpoints, tmp_path):
    res = runner.invoke(app, _args(checkpoints, tmp_path / "b", "--reference", "nowhere"))
    assert res.exit_code != 0
    assert "--reference nowhere" in res.output or "--reference nowhere" in str(res.exception)


def test_auto_reference_is_skipped_without_bootstrap(checkpoints, tmp_path, monkeypatch):
    # shipped-model defaults: 'auto' compares with the world only when n_boot >= 50
    gen, clf = checkpoints
    monkeypatch.setattr(inputs, "model_path",
                        lambda given, role: {"generator": gen, "classifier": clf}[role])
    base = ["audit", "steer", "--n", "6", "--steps", "3", "--device", "cpu", "--json", "-",
            "--reference-n", "20"]
    res = runner.invoke(app, base + ["--n-boot", "0", "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["data_comparison"] is None
    res = runner.invoke(app, base + ["--n-boot", "50", "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["data_comparison"]["n_reference"] == 20
