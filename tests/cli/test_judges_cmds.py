"""``biaslens experiment judge-coverage`` and ``biaslens models judges``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from biaslens.cli.main import app

runner = CliRunner()


def test_models_judges_lists_the_named_judges():
    res = runner.invoke(app, ["models", "judges", "--json"])
    assert res.exit_code == 0, res.output
    assert {r["judge"] for r in json.loads(res.output)} == {"skin_tone", "gender", "age"}


def test_judge_coverage_small_run(tmp_path):
    out = tmp_path / "jc"
    res = runner.invoke(app, ["experiment", "judge-coverage", "--judges", "label_noise",
                              "--n-pool", "300", "--n-rep", "4", "--n-boot", "50",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "coverage of the 95 % interval" in res.output
    doc = json.loads((out / "judge_coverage.json").read_text())
    assert [r["method"] for r in doc["rows"]] == ["raw", "corrected"]


def test_judge_coverage_refuses_unknown_judges(tmp_path):
    res = runner.invoke(app, ["experiment", "judge-coverage", "--judges", "oracle",
                              "--out", str(tmp_path / "x")])
    assert res.exit_code != 0 and "oracle" in str(res.exception) + res.output
    assert not (tmp_path / "x").exists()


def test_fairness_with_a_judged_sensitive_column(tmp_path):
    import numpy as np
    from PIL import Image

    from biaslens.world import World
    from biaslens.world.render import render_faces

    s = World.preset("celeba").sample(40, seed=0)
    faces = render_faces(s.attrs, s.skin_tone, seed=0, size=64)
    rng = np.random.default_rng(0)
    lines = ["img,y,yhat,Male"]
    for i, face in enumerate(faces):
        Image.fromarray(face).save(tmp_path / f"f{i}.png")
        lines.append(f"f{i}.png,{rng.integers(2)},{rng.integers(2)},{int(s.attrs[i, 20])}")
    csv = tmp_path / "preds.csv"
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "fair.json"
    args = ["audit", "fairness", "--predictions", str(csv), "--y-true", "y", "--y-pred",
            "yhat", "--sensitive", "", "--judge", "skin_tone", "--image-column", "img",
            "--n-boot", "0", "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert "skin_tone (judged)" in json.dumps(doc)
    # a missing image is named with its line
    lines[3] = "missing.png,1,0,1"
    csv.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, args)
    assert res.exit_code != 0 and "missing.png" in str(res.exception) + res.output
    res = runner.invoke(app, args[:-6] + ["--judge", "skin_tone", "--json", str(out)])
    assert res.exit_code != 0 and "image-column" in str(res.exception) + res.output


def test_population_with_a_judge_end_to_end(tmp_path):
    import torch

    from biaslens.models import build_model
    from biaslens.models.checkpoint import save_checkpoint
    from biaslens.world import World
    from biaslens.world.synth import synthesize_cache

    torch.manual_seed(0)
    save_checkpoint(build_model("coursera_dcgan_generator", hidden_dim=4), tmp_path / "gen")
    save_checkpoint(build_model("coursera_classifier", hidden_dim=4), tmp_path / "clf")
    world = World.from_json({"base": "celeba", "group_shares": {"skin_type": 0.5}})
    synthesize_cache(world, 80, tmp_path / "cache", size=64, seed=0)
    out = tmp_path / "pop"
    res = runner.invoke(app, ["audit", "population", "--generator", str(tmp_path / "gen"),
                              "--classifier", str(tmp_path / "clf"), "--cache",
                              str(tmp_path / "cache"), "--n", "40", "--n-boot", "20",
                              "--device", "cpu", "--judge", "skin_tone", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "judge skin_tone: labelled 40 generated faces" in text
    assert "raw (judge's reading) shares" in text and "shares corrected for judge error" in text
    assert "training faces (true groups): lighter" in text
    assert "Corrected for the skin_tone judge's errors," in text
    # a wrapped line keeps its indent: no judge line falls back to column 0
    start = res.output.index("  raw (judge's reading)")
    tail = res.output[start:res.output.index("\nwrote", start)].splitlines()
    assert all(line.startswith("  ") for line in tail), res.output
    doc = json.loads((out / "population.json").read_text())
    block = doc["inputs"]["judge"]
    assert block["judge"] == "skin_tone" and block["shares"] == "corrected"
    assert doc["inputs"]["judge"]["group_names"] == ["lighter", "darker"]
    assert doc["inputs"]["judge"]["n_generated"] == 40
