"""The report's use case: which audits run on a cache with the models given."""

from __future__ import annotations

import pytest

from biaslens.data.cache import load_cache
from biaslens.errors import BiasLensError
from biaslens.pipelines.report import ReportOptions, build_report, report_for_path
from biaslens.report import Report, render_html


def test_report_without_models_runs_dataset_only(tiny):
    data = build_report(load_cache(tiny["cache"]), targets=["Smiling"], n_boot=20)
    assert data.steer == [] and data.population is None and data.fairness == []
    assert len(data.notes) == 2
    assert 'id=\'steering\'' not in render_html(Report.of(data))


def test_report_rejects_unknown_targets_before_work(tiny):
    with pytest.raises(BiasLensError, match="Smilng"):
        build_report(load_cache(tiny["cache"]), targets=["Smilng"])


def test_options_object_and_keyword_overrides_agree(tiny):
    cache = load_cache(tiny["cache"])
    a = build_report(cache, targets=["Smiling"], options=ReportOptions(n_boot=20, seed=2))
    b = build_report(cache, targets=["Smiling"], n_boot=20, seed=2)
    assert a.to_dict() == b.to_dict()
    assert a.inputs["n_boot"] == 20 and a.inputs["seed"] == 2
    with pytest.raises(BiasLensError, match="steer_n"):
        build_report(cache, targets=["Smiling"], steer_nn=8)


def test_report_for_path_notes_missing_defaults_and_records_inputs(tiny, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "none"))
    notes: list[str] = []
    data = report_for_path(tiny["cache"], classifier=tiny["classifier"], targets=["Smiling"],
                           n_boot=20, note=notes.append)
    assert len(notes) == 1 and "generator" in notes[0]
    assert data.inputs["classifier"] == str(tiny["classifier"])
    assert "generator" not in data.inputs and data.steer == []
    assert [t for t, _ in data.fairness] == ["Smiling"]
