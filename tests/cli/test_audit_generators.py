"""Tests for ``biaslens audit population|reconstruct|counterfactual`` and
``biaslens experiment ratio-sweep`` (plumbing, with tiny random models)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from biaslens.cli import audit_generators  # noqa: F401  (registers the commands)
from biaslens.cli.main import app
from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs

torch.set_num_threads(1)
runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Tiny random checkpoints (64 px) and a 60-face synthetic cache."""
    from biaslens.models import build_model
    from biaslens.models.checkpoint import save_checkpoint
    from biaslens.world.synth import synthesize_cache

    root = tmp_path_factory.mktemp("gen-audits")
    torch.manual_seed(0)
    save_checkpoint(build_model("coursera_dcgan_generator", hidden_dim=4), root / "gen")
    save_checkpoint(build_model("coursera_classifier", hidden_dim=4), root / "clf")
    save_checkpoint(build_model("vae", hidden_dim=4, latent_dim=8), root / "vae")
    save_checkpoint(build_model("cvae", condition_names=["Male"], hidden_dim=4, latent_dim=8),
                    root / "cvae")
    synthesize_cache("celeba", 60, root / "cache", size=64, seed=0)
    return root


def _png(path):
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 50


def test_population_end_to_end(setup, tmp_path):
    out = tmp_path / "pop"
    args = ["audit", "population", "--generator", str(setup / "gen"), "--classifier",
            str(setup / "clf"), "--cache", str(setup / "cache"), "--n", "40", "--batch-size",
            "16", "--n-boot", "20", "--device", "cpu", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Population: 40 generated faces" in res.output and "note:" in res.output
    flat = " ".join(res.output.split())
    assert "+ = further from 50 %" in flat and "more attributes in the JSON" in flat
    assert "groups Female; Male" in flat  # codes in words
    data = json.loads((out / "population.json").read_text())
    assert data["audit"] == "population" and data["n_generated"] == 40
    assert data["corrected"] is True and "Rogan–Gladen" in data["correction"]
    assert len(data["inputs"]["classifier_rates"]["tpr"]) == 40
    assert data["groups"]["labels"] == ["Male=0", "Male=1"]
    _png(out / "population.png")
    res = runner.invoke(app, args[:-1] + [str(tmp_path / "j"), "--json", "-", "--no-correct"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.output)
    assert printed == json.loads((tmp_path / "j" / "population.json").read_text())
    assert printed["corrected"] is False
    assert printed["associations"] is None            # auto: skipped with --n-boot < 50
    # the association comparison: generated vs real faces of the split, same classifier
    res = runner.invoke(app, args[:-6] + ["--n-boot", "60", "--associations", "smiling",
                                          "--reference-n", "30", "--device", "cpu",
                                          "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "Associations with Smiling" in res.output
    a = json.loads((tmp_path / "a" / "population.json").read_text())
    assert a["association_target"] == "Smiling"
    assert a["associations"]["n_reference"] == 30 and len(a["associations"]["excess"]) == 40
    for bad, msg in ((["--associations", "Beardy", "--n-boot", "60"], "Beardy"),
                     (["--associations", "Male"], "n-boot >= 50")):
        res = runner.invoke(app, args + bad)
        assert res.exit_code != 0 and msg in str(res.exception), res.output


def test_reconstruct_end_to_end(setup, tmp_path):
    out = tmp_path / "rec"
    res = runner.invoke(app, ["audit", "reconstruct", "--vae", str(setup / "vae"),
                              "--classifier", str(setup / "clf"), "--cache",
                              str(setup / "cache"), "--split", "all", "--per-group", "3",
                              "--n-boot", "20", "--n-show", "2", "--device", "cpu",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "reconstruct.json").read_text())
    assert data["groups"] == ["Male", "skin_type"]
    assert all(row["n"] <= 3 for row in data["by_group"])
    assert data["worst_group"] in [row["group"] for row in data["by_group"]]
    assert "Male" in data["by_group"][0]["preserved"]
    _png(out / "reconstruct.png")
    _png(out / "reconstruct_examples.png")


def test_counterfactual_end_to_end(setup, tmp_path):
    out = tmp_path / "cf"
    res = runner.invoke(app, ["audit", "counterfactual", "--cvae", str(setup / "cvae"),
                              "--classifier", str(setup / "clf"), "--cache",
                              str(setup / "cache"), "--split", "all", "--n", "10",
                              "--n-boot", "20", "--n-show", "3", "--groups", "Male,skin_type",
                              "--device", "cpu", "--out", str(out), "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["condition"] == "Male" and data["n"] == 10
    assert set(data["variants"]) == {"recon", "decoder_flip", "encoder_flip", "scaled"}
    assert sum(data["direction_n"].values()) == 10
    _png(out / "counterfactual_pairs.png")
    # more images asked for than the pool has: said, not silently capped
    res = runner.invoke(app, ["audit", "counterfactual", "--cvae", str(setup / "cvae"),
                              "--classifier", str(setup / "clf"), "--cache",
                              str(setup / "cache"), "--split", "all", "--n", "100000",
                              "--n-boot", "20", "--device", "cpu", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "note: --n 100000 asked for more images than the --split pool has" in " ".join(
        res.output.split())


def test_ratio_sweep_plumbing(setup, tmp_path):
    out = tmp_path / "sweep"
    res = runner.invoke(app, ["experiment", "ratio-sweep", "--shares", "0.3,0.6", "--model",
                              "vae", "--classifier", str(setup / "clf"), "--n-data", "40",
                              "--n", "20", "--steps", "2", "--batch-size", "8",
                              "--model-config", '{"hidden_dim": 4, "latent_dim": 8}',
                              "--train-config", '{"beta": 0.01}',
                              "--n-boot", "10", "--device", "cpu", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "ratio_sweep.json").read_text())
    assert [r["target_share"] for r in data["rows"]] == [0.3, 0.6]
    assert all(r["train_status"] == "completed" for r in data["rows"])
    assert all(0 <= r["data_share"] <= 1 for r in data["rows"])
    assert (out / "share-0.3" / "cache" / "manifest.json").is_file()
    run_cfg = json.loads((out / "share-0.6" / "run" / "config.json").read_text())
    assert run_cfg["beta"] == 0.01
    _png(out / "ratio_sweep.png")


def test_default_cache_is_synthesized_and_announced(setup, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 30)
    res = runner.invoke(app, ["audit", "population", "--generator", str(setup / "gen"),
                              "--classifier", str(setup / "clf"), "--n", "10", "--n-boot",
                              "0", "--no-correct", "--device", "cpu", "--out",
                              str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert "synthesizing a 'celeba'-world cache" in res.output
    data = json.loads((tmp_path / "d" / "population.json").read_text())
    assert data["n_data"] == 30 * 8 // 10 and data["inputs"]["cache"] == "synthesized"


def test_reconstruct_without_cache_uses_a_balanced_set(setup, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 80)
    res = runner.invoke(app, ["audit", "reconstruct", "--vae", str(setup / "vae"),
                              "--classifier", str(setup / "clf"), "--per-group", "12",
                              "--n-boot", "0", "--device", "cpu", "--out",
                              str(tmp_path / "r"), "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r" / "reconstruct.json").read_text())
    assert data["inputs"]["cache"].startswith("synthesized (balanced world")
    # Male x skin type are 50/50 and independent in the balanced world: 80 faces give
    # every one of the four cells its 12 images
    assert len(data["by_group"]) == 4 and data["missing_groups"] == []
    assert all(g["n"] == 12 for g in data["by_group"]), data["by_group"]


@pytest.mark.parametrize("cmd,role", [("population", "generator"), ("reconstruct", "vae"),
                                      ("counterfactual", "cvae")])
def test_missing_default_models_are_a_clear_error(cmd, role, tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "no-models"))
    res = runner.invoke(app, ["audit", cmd, "--out", str(tmp_path)])
    assert isinstance(res.exception, BiasLensError)
    assert f"no --{role} given" in str(res.exception)
    assert f"pass --{role} CKPT" in str(res.exception)


@pytest.mark.parametrize("cmd,option,model,says", [
    ("population", "--generator", "clf", "an attribute classifier (CourseraClassifier), "
                                         "not a generator or a VAE"),
    ("population", "--classifier", "vae", "a VAE (VAE), not an attribute classifier"),
    ("reconstruct", "--vae", "gen", "a generator (CourseraDCGANGenerator), not a VAE"),
    ("counterfactual", "--cvae", "vae", "a VAE (VAE) without a condition, not a conditional "
                                        "VAE"),
    ("steer", "--judge", "gen", "a generator (CourseraDCGANGenerator), not an attribute "
                                "classifier"),
])
def test_a_checkpoint_in_the_wrong_role_is_named(setup, tmp_path, cmd, option, model, says):
    from biaslens.cli import audit_steer  # noqa: F401  (registers `audit steer`)

    data = ["--reference", "none"] if cmd == "steer" else ["--cache", str(setup / "cache")]
    res = runner.invoke(app, ["audit", cmd, option, str(setup / model), *data,
                              "--out", str(tmp_path / "o")])
    assert isinstance(res.exception, BiasLensError), res.output
    assert str(res.exception) == f"{option} {setup / model}: {says}"
    assert not (tmp_path / "o").exists()


def test_counterfactual_condition_is_checked_before_any_data(setup, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "cache_or_default", None)  # must not be reached
    res = runner.invoke(app, ["audit", "counterfactual", "--cvae", str(setup / "cvae"),
                              "--classifier", str(setup / "clf"), "--condition", "Smiling",
                              "--out", str(tmp_path / "o")])
    assert isinstance(res.exception, BiasLensError)
    assert "--condition 'Smiling'" in str(res.exception)
    assert "conditioned on Male" in str(res.exception)


def test_ratio_sweep_needs_a_classifier_and_valid_options(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "no-models"))
    res = runner.invoke(app, ["experiment", "ratio-sweep", "--out", str(tmp_path)])
    assert isinstance(res.exception, BiasLensError)
    assert "no --classifier given" in str(res.exception)
    res = runner.invoke(app, ["experiment", "ratio-sweep", "--model", "diffusion"])
    assert "must be one of vae, gan" in str(res.exception)
    res = runner.invoke(app, ["experiment", "ratio-sweep", "--shares", "0.3,1.5", "--dry-run"])
    assert isinstance(res.exception, BiasLensError)   # checked before the dry run prints
    assert str(res.exception) == "--shares 0.3,1.5: shares must be in (0, 1); got [0.3, 1.5]"


def test_dry_run_and_bad_split(setup, tmp_path):
    base = ["audit", "reconstruct", "--vae", str(setup / "vae"), "--classifier",
            str(setup / "clf"), "--cache", str(setup / "cache"), "--out", str(tmp_path / "x")]
    res = runner.invoke(app, base + ["--dry-run"])
    assert res.exit_code == 0 and '"per_group": 500' in res.output
    assert not (tmp_path / "x").exists()
    res = runner.invoke(app, base + ["--split", "holdout"])
    assert isinstance(res.exception, BiasLensError) and "unknown split" in str(res.exception)
    with pytest.raises(BiasLensError, match="nope: vae checkpoint not found"):
        inputs.model_path(tmp_path / "nope", "vae")


def test_counterfactual_condition_accepts_case_and_aliases(setup, tmp_path):
    res = runner.invoke(app, ["audit", "counterfactual", "--cvae", str(setup / "cvae"),
                              "--classifier", str(setup / "clf"), "--cache", str(setup / "cache"),
                              "--condition", "male", "--n", "8", "--n-boot", "5",
                              "--out", str(tmp_path / "o"), "--json", "-"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "o" / "counterfactual.json").read_text())["condition"] == "Male"


def _lines_at_80(res) -> list[str]:
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    return lines


def test_counterfactual_reads_at_80_columns(setup, tmp_path, monkeypatch):
    from biaslens.cli._common import console

    monkeypatch.setattr(console, "width", 80)
    res = runner.invoke(app, ["audit", "counterfactual", "--cvae", str(setup / "cvae"),
                              "--classifier", str(setup / "clf"), "--cache",
                              str(setup / "cache"), "--split", "all", "--n", "32",
                              "--n-boot", "20", "--n-show", "2", "--device", "cpu",
                              "--out", str(tmp_path / "cf")])
    lines = _lines_at_80(res)
    out = res.output
    assert "…" not in out                                      # no name or number cut
    for variant in ("reconstruction", "decoder flip", "encoder flip (control)",
                    "decoder flip ×2"):
        assert any(line.startswith(f"│ {variant} ") for line in lines), variant
    flat = " ".join(out.replace("│", " ").split())
    assert "label changed vs original" in flat and "read as requested" in flat
    assert "Columns: label changed vs original = share of outputs whose Male label" in flat
    assert "decoder flip read as requested, by direction: Male 0→1 (Female → Male" in flat
    data = json.loads((tmp_path / "cf" / "counterfactual.json").read_text())
    for direction, rows in data["what_else_changes"].items():
        assert f"What else changes, {direction}" in flat
        top = sorted(rows, key=lambda r: -abs(r["logit_shift"]))[:5]
        for row in top:       # full names, as their own table rows, top 5 by |change|
            assert any(line.startswith(f"│ {row['name']} ") for line in lines), row["name"]
    assert "also changes" not in out


def test_reconstruct_reads_at_80_columns_and_names_each_worst(setup, tmp_path, monkeypatch):
    from biaslens.cli._common import console

    monkeypatch.setattr(console, "width", 80)
    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 120)
    res = runner.invoke(app, ["audit", "reconstruct", "--vae", str(setup / "vae"),
                              "--classifier", str(setup / "clf"), "--per-group", "20",
                              "--n-boot", "50", "--n-show", "1", "--device", "cpu",
                              "--out", str(tmp_path / "r")])
    lines = _lines_at_80(res)
    flat = " ".join(res.output.replace("│", " ").split())
    data = json.loads((tmp_path / "r" / "reconstruct.json").read_text())
    from biaslens.report.words import group_words

    worst = group_words(data["worst_group"])
    assert f"highest MSE: {worst}" in flat                   # the heading's worst: by MSE
    assert f"MSE, highest − lowest group ({worst} − " in flat
    assert "Male label kept, best − worst group by that rate (" in flat  # by Male kept
    assert "Male=" not in res.output and "skin_type=" not in res.output  # groups in words
    assert any(line.startswith("│ Female, lighter skin ") for line in lines)
    assert "not decided: no gap shown" not in flat
    undecided = sum(not v for v in data["decided"].values())   # the MSE gap and Male kept
    assert flat.count("the CI includes 0: no gap shown at this size") == undecided
    assert flat.count("decided: the CI excludes 0") == len(data["decided"]) - undecided
    assert ("--per-group 500" in flat) == (undecided > 0)


def test_reconstruct_plot_marks_a_worst_group_only_when_decided(setup):
    import dataclasses

    from matplotlib.colors import to_hex

    from biaslens.pipelines.reconstruct import plan_reconstruct
    from biaslens.report.plots_generators import plot_reconstruction

    plan = plan_reconstruct(setup / "vae", setup / "clf", setup / "cache", device="cpu",
                            split="all", per_group=5, n_boot=20, n_show=1)
    result = plan.run().result

    def bar_colours(res):
        ax = plot_reconstruction(res).axes[0]
        return [to_hex(p.get_facecolor()) for p in ax.patches]

    undecided = dataclasses.replace(result, mse_gap_ci=(-0.1, 0.1))
    assert set(bar_colours(undecided)) == {"#9a9a9a"}        # all grey: no worst shown
    decided = dataclasses.replace(result, mse_gap_ci=(0.01, 0.1))
    colours = bar_colours(decided)
    worst = result.group_labels.index(result.worst_group)
    assert colours[worst] == "#c0392b" and colours.count("#c0392b") == 1


def test_reconstruct_help_names_the_balanced_default(monkeypatch):
    from biaslens.cli._common import console

    monkeypatch.setattr(console, "width", 80)
    res = runner.invoke(app, ["audit", "reconstruct", "--help"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.replace("│", " ").split())
    assert "of the 'balanced' world" in flat
    assert "without --cache all rows of the synthesized 'balanced'-world set" in flat
    assert "default-world" not in flat
