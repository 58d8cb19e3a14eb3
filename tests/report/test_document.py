"""Where a report is written: an .html file with report.json beside it, or a folder."""

from __future__ import annotations

import json

from biaslens.report.document import report_paths, write_report


def test_out_without_html_suffix_is_a_folder(small_report, tmp_path):
    html, js = write_report(small_report, tmp_path / "r1")
    assert (html, js) == (tmp_path / "r1" / "report.html", tmp_path / "r1" / "report.json")
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    json.loads(js.read_text())
    html, js = write_report(small_report, tmp_path / "page.html")
    assert js == tmp_path / "report.json" and html.is_file()
    (tmp_path / "dir.html").mkdir()          # an existing folder stays a folder
    assert report_paths(tmp_path / "dir.html")[0] == tmp_path / "dir.html" / "report.html"
