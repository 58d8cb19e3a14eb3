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


def test_report_judges_say_who_labelled_and_raw_vs_corrected(tiny):
    from biaslens.models import load_checkpoint
    from biaslens.report.judges import CORRECTED, RAW
    from biaslens.report.markup import esc

    gen, _ = load_checkpoint(tiny["generator"])
    clf, _ = load_checkpoint(tiny["classifier"])
    data = build_report(load_cache(tiny["cache"]), generator=gen, classifier=clf,
                        targets=["Male"], steer_n=4, steer_steps=2, population_n=32, n_boot=20)
    (block,) = data.judges  # the default: skin_tone
    assert block["judge"] == "skin_tone" and block["shares"] == "corrected"
    assert block["n_generated"] == 32 and "skin_type" in block["labelled"]
    assert data.to_dict()["judges"][0]["judge"] == "skin_tone"
    html = render_html(Report(data, {}))
    section = html[html.index("id='population'"):html.index("id='inputs'")]
    assert "Independent judges" in section and "Judge skin_tone: skin colour rule" in section
    # one per row, one in the sentence that explains them
    assert section.count(esc(RAW)) == 6 + 1 and section.count(CORRECTED) == 2 + 1
    assert "calibration set" in section
    none = build_report(load_cache(tiny["cache"]), generator=gen, classifier=clf,
                        targets=["Male"], steer_n=4, steer_steps=2, population_n=32,
                        n_boot=20, judges=())
    assert none.judges == [] and "Independent judges" not in render_html(Report(none, {}))


def test_report_refuses_an_unknown_judge_before_loading_anything(tiny, tmp_path):
    with pytest.raises(BiasLensError, match="^--judge oracle: not a judge name"):
        ReportOptions(judges=("oracle",))
    # the options are checked before the cache opens or a model loads
    with pytest.raises(BiasLensError, match="^--judge oracle"):
        report_for_path(tmp_path / "no-cache", generator=tmp_path / "no-model",
                        judges=["oracle"])


def test_report_for_path_without_a_cache_audits_a_fresh_default_world(tiny, monkeypatch):
    import biaslens.pipelines.inputs as inputs

    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 60)
    notes: list[str] = []
    data = report_for_path(None, generator=tiny["generator"], classifier=tiny["classifier"],
                           targets=["Smiling"], steer_n=4, steer_steps=2, population_n=32,
                           n_boot=20, judges=(), note=notes.append)
    assert any("no --cache given: synthesizing" in n for n in notes)
    assert data.inputs["cache"].startswith("synthetic default world")
    assert data.title == "biaslens audit report: synthetic default world"
    assert data.dataset is not None and data.dataset.n == 60
