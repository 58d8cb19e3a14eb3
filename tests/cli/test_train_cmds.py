"""`biaslens train ...`: dry run, a run, and --resume through biaslens.train.resume_run."""

import json

import numpy as np
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.data.cache import CacheWriter


def _cache(path):
    rng = np.random.default_rng(0)
    with CacheWriter(path, n=20, height=64, width=64, attribute_names=["Male", "Smiling"],
                     source={"kind": "test"}, crop=None) as w:
        w.write_images(0, rng.integers(0, 256, (20, 64, 64, 3), dtype=np.uint8))
        w.set_labels(attrs=rng.random((20, 2)) < 0.5,
                     split=(np.arange(20) >= 16).astype(np.int8))
    return path


def test_train_cli_dry_run_and_resume(tmp_path):
    cache = _cache(tmp_path / "cache")
    runner = CliRunner()
    res = runner.invoke(app, ["train", "gan", str(cache), "--out", str(tmp_path / "run"),
                              "--dry-run"])
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert cfg["batch_size"] == 128 and cfg["data_hash"].startswith("sha256:")
    assert not (tmp_path / "run").exists()
    args = ["train", "classifier", str(cache), "--out", str(tmp_path / "run"), "--steps", "2",
            "--batch-size", "8", "--device", "cpu", "--pos-weight", "auto", "--log-every", "1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["status"] == "completed" and result["evaluation"]["n"] == 4
    # the held-out metrics are printed at the end
    assert "held-out (val split, 4 images, step 2): mean accuracy" in " ".join(res.output.split())
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["command"].startswith("biaslens") and cfg["pos_weight"] == "auto"


def test_train_cli_resume_continues_the_run(tmp_path):
    from biaslens.train import train_vae

    cache = _cache(tmp_path / "cache")
    run = tmp_path / "run"
    first = train_vae(cache, out=run, steps=3, batch_size=8, device="cpu", sample_every=0,
                      beta=0.01, model_config={"latent_dim": 4, "hidden_dim": 4},
                      should_stop=lambda: True)
    assert first.status == "stopped" and first.step == 1
    runner = CliRunner()
    res = runner.invoke(app, ["train", "vae", "--resume", str(run), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["beta"] == 0.01
    res = runner.invoke(app, ["train", "vae", "--resume", str(run)])
    assert res.exit_code == 0, res.output
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "completed" and result["step"] == 3
    assert json.loads((run / "config.json").read_text())["command"].startswith("biaslens")
    res = runner.invoke(app, ["train", "gan", "--resume", str(run)])
    assert res.exit_code != 0 and "is a vae run, not gan" in str(res.exception or res.output)
    # --steps trains on; any other typed option is refused, naming it, before training
    res = runner.invoke(app, ["train", "vae", "--resume", str(run), "--steps", "4"])
    assert res.exit_code == 0, res.output
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "completed" and result["step"] == 4
    res = runner.invoke(app, ["train", "vae", "--resume", str(run), "--steps", "6",
                              "--beta", "0.5"])
    assert res.exit_code != 0
    assert "--beta: a resumed run keeps the options in its config.json" in str(
        res.exception or res.output)
    assert json.loads((run / "result.json").read_text())["step"] == 4
    res = runner.invoke(app, ["train", "vae", "--resume", str(run), "--steps", "2"])
    assert res.exit_code != 0 and "already at step 4" in str(res.exception or res.output)
    assert json.loads((run / "config.json").read_text())["steps"] == 4
    res = runner.invoke(app, ["train", "vae", str(cache), "--resume", str(run)])
    assert res.exit_code != 0 and "not both" in str(res.exception or res.output)
    res = runner.invoke(app, ["train", "vae", "--resume", str(tmp_path / "nope")])
    assert res.exit_code != 0 and "not a run folder" in str(res.exception or res.output)
    assert "vae 0/" not in res.output  # refused before any progress bar


def test_train_cli_precision_option(tmp_path):
    cache = _cache(tmp_path / "cache")
    runner = CliRunner()
    for family in ("gan", "classifier", "vae", "cvae", "dbvae"):
        res = runner.invoke(app, ["train", family, str(cache), "--out", str(tmp_path / "r"),
                                  "--device", "cpu", "--precision", "bf16", "--dry-run"])
        if family == "dbvae":   # the option is taken; the test cache has no is_face group
            assert "No such option" not in res.output and "is_face" in str(res.exception)
            continue
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["precision"] == "bf16"
    res = runner.invoke(app, ["train", "gan", str(cache), "--precision", "fp16", "--dry-run"])
    assert res.exit_code != 0 and "precision must be one of" in str(res.exception or res.output)


def test_train_cli_architecture_options_map_to_the_model_config(tmp_path):
    cache = _cache(tmp_path / "cache")
    runner = CliRunner()

    def dry(*args):
        res = runner.invoke(app, ["train", *args[:1], str(cache), "--out", str(tmp_path / "r"),
                                  *args[1:], "--dry-run"])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    cfg = dry("gan", "--z-dim", "32", "--ngf", "16", "--ndf", "8")
    assert cfg["generator_config"] == {"z_dim": 32, "hidden_dim": 16}   # the course G
    assert cfg["discriminator_config"] == {"ndf": 8}                    # spectral-norm D
    cfg = dry("gan", "--generator", "dcgan_generator", "--ngf", "8", "--image-size", "64")
    assert cfg["generator_config"] == {"ngf": 8, "image_size": 64}
    cfg = dry("classifier", "--arch", "resnet_classifier", "--widths", "8,16")
    assert cfg["model_config"] == {"widths": [8, 16]}
    assert dry("classifier", "--hidden-dim", "16")["model_config"] == {"hidden_dim": 16}
    cfg = dry("vae", "--latent-dim", "16", "--hidden-dim", "8")
    assert cfg["model_config"] == {"latent_dim": 16, "hidden_dim": 8, "image_size": 64}
    cfg = dry("cvae", "--latent-dim", "4")
    assert cfg["model_config"]["latent_dim"] == 4 and cfg["condition"] == ["Male"]


def test_train_cli_architecture_option_errors(tmp_path):
    cache = _cache(tmp_path / "cache")
    runner = CliRunner()

    def err(*args):
        res = runner.invoke(app, ["train", *args[:1], str(cache), "--out", str(tmp_path / "r"),
                                  *args[1:], "--dry-run"])
        assert res.exit_code != 0
        return str(res.exception)

    assert "--widths: architecture 'coursera_classifier' takes no widths" in err(
        "classifier", "--widths", "8,16")
    assert "works on 64×64 images only" in err("gan", "--image-size", "32")
    assert "the cache" in err("vae", "--image-size", "32") and "--size" in err(
        "vae", "--image-size", "32")
    assert "comma-separated integers" in err("classifier", "--arch", "resnet_classifier",
                                             "--widths", "8,x")
    assert not (tmp_path / "r").exists()


def test_train_cli_classifier_keeps_the_best_checkpoint(tmp_path):
    cache = _cache(tmp_path / "cache")
    res = CliRunner().invoke(app, ["train", "classifier", str(cache), "--out",
                                   str(tmp_path / "run"), "--steps", "4", "--batch-size", "8",
                                   "--device", "cpu", "--hidden-dim", "4", "--eval-every", "2",
                                   "--log-every", "2"])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    best = result["evaluation"]["best"]
    assert best["metric"] == "mean_auc" and best["step"] in (2, 4)
    cfg = json.loads((tmp_path / "run" / "checkpoints" / "best" / "classifier" /
                      "config.json").read_text())
    assert cfg["config"]["hidden_dim"] == 4 and cfg["extra"]["best"] == best
