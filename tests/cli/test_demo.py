"""The main job (`biaslens demo`) end to end on the embedded default."""

import json

import pytest
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.defaults import available_defaults

runner = CliRunner()


@pytest.mark.slow
def test_demo_writes_everything_and_scores_against_truth(tmp_path, monkeypatch):
    if not {"generator", "classifier"} <= set(available_defaults()):
        pytest.skip("shipped generator/classifier not installed")
    from biaslens.cli._common import console

    monkeypatch.setattr(console, "width", 80)  # an 80-column terminal (or a pipe)
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
    text = res.output
    # readable at 80 columns: nothing wider, no cell cut to "Weari…"
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    steer = json.loads((out / "steer.json").read_text())
    for row in steer["ranked"]:
        assert f"│ {row['name']} " in text  # every ranked name in full
    # what was run, in the JSON's own counts, and the units said once
    st, flat = steer["settings"], " ".join(text.split())
    assert f"({st['n_samples']} faces, {st['steps']} steps each way)" in flat
    assert "logit²" in text and "settings:" in text
    # each check holds or is a finding, with its numbers
    assert f"{score['spearman']:.2f}" in text
    assert "|covariance|" in text and "by |r|" in text
    assert ("finding" in text) == (not all(score["passed"].values()))
    assert "FAIL" not in text
    for name in score["wrong_signs"]:
        assert f"{name}: measured r" in flat
    assert isinstance(score["beyond_data"], list)         # the demo compares with the data
    assert -1 <= score["spearman"] <= 1
    assert "measured vs the world's truth" in text
    assert "the whole demo took" in flat


def test_demo_without_models_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "none"))
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "--n", "50"])
    assert res.exit_code != 0
    assert "no --generator given" in str(res.exception)
