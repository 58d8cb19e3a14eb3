"""``biaslens predict`` and ``audit fairness CACHE --classifier``: one table, one reading."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.data.cache import load_cache
from biaslens.data.predictions import read_predictions
from biaslens.errors import BiasLensError, DataError

runner = CliRunner()


def _predict(tiny, out, *extra):
    return runner.invoke(app, ["predict", str(tiny["cache"]), "--classifier",
                               str(tiny["classifier"]), "--out", str(out), "--device", "cpu",
                               "--n-boot", "50", *extra])


def test_predict_writes_one_row_per_image_and_metrics(tiny, tmp_path):
    out = tmp_path / "preds.csv"
    res = _predict(tiny, out, "--split", "test")
    assert res.exit_code == 0, res.output
    cache = load_cache(tiny["cache"])
    test_rows = np.flatnonzero(cache.split == 2)
    cols = read_predictions(out, ["index", "split", "Male_logit", "Male_prob", "Male_pred",
                                  "Male", "Bald", "skin_type"])
    np.testing.assert_array_equal(cols["index"].astype(int), test_rows)
    assert set(cols["split"]) == {"test"}
    np.testing.assert_array_equal(cols["Male"].astype(int), cache.attrs[test_rows, 20])
    logit = cols["Male_logit"].astype(float)
    np.testing.assert_array_equal(cols["Male_pred"].astype(int), (logit > 0).astype(int))
    metrics = json.loads((tmp_path / "preds.metrics.json").read_text())
    assert metrics["labelled"] == ["Male", "Smiling", "Young"]
    male = metrics["metrics"]["attributes"][0]
    assert male["attribute"] == "Male" and male["n"] == len(test_rows)
    y, pred = cache.attrs[test_rows, 20], logit > 0
    assert male["accuracy"] == pytest.approx(np.mean(y == pred))
    assert male["true_rate"] == pytest.approx(y.mean())
    lo, hi = male["auc_ci"]
    assert lo <= male["auc"] <= hi
    assert "accuracy" in res.output and "Male" in res.output


def test_audit_fairness_on_the_cache_equals_the_file(tiny, tmp_path):
    out = tmp_path / "preds.npz"
    assert _predict(tiny, out, "--split", "test").exit_code == 0
    common = ["--target", "Smiling", "--sensitive", "Male,skin_type", "--n-boot", "30"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(out), *common,
                              "--json", str(a)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["audit", "fairness", str(tiny["cache"]), "--classifier",
                              str(tiny["classifier"]), "--device", "cpu", *common,
                              "--json", str(b)])
    assert res.exit_code == 0, res.output
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    for key in ("overall", "by_group", "disparities", "groups"):
        assert ja[key] == jb[key], key
    assert jb["classifier"] == str(tiny["classifier"]) and ja["predictions"] == str(out)


def test_audit_fairness_input_errors(tiny, tmp_path):
    res = runner.invoke(app, ["audit", "fairness", "--sensitive", "Male"])
    assert isinstance(res.exception, BiasLensError) and "neither" in str(res.exception)
    res = runner.invoke(app, ["audit", "fairness", str(tiny["cache"]), "--sensitive", "Male",
                              "--classifier", str(tiny["classifier"])])
    assert "--target" in str(res.exception)
    res = runner.invoke(app, ["audit", "fairness", str(tiny["cache"]), "--sensitive", "Male",
                              "--classifier", str(tiny["classifier"]), "--y-true", "y"])
    assert "--y-true" in str(res.exception)


def test_bad_output_is_refused_before_anything_runs(tiny, tmp_path, monkeypatch):
    res = _predict(tiny, tmp_path / "preds.txt")
    assert isinstance(res.exception, DataError) and "--out" in str(res.exception)
    monkeypatch.setitem(sys.modules, "pyarrow", None)           # as if not installed
    res = _predict(tiny, tmp_path / "preds.parquet")
    assert isinstance(res.exception, BiasLensError) and "pyarrow" in str(res.exception)
    res = _predict(tiny, tmp_path / "p.csv", "--split", "holdout")
    assert "unknown split" in str(res.exception)
    assert not list(tmp_path.iterdir())


def test_dry_run_prints_the_plan(tiny, tmp_path):
    res = _predict(tiny, tmp_path / "p.csv", "--dry-run")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert plan["json"] == str(tmp_path / "p.metrics.json") and plan["split"] == "all"
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_predict_names_each_row_with_its_image(tiny, tmp_path, make_celeba, suffix):
    """An ingested CelebA-format folder: the image column holds each row's file name, in
    the rows of the split asked for, and audit fairness reads the file with it."""
    from biaslens.data.ingest import ingest

    truth = make_celeba(tmp_path / "src", n=16, seed=4, groups=True)
    (truth["img_dir"] / "000006.jpg").unlink()                 # a partial download
    cache = ingest(tmp_path / "src", tmp_path / "cache", size=64, workers=1,
                   only_present=True)
    listed = [f for f in truth["files"] if f != "000006.jpg"]
    out = tmp_path / f"preds{suffix}"
    res = runner.invoke(app, ["predict", str(cache.path), "--classifier",
                              str(tiny["classifier"]), "--out", str(out), "--device", "cpu",
                              "--n-boot", "20", "--split", "test"])
    assert res.exit_code == 0, res.output
    cols = read_predictions(out, ["index", "image", "split", "Male"])
    rows = np.flatnonzero(cache.split == 2)
    assert len(rows) and len(rows) < len(cache)
    np.testing.assert_array_equal(cols["index"].astype(int), rows)
    assert [str(x) for x in cols["image"]] == [listed[i] for i in rows]
    keep = np.array([f != "000006.jpg" for f in truth["files"]])
    np.testing.assert_array_equal(cols["Male"].astype(int), truth["attrs"][keep][rows, 20])
    if suffix == ".csv":
        assert out.read_text().splitlines()[0].startswith("index,image,split,")
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(out), "--target",
                              "Smiling", "--sensitive", "Male", "--n-boot", "20", "--json",
                              str(tmp_path / "f.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "f.json").read_text())["n"] == len(rows)


def test_predict_on_a_cache_without_names_has_no_image_column(tiny, tmp_path):
    out = tmp_path / "p.csv"
    assert _predict(tiny, out, "--split", "val").exit_code == 0
    assert load_cache(tiny["cache"]).image_names is None
    assert "image" not in out.read_text().splitlines()[0].split(",")
