"""A report ready to render: the results of the report pipeline and their figures.

:class:`Report` pairs a :class:`biaslens.pipelines.report.ReportData` with its figures
(PNG bytes, drawn by :func:`report_figures`); :meth:`Report.to_dict` is
``report.json`` (the results, the figure keys and the plain-language summary);
:func:`write_report` writes ``report.html`` and ``report.json`` atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biaslens.io import write_json, write_text
from biaslens.pipelines.report import ReportData
from biaslens.report.figures import fig_to_png
from biaslens.report.summary import summarize

__all__ = ["Report", "report_figures", "write_report"]


def report_figures(data: ReportData) -> dict[str, bytes]:
    """Every figure of a report, by key (``"dataset_prevalence"``, ``"steer_grid_Male"``,
    ``"fairness_Smiling"``, ...), as PNG bytes."""
    from biaslens.report.plots_dataset import plot_correlation_heatmap, plot_prevalence
    from biaslens.report.plots_fairness import fairness_png
    from biaslens.report.plots_generators import plot_population
    from biaslens.report.plots_steer import plot_covariance_bars, plot_steer_grid

    figures: dict[str, bytes] = {}
    if data.dataset is not None:
        figures["dataset_prevalence"] = fig_to_png(plot_prevalence(data.dataset))
        figures["dataset_correlation"] = fig_to_png(
            plot_correlation_heatmap(data.dataset.phi, data.dataset.attribute_names))
    for res in data.steer:
        figures[f"steer_grid_{res.target}"] = fig_to_png(
            plot_steer_grid(res), dpi=80)
        figures[f"steer_cov_{res.target}"] = fig_to_png(plot_covariance_bars(res))
    if data.population is not None:
        figures["population"] = fig_to_png(plot_population(data.population), dpi=80)
    for t, rep in data.fairness:
        figures[f"fairness_{t}"] = fairness_png(rep)
    return figures


@dataclass
class Report:
    """The results of a report (``data``) and its figures (key -> PNG bytes)."""

    data: ReportData
    figures: dict[str, bytes]

    @classmethod
    def of(cls, data: ReportData) -> Report:
        """The report of ``data``, its figures drawn."""
        return cls(data, report_figures(data))

    @property
    def summary(self) -> list[str]:
        """The plain-language sentences (:func:`biaslens.report.summary.summarize`)."""
        return self.to_dict()["summary"]

    def to_dict(self) -> dict[str, Any]:
        """``report.json``: the results' content (no images), the figure keys, the summary."""
        d = self.data.to_dict()
        d["figures"] = sorted(self.figures)
        d["summary"] = summarize(d)
        return d


def report_paths(out: str | Path) -> tuple[Path, Path]:
    """Where a report goes: ``out`` ending in ``.html``/``.htm`` is the HTML file with
    ``report.json`` beside it; any other ``out`` (an existing folder, or a name without
    a suffix, like every other ``--out``) is a folder holding ``report.html`` and
    ``report.json``.

    >>> [str(p) for p in report_paths("runs/r1")], str(report_paths("a/b.html")[1])
    (['runs/r1/report.html', 'runs/r1/report.json'], 'a/report.json')
    """
    out = Path(out)
    if out.suffix.lower() in (".html", ".htm") and not out.is_dir():
        return out, out.with_name("report.json")
    return out / "report.html", out / "report.json"


def write_report(report: Report, out: str | Path) -> tuple[Path, Path]:
    """Write the HTML and ``report.json`` where :func:`report_paths` says, each
    atomically."""
    from biaslens.report.html import render_html

    out, js_path = report_paths(out)
    write_text(out, render_html(report))
    js = write_json(report.to_dict(), js_path)
    return out, js
