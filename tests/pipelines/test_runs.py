"""Run folders as report inputs: the cache a run names, the result files it holds."""

from __future__ import annotations

import json

import pytest

from biaslens.errors import DataError
from biaslens.pipelines.runs import read_run_results, resolve_report_input


def test_run_folder_input_and_results(tiny, tmp_path):
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"cache": str(tiny["cache"])}))
    (run / "eval" / "compare.json").write_text(json.dumps({"ap": 0.5}))
    assert resolve_report_input(run, None) == (tiny["cache"], run)
    assert resolve_report_input(tiny["cache"], None) == (tiny["cache"], None)
    assert read_run_results(run) == {"eval/compare.json": {"ap": 0.5}}
    (run / "bad.json").write_text("{")
    with pytest.raises(DataError, match="bad.json"):
        read_run_results(run)


def test_bad_inputs_are_clear(tmp_path):
    with pytest.raises(DataError, match="no such run or cache"):
        resolve_report_input(tmp_path / "missing", None)
    with pytest.raises(DataError, match="pass --cache"):
        resolve_report_input(tmp_path, None)
