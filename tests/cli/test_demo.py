"""The main job (`biaslens demo`) end to end on the embedded default."""

import json

import pytest
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.defaults import available_defaults

runner = CliRunner()


@pytest.mark.slow
def test_demo_writes_everything_and_scores_against_truth(tmp_path):
    if not {"generator", "classifier"} <= set(available_defaults()):
        pytest.skip("shipped generator/classifier not installed")
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--n", "300", "--n-steer", "32",
                              "--steps", "6"])
    assert res.exit_code == 0, res.output
    for name in ("stats.json", "contact_sheet.png", "steer.json", "steer_grid.png",
                 "steer_covariance.png", "truth_score.json"):
        assert (out / name).is_file(), name
    score = json.loads((out / "truth_score.json").read_text())
    assert set(score["passed"]) == {"spearman>=0.7", "true_top5_in_measured_top10",
                                    "true_top5_in_table_top10", "signs_right_for_significant",
                                    "signs_right_for_data_backed"}
    assert len(score["table_top"]) == 10
    # every check's line says what it rests on
    assert f"(Spearman {score['spearman']:.2f})" in res.output
    assert "(ranked by |covariance|" in res.output and "(ranked by |correlation|" in res.output
    assert isinstance(score["beyond_data"], list)         # the demo compares with the data
    assert -1 <= score["spearman"] <= 1
    assert "measured vs the world's truth" in res.output


def test_demo_without_models_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "none"))
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "--n", "50"])
    assert res.exit_code != 0
    assert "no --generator given" in str(res.exception)
