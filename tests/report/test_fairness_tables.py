"""The fairness tables of the CLI (report/fairness_tables.py) at 80 columns."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from biaslens.audit.fairness import fairness_report
from biaslens.report.fairness_tables import group_tables, print_fairness_report


def _report(n_boot=50, columns=("Male", "skin_type")):
    rng = np.random.default_rng(0)
    n = 400
    g = {c: rng.integers(0, 2, n) for c in columns}
    y = rng.integers(0, 2, n)
    return fairness_report(y, np.where(rng.random(n) < 0.8, y, 1 - y), sensitive_features=g,
                           y_score=rng.random(n), n_boot=n_boot, seed=0)


def test_the_group_table_splits_to_fit_80_columns_and_never_wraps_a_cell():
    rep = _report()
    assert len(group_tables(rep, 80)) == 2 and len(group_tables(rep, 160)) == 1
    console = Console(width=80, record=True)
    print_fairness_report(rep, console)
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "per-group and overall rates: Wilson score intervals" in " ".join(text.split())
    # every group row is on one line: its name and the first rate's interval together
    assert any(line.startswith("│ Female, lighter skin") and "[" in line for line in lines)


def test_no_resamples_show_the_point_values():
    rep = _report(n_boot=0, columns=("Male",))
    console = Console(width=100, record=True)
    print_fairness_report(rep, console)
    text = " ".join(console.export_text().split())
    assert "point values; no resamples (--n-boot 0)" in text and "±" not in text
    assert rep.ramaswamy.deo == rep.ramaswamy.point["deo"]
