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
