"""Rendering of audit results: tables, figures, the HTML report. Nothing here runs an audit.

The public face::

    from biaslens.report import Report, render_html, write_report, steer_rows
    report = Report.of(data)          # data: biaslens.pipelines.report.build_report(...)
    write_report(report, "out/report.html")

Modules by job: :mod:`~biaslens.report.tables` (rich tables, number formats),
:mod:`~biaslens.report.fairness_tables`, :mod:`~biaslens.report.figures` (PNG bytes and
files), ``plots_*`` (matplotlib figures per audit), :mod:`~biaslens.report.summary`
(plain-language sentences), :mod:`~biaslens.report.markup` and
:mod:`~biaslens.report.sections` (HTML pieces), :mod:`~biaslens.report.html` (the page),
:mod:`~biaslens.report.document` (a report's figures, ``report.json``, writing).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it (imported on first use: matplotlib and rich
#: load only when a renderer is asked for).
_HOMES = {
    "Report": "document", "report_figures": "document", "write_report": "document",
    "array_to_png": "figures", "fig_to_png": "figures", "save_figure": "figures",
    "render_html": "html", "steer_rows": "plots_steer", "steer_table": "plots_steer",
    "summarize": "summary",
}

__all__ = ["Report", "array_to_png", "fig_to_png", "render_html", "report_figures",
           "save_figure", "steer_rows", "steer_table", "summarize", "write_report"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'biaslens.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f"biaslens.report.{_HOMES[name]}"), name)
