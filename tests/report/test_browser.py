"""The HTML report opened in headless Chromium renders without console errors."""

from __future__ import annotations

import os

import pytest

from biaslens.report import write_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


def test_report_renders_in_chromium(small_report, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python client is not installed (pip install playwright)")
    html_path, _ = write_report(small_report, tmp_path / "report.html")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(html_path.as_uri())
        page.wait_for_load_state("load")
        n_img = page.locator("img").count()
        page.screenshot(path=str(tmp_path / "report_top.png"))
        # a summary sentence's link lands on its row, on screen
        link = page.locator(".verdict a").first
        target = link.get_attribute("href")
        link.click()
        page.wait_for_timeout(200)
        box = page.eval_on_selector(target, "e => e.getBoundingClientRect().toJSON()")
        viewport = page.viewport_size
        # every embedded PNG decoded to a real picture
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        title = page.title()
        browser.close()
    assert errors == [] and failed == []
    assert n_img == len(small_report.figures) and all(w > 50 for w in widths)
    assert title == small_report.data.title
    # (scrolled to the top of the viewport, a row may sit a sub-pixel above it)
    assert target.startswith("#row-") and -1 < box["top"] < viewport["height"]
    assert (tmp_path / "report_top.png").stat().st_size > 10_000
