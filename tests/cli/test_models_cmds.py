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


# --------------------------------------------------------------------------- check + import


@pytest.fixture(scope="module")
def female_pth(tmp_path_factory):
    """The shipped classifier re-saved in the course layout with its Male column negated
    (a "female" output still labelled Male) and its Smiling column zeroed (chance)."""
    from biaslens.defaults import models_root
    from biaslens.models import load_checkpoint

    model, _ = load_checkpoint(models_root() / "classifier")
    names = list(model.attribute_names)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    for key in ("classifier.3.0.weight", "classifier.3.0.bias"):
        sd[key][names.index("Male")] *= -1
        sd[key][names.index("Smiling")] = 0
    path = tmp_path_factory.mktemp("female") / "pretrained_classifier.pth"
    torch.save({"classifier": sd}, path)
    return path, names


def test_import_check_names_the_inverted_head_and_records_provenance(tiny, female_pth,
                                                                     tmp_path):
    from biaslens.models.checkpoint import file_sha256

    pth, _ = female_pth
    out = tmp_path / "ck"
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(out), "--check",
                              str(tiny["cache"]), "--json", str(tmp_path / "i.json")])
    # (the test split of the 160-face cache, the default: the inverted head shows already)
    assert res.exit_code == 0, res.output
    assert "Male: AUC" in res.output and "below chance" in res.output
    assert "--attribute-names" in res.output and "Female" in res.output
    heads = {h["attribute"]: h for h in json.loads((tmp_path / "i.json").read_text())
             ["check"]["heads"]}
    assert heads["Male"]["status"] == "inverted" and heads["Male"]["auc_ci"][1] < 0.5
    assert heads["Smiling"]["status"] == "chance"
    prov = json.loads((out / "config.json").read_text())["extra"]["imported_from"]
    assert prov["source_sha256"] == file_sha256(pth)
    assert prov["options"] == {"arch": None, "attribute_names": None}
    assert prov["check"]["problems"] == ["Male", "Smiling"]
    # importing over it needs --overwrite; renaming the column fixes the head
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(out)])
    assert isinstance(res.exception, CheckpointError) and "overwrite" in str(res.exception)


def test_renamed_column_passes_the_check(tiny, female_pth, tmp_path):
    pth, names = female_pth
    fixed = ",".join("Female" if n == "Male" else n for n in names)
    out = tmp_path / "ck"
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(out),
                              "--attribute-names", fixed])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["models", "check", str(out), str(tiny["cache"]), "--split",
                              "all", "--json", str(tmp_path / "c.json")])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "c.json").read_text())
    status = {h["attribute"]: h["status"] for h in d["heads"]}
    assert status["Female"] == "ok" and status["Young"] == "ok" and d["problems"] == ["Smiling"]
    assert d["metrics"]["n"] == 160
    prov = json.loads((out / "config.json").read_text())["extra"]["imported_from"]
    assert prov["options"]["attribute_names"] == fixed.split(",")


def test_check_refuses_before_writing(tiny, tmp_path):
    gen = build_model("coursera_dcgan_generator", hidden_dim=2)
    pth = tmp_path / "g.pth"
    torch.save({"gen": gen.state_dict()}, pth)
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(tmp_path / "o"),
                              "--check", str(tiny["cache"])])
    assert "not an attribute classifier" in str(res.exception)
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(tmp_path / "o"),
                              "--check", str(tmp_path / "nocache")])
    assert "no such cache folder" in str(res.exception)
    assert not (tmp_path / "o").exists()


def test_a_file_that_fits_nothing_is_not_given_an_architecture(tmp_path):
    sd = build_model("coursera_classifier", hidden_dim=4).state_dict()
    sd["classifier.9.0.weight"] = torch.zeros(3, 3)             # an extra layer
    pth = tmp_path / "odd.pth"
    torch.save({"classifier": sd}, pth)
    res = runner.invoke(app, ["models", "import", str(pth), "--out", str(tmp_path / "o")])
    msg = str(res.exception)
    assert "fits no known architecture" in msg and "unexpected keys (1)" in msg
    assert "do not fit architecture" not in msg and "classifier.9.0.weight" in msg


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
