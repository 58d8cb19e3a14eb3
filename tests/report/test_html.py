"""The HTML report's structure (no browser): sections, tables, embedded PNGs, JSON."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import numpy as np

from biaslens.report import render_html, write_report


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def test_report_sections_images_and_self_containment(small_report):
    html = render_html(small_report)
    p = _parse(html)
    ids = {a.get("id") for t, a in p.tags if t == "h2"}
    assert {"summary", "dataset", "steering", "population", "fairness", "mitigation",
            "inputs"} <= ids
    imgs = [a["src"] for t, a in p.tags if t == "img"]
    assert len(imgs) == len(small_report.figures)
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched from elsewhere, and there is no script
    assert not any(t == "script" for t, _ in p.tags)
    for t, a in p.tags:
        for key in ("src", "href"):
            v = a.get(key)
            assert v is None or v.startswith(("data:", "#")), (t, a)


def test_report_tables_match_the_results(small_report):
    html = render_html(small_report)
    text = " ".join(_parse(html).text)
    for r in small_report.data.steer:
        assert f"Toward {r.target}" in text
        for row in r.ranked:
            assert row.name in text
    assert [t for t, _ in small_report.data.fairness] == ["Smiling", "Young"]  # Male is protected
    assert "Not audited here: Male, a protected attribute" in text
    for t, rep in small_report.data.fairness:
        assert f"{t} vs Male × skin_type" in text
        assert sum(rep.counts) == 16  # the test split of the 160-face cache
    assert "dbvae/compare.json" in text and "auc.after" in text
    # with n_boot >= 50 steering and population are both compared with the training images
    assert all(r.data is not None for r in small_report.data.steer)
    assert "path slope" in text and "vs data" in text
    pop = small_report.data.population
    assert pop.associations is not None and pop.association_target == "Male"
    assert "Associations with Male" in text and "generated slope" in text
    # skin_type is a data group, not a classifier attribute: the population section says
    # why its groups are Male only
    assert pop.groups == ["Male"]
    assert "Not grouped by skin_type: it is not among the classifier's attributes" in text
    assert "the skin_tone judge below reads skin type" in text
    # corrected for the classifier's error rates on the val split, as `audit population`
    assert pop.corrected and "corrected for its error rates" in text
    for line in small_report.to_dict()["summary"]:
        assert line in text


def test_report_reads_without_the_docs(small_report):
    """What a reader checks: every summary sentence links to a row that exists, intervals
    are [lo, hi] (no ±), groups are words, the date and inputs come first, the population
    table is ordered by |amplification| and says what its sign means."""
    import re

    from biaslens.report.summary import ranked_findings

    html = render_html(small_report)
    tags = _parse(html).tags
    ids = {a["id"] for _, a in tags if "id" in a}
    links = [a["href"][1:] for t, a in tags if t == "a" and a.get("href", "").startswith("#")]
    found = ranked_findings(small_report.to_dict())
    assert found and all(f["anchor"] in ids for f in found)
    assert all(link in ids for link in links)
    summary = html[html.index("id='summary'"):html.index("id='dataset'")]
    assert summary.count("<li>") == len(found) and "significant</span>" in summary
    assert all(f"href='#{f['anchor']}'" in summary for f in found)
    # ranked: the significant ones first, each group by effect size
    flags = [f["significant"] for f in found]
    assert flags == sorted(flags, reverse=True)
    text = " ".join(_parse(html).text)
    assert "±" not in html.replace("± 2·std", "").replace("± 2 standard deviations", "")
    assert re.search(r"\[[−+-]?\d+\.\d+, [−+-]?\d+\.\d+\]", text)
    assert "Male=0" not in text and "Male=1" not in text and "skin_type=" not in text
    assert "Female, lighter skin" in text or "Female, darker skin" in text
    # date and inputs before the summary
    assert html.index("Made ") < html.index("id='summary'")
    assert html.index("Inputs</caption>") < html.index("id='summary'")
    assert small_report.data.created in html
    # population rows by |amplification|, the sign explained, the omitted rows counted
    pop = small_report.data.population
    shown = [p for t, a in tags if t == "tr" and (p := a.get("id", "")).startswith(
        "row-population-") and "-group-" not in p and "-assoc-" not in p]
    amp = {f"row-population-{n}": abs(a) for n, a in zip(pop.attribute_names, pop.amplification)}
    assert [amp[r] for r in shown] == sorted((amp[r] for r in shown), reverse=True)
    assert "further from 50 %" in text
    n_all = len(pop.attribute_names)
    assert f"{len(shown)} of {n_all} attributes" in text
    assert ("more in report.json" in text) == (n_all > len(shown))
    # the fairness sentence names the rate that differs; Ramaswamy metrics where computed
    for t, rep in small_report.data.fairness:
        if rep.ramaswamy is not None:
            assert "DEO (difference in equal opportunity" in text
    assert "it comes from the true-positive rate" in text or "false-positive rate" in text


def test_report_escapes_text(small_report):
    small_report.data.notes.append("<b>not bold</b> & more")
    try:
        html = render_html(small_report)
    finally:
        small_report.data.notes.pop()
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in html


def test_write_report_html_and_json(small_report, tmp_path):
    html_path, json_path = write_report(small_report, tmp_path / "out" / "r.html")
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    data = json.loads(json_path.read_text())
    assert json_path.name == "report.json" and data["format"] == "biaslens-report"
    assert [s["target"] for s in data["steer"]] == ["Male", "-Smiling", "Young"]
    assert data["summary"] == small_report.to_dict()["summary"]
    assert data["dataset"]["n"] == 160
    assert np.isclose(sum(g["share"] for g in data["dataset"]["groups"]), 1.0)
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic writes leave no temp files


def test_report_shows_each_judge_raw_and_corrected(small_report):
    """The population section names the judge, says what it is and what correction means,
    and labels every share raw (the judge's reading) or corrected for judge error; a judge
    the data cannot calibrate shows its raw shares and says why they are not corrected."""
    import dataclasses

    from biaslens.report import Report
    from biaslens.report.judges import CORRECTED, RAW
    from biaslens.report.markup import esc

    html = render_html(small_report)
    pop = html[html.index("id='population'"):html.index("id='fairness'")]
    assert "Independent judges" in pop and "Judge skin_tone: skin colour rule" in pop
    assert "independent labeller (not the audited classifier)" in pop
    assert pop.count(esc(RAW)) == 7 and pop.count(CORRECTED) == 3
    assert "judge labelled 64 generated faces and 16 val faces" in pop
    assert "<a href='#row-judges'>Independent judges</a>" in html[:html.index("id='population'")]
    assert "row-judge-skin_tone-corrected-darker" in pop
    raw_only = {**small_report.data.judges[0], "shares": "raw", "corrected": None,
                "corrected_ci": None, "labelled": "64 generated faces",
                "not_corrected": "the cache has no 'skin_type' column"}
    data = dataclasses.replace(small_report.data, judges=[raw_only])
    pop = render_html(Report(data, small_report.figures))
    assert pop.count(esc(RAW)) == 8 and pop.count(CORRECTED) == 1  # rows + two sentences
    assert "No correction: the cache has no" in pop
    js = json.loads(json.dumps(small_report.to_dict()))
    assert js["judges"][0]["judge"] == "skin_tone" and js["inputs"]["judges"] == ["skin_tone"]
