"""Rich tables and number formats of the reporting layer (report/tables.py)."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from biaslens.audit.dataset import dataset_stats
from biaslens.report.tables import fmt_ci, fmt_num, fmt_p, prevalence_table, rich_table


def _text(table) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_number_formats_show_undefined_as_a_dash():
    assert fmt_num(0.12345) == "0.123" and fmt_num(2, digits=1, signed=True) == "+2.0"
    assert fmt_num(None) == fmt_num(float("nan")) == fmt_num(float("inf")) == "—"
    assert fmt_p(0.01234) == "0.012" and fmt_p(2e-5) == "<0.001" and fmt_p(None) == "—"
    assert fmt_p(8e-15) == "<0.001" and fmt_p(1.0) == "1.000"
    assert fmt_ci(-0.1, 0.25, signed=True) == "[-0.100, +0.250]"
    assert fmt_ci(0.1, None) == fmt_ci(float("nan"), 0.2) == "—"


def test_rich_table_aligns_names_left_and_numbers_right():
    t = rich_table("T", ["name", "a", "b"])
    assert t.title == "T" and [c.header for c in t.columns] == ["name", "a", "b"]
    assert [c.justify for c in t.columns] == ["left", "right", "right"]


def test_prevalence_table_sorts_and_limits():
    attrs = np.zeros((10, 3), bool)
    attrs[:2, 0] = True                    # a: 20 %
    attrs[:7, 1] = True                    # b: 70 %
    attrs[:5, 2] = True                    # c: 50 %
    stats = dataset_stats(attrs, ["a", "b", "c"], n_boot=0)
    text = _text(prevalence_table(stats))
    assert "N = 10" in text and "95% CI (Wilson)" in text
    assert text.index(" b ") < text.index(" c ") < text.index(" a ")
    assert "0.700" in text
    limited = _text(prevalence_table(stats, limit=1))
    assert " b " in limited and " a " not in limited and " c " not in limited
    unsorted = _text(prevalence_table(stats, sort=False))
    assert unsorted.index(" a ") < unsorted.index(" b ")
