"""``biaslens mitigate dbvae|latent-aug`` and ``biaslens experiment latent-aug``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import biaslens.cli.mitigate_cmds  # noqa: F401  (registers the commands)
from biaslens.cli.main import app
from biaslens.errors import BiasLensError

runner = CliRunner()


def test_dbvae_dry_run_prints_config(tmp_path):
    res = runner.invoke(app, ["mitigate", "dbvae", "--out", str(tmp_path / "r"), "--dry-run",
                              "--epochs", "3"])
    assert res.exit_code == 0, res.output
    assert '"epochs": 3' in res.output
    assert not (tmp_path / "r").exists()


def test_dbvae_writes_json_png_and_checkpoints(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["mitigate", "dbvae", "--out", str(out), "--epochs", "1",
                              "--n-faces", "48", "--n-nonfaces", "48", "--n-per-group", "4",
                              "--latent-dim", "4", "--n-boot", "30", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "dbvae_eval.json").read_text())
    assert set(d["evaluation"]["detectors"]) == {"standard_cnn", "dbvae"}
    assert (out / "dbvae_groups.png").stat().st_size > 1000
    assert (out / "checkpoints" / "dbvae" / "config.json").exists()
    assert (out / "checkpoints" / "standard_cnn" / "config.json").exists()
    assert "gap" in res.output


def test_latent_aug_without_generator_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "no-models"))
    from biaslens.world.synth import synthesize_cache

    cache = synthesize_cache("celeba", 60, tmp_path / "c", size=64, seed=0, test_frac=0.4)
    res = runner.invoke(app, ["mitigate", "latent-aug", str(cache.path), "--target", "Smiling",
                              "--out", str(tmp_path / "r")])
    assert isinstance(res.exception, BiasLensError)
    assert "--generator" in str(res.exception)


def test_experiment_needs_cache_or_toy(tmp_path):
    res = runner.invoke(app, ["experiment", "latent-aug", "--targets", "Smiling",
                              "--out", str(tmp_path)])
    assert isinstance(res.exception, BiasLensError)


def test_experiment_toy_prints_the_category_table(tmp_path):
    res = runner.invoke(app, ["experiment", "latent-aug", "--toy", "--targets",
                              "Wearing_Earrings", "--n-real", "640", "--n-fit", "200",
                              "--n-aug", "32", "--epochs", "3", "--arch", "standard_cnn",
                              "--n-boot", "30", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "experiment.json").read_text())
    assert d["toy"] is True and d["summary"]["gender-independent"]["n_targets"] == 1
    assert (tmp_path / "Wearing_Earrings" / "latent_aug.json").exists()
    assert (tmp_path / "Wearing_Earrings" / "latent_aug.png").stat().st_size > 1000
    assert "DEO" in res.output and "z AUC" in res.output


@pytest.mark.parametrize("seeds", ["0,0", "a,1", "-1", ","])
def test_experiment_refuses_bad_seeds_before_any_output(tmp_path, seeds):
    res = runner.invoke(app, ["experiment", "latent-aug", "--toy", "--targets", "Smiling",
                              "--seeds", seeds, "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "--seeds" in res.output
    assert not (tmp_path / "r").exists()


def test_latent_aug_refuses_an_unknown_precision_before_any_output(tmp_path):
    res = runner.invoke(app, ["experiment", "latent-aug", "--toy", "--targets", "Smiling",
                              "--precision", "fp16", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "--precision" in res.output
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_latent_aug_with_the_shipped_generator_runs_end_to_end(tmp_path):
    from biaslens.defaults import available_defaults
    from biaslens.world.synth import synthesize_cache

    if not {"generator", "classifier"} <= set(available_defaults()):
        pytest.skip("shipped generator/classifier not installed")
    cache = synthesize_cache("celeba", 300, tmp_path / "c", size=64, seed=0, test_frac=0.3)
    res = runner.invoke(app, ["mitigate", "latent-aug", str(cache.path), "--target", "Smiling",
                              "--protected", "Male", "--n-fit", "400", "--n-aug", "200",
                              "--epochs", "1", "--n-boot", "50", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "r" / "latent_aug.json").read_text())
    text = json.dumps(out)
    assert "baseline" in text and "augmented" in text
    assert set(out["pairs"]["premise"]) >= {"hyperplane_auc", "prime_agreement", "holds"}
    assert ("premise holds" in res.output) != ("Smiling poorly" in res.output)
