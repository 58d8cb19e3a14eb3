"""``biaslens report`` through typer (the command is registered by cli/main.py)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from biaslens.cli.app_report import report_command


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
