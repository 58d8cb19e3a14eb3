"""``biaslens report`` through typer (the command is registered by cli/main.py) and
``biaslens app``'s checks before it starts Streamlit."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from biaslens.cli.app_report import app_command, report_command


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("noop")(lambda: None)  # keep "report" a sub-command, as in cli/main.py
    return app


def test_report_command_writes_html_and_json(tiny, tmp_path):
    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(_cli(), [
        "report", str(tiny["cache"]), "--out", str(out), "--targets", "Male,Smiling",
        "--generator", str(tiny["generator"]), "--classifier", str(tiny["classifier"]),
        "--steer-n", "8", "--steps", "3", "--population-n", "64", "--n-boot", "20"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and (out.parent / "report.json").is_file()
    data = json.loads((out.parent / "report.json").read_text())
    assert [s["target"] for s in data["steer"]] == ["Male", "Smiling"]
    assert data["inputs"]["generator"] == str(tiny["generator"])
    assert data["inputs"]["judges"] == ["skin_tone"]  # the default judge
    assert [b["judge"] for b in data["judges"]] == ["skin_tone"]
    assert "wrote" in res.output


def test_a_classifier_given_as_the_generator_is_refused_before_any_audit(tiny, tmp_path):
    from biaslens.errors import BiasLensError

    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(_cli(), [
        "report", str(tiny["cache"]), "--out", str(out),
        "--generator", str(tiny["classifier"]), "--classifier", str(tiny["classifier"])])
    assert isinstance(res.exception, BiasLensError)
    assert str(res.exception).startswith(f"--generator {tiny['classifier']}: an attribute "
                                         "classifier")
    assert not out.parent.exists()


def test_an_unknown_judge_is_refused_naming_the_option_before_any_output(tiny, tmp_path):
    from biaslens.errors import BiasLensError

    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(_cli(), [
        "report", str(tiny["cache"]), "--out", str(out), "--judge", "skin_tone,oracle"])
    assert isinstance(res.exception, BiasLensError)
    assert str(res.exception).startswith("--judge oracle: not a judge name")
    assert not out.parent.exists()


def test_app_command_checks_paths_before_starting(tmp_path):
    from biaslens.errors import BiasLensError

    with pytest.raises(BiasLensError, match="--cache not found"):
        app_command(port=8501, generator=None, classifier=None, cvae=None,
                    cache=tmp_path / "missing", headless=True)
