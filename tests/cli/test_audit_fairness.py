"""``biaslens audit fairness`` end to end on a tiny CSV."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from biaslens.audit.fairness import equalized_odds_difference
from biaslens.cli.main import app
from biaslens.errors import DataError

runner = CliRunner()


def write_csv(path, rows, header="y,y_hat,score,Male,skin_type"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


@pytest.fixture
def preds(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    y, m, sk = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    s = np.round(np.clip(0.6 * y + 0.4 * rng.random(n) - 0.1 * m, 0, 1), 4)
    p = (s > 0.5).astype(int)
    rows = list(zip(y, p, s, m, sk))
    return write_csv(tmp_path / "preds.csv", rows), (y, p, s, m, sk)


def test_cli_writes_json_and_plot(preds, tmp_path):
    path, (y, p, s, m, sk) = preds
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(path), "--y-true", "y",
                              "--y-pred", "y_hat", "--sensitive", "Male,skin_type",
                              "--n-boot", "30", "--json", str(out), "--plot", str(png)])
    assert res.exit_code == 0, res.output
    assert "Disparities" in res.output
    d = json.loads(out.read_text())
    assert d["groups"] == ["Male=0|skin_type=0", "Male=0|skin_type=1", "Male=1|skin_type=0",
                           "Male=1|skin_type=1"]
    want = equalized_odds_difference(y, p, sensitive_features={"Male": m, "skin_type": sk})
    assert d["disparities"]["between_groups"]["equalized_odds_difference"]["value"] == \
        pytest.approx(want)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_with_score_adds_ramaswamy(preds, tmp_path):
    path, _ = preds
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(path), "--y-true", "y",
                              "--y-pred", "y_hat", "--score", "score", "--sensitive", "Male",
                              "--n-boot", "20", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["ramaswamy"]["n_boot"] == 20


def run_main(*args):
    return subprocess.run([sys.executable, "-m", "biaslens.cli.main", *args],
                          capture_output=True, text=True)


def test_bad_csv_errors_name_file_line_column(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [[1, 0, 0.3, 1, 0], [1, 2, 0.4, 0, 1]])
    r = run_main("audit", "fairness", "--predictions", str(bad), "--y-true", "y",
                 "--y-pred", "y_hat", "--sensitive", "Male", "--n-boot", "0")
    assert r.returncode == 2
    assert "bad.csv" in r.stderr and "line 3" in r.stderr and "y_hat" in r.stderr
    assert "value '2' is not binary" in r.stderr.replace("\n", " ")   # the value as written
    assert "Traceback" not in r.stderr
    # the other cases in-process (one subprocess is enough to check the exit path)
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(bad), "--y-true", "y",
                              "--y-pred", "y_hat", "--sensitive", "Gender", "--n-boot", "0"])
    assert isinstance(res.exception, DataError)
    assert "Gender" in str(res.exception) and "line 1" in str(res.exception)
    bad2 = write_csv(tmp_path / "bad2.csv", [[1, 0, "abc", 1, 0]])
    res = runner.invoke(app, ["audit", "fairness", "--predictions", str(bad2), "--y-true", "y",
                              "--y-pred", "y_hat", "--score", "score", "--sensitive", "Male"])
    assert isinstance(res.exception, DataError)
    assert "line 2" in str(res.exception) and "score" in str(res.exception)
    assert "value 'abc' is not a number" in str(res.exception)
