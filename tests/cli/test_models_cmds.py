"""``biaslens models list | import | info``."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.errors import CheckpointError
from biaslens.models import build_model, count_parameters, list_architectures

runner = CliRunner()


def test_list_writes_every_architecture(tmp_path):
    out = tmp_path / "models.json"
    res = runner.invoke(app, ["models", "list", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    rows = {r["architecture"]: r for r in data["architectures"]}
    assert sorted(rows) == list_architectures()
    assert rows["coursera_dcgan_generator"]["n_parameters"] == 1_849_155
    assert rows["coursera_classifier"]["kind"] == "classifier"
    assert "coursera_dcgan_generator" in res.output


def test_import_then_info(tmp_path):
    torch.manual_seed(0)
    gen = build_model("coursera_dcgan_generator", hidden_dim=4)
    pth = tmp_path / "pretrained_celeba.pth"
    torch.save({"gen": gen.state_dict(), "gen_opt": {}}, pth)
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(tmp_path / "ck")])
    assert res.exit_code == 0, res.output
    assert "coursera_dcgan_generator" in res.output
    info_json = tmp_path / "info.json"
    res = runner.invoke(app, ["models", "info", str(tmp_path / "ck"), "--json", str(info_json)])
    assert res.exit_code == 0, res.output
    info = json.loads(info_json.read_text())
    assert info["architecture"] == "coursera_dcgan_generator"
    assert info["n_parameters"] == count_parameters(gen)
    assert info["extra"]["imported_from"]["source"] == str(pth)


def test_import_errors_are_biaslens_errors(tmp_path):
    pth = tmp_path / "x.pth"
    torch.save({"gen": build_model("coursera_dcgan_generator", hidden_dim=2).state_dict()}, pth)
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(tmp_path / "o"),
                              "--arch", "pytorch_dcgan_generator"])
    assert res.exit_code != 0
    assert isinstance(res.exception, CheckpointError)
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["models", "info", str(tmp_path / "missing")])
    assert isinstance(res.exception, CheckpointError)


@pytest.mark.parametrize("name", ["coursera_classifier"])
def test_shipped_checkpoints_are_listed(tmp_path, name):
    from biaslens.cli.models_cmds import shipped_checkpoints
    from biaslens.models import save_checkpoint

    save_checkpoint(build_model(name, hidden_dim=2), tmp_path / "small_cls")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    rows = {r["name"]: r for r in shipped_checkpoints(tmp_path)}
    assert rows["small_cls"]["architecture"] == name
    assert "format" in rows["broken"]["error"]


def test_models_list_summarises_shipped_quality():
    from biaslens import defaults
    from biaslens.cli.models_cmds import quality_summary, shipped_checkpoints

    rows = {r["name"]: r for r in shipped_checkpoints()}
    assert set(rows) >= set(defaults.DEFAULT_NAMES)
    assert "mean_auc_rendered" in rows["classifier"]["quality"]
    assert "recon_mse" in rows["vae"]["quality"]
    assert quality_summary({"recon_mse": 0.1, "prevalence": {}, "flag": True}) == {
        "recon_mse": 0.1}
    assert quality_summary(None) == {}


def test_info_takes_the_names_list_prints_and_reads_at_80_columns(monkeypatch):
    from biaslens.cli._common import console
    from biaslens.defaults import available_defaults

    shipped = available_defaults()
    if "generator" not in shipped:
        pytest.skip("shipped generator not installed")
    monkeypatch.setattr(console, "width", 80)
    listing = runner.invoke(app, ["models", "list"])
    assert listing.exit_code == 0 and "│ generator" in listing.output
    res = runner.invoke(app, ["models", "info", "generator"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) < 40 and max(map(len, lines)) <= 80   # a summary, not the JSON
    for field in ("architecture", "parameters", "trained on", "training", "held-out quality"):
        assert any(line.startswith(f"│ {field} ") for line in lines), field
    assert "coursera_dcgan_generator" in res.output and "{" not in res.output
    full = runner.invoke(app, ["models", "info", "generator", "--json", "-"])
    data = json.loads(full.output)                           # the full record, strict JSON
    assert data["architecture"] == "coursera_dcgan_generator" and "quality" in data["extra"]
