"""End to end: the app served on localhost, loaded in headless Chromium (marker ``browser``).

Skipped with a reason when ``/usr/bin/chromium`` or Playwright's Python client is missing.
``BIASLENS_APP_SCREENSHOT=path.png`` also saves the screenshot there (docs/img), and
``BIASLENS_APP_SHIPPED=1`` serves the shipped default models instead of the tiny ones.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import biaslens.app
from biaslens.pipelines.inputs import APP_ENV_VARS as ENV_VARS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
SCRIPT = str(Path(biaslens.app.__file__).with_name("streamlit_app.py"))


def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python client is not installed (pip install playwright)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tiny, tmp_path):
    """``streamlit run`` on a free localhost port; yields the URL, stops the server after."""
    port = _free_port()
    env = {**os.environ, "HOME": str(tmp_path)}
    env.update({ENV_VARS[r]: str(tiny[r]) for r in ("cache",)})
    if not os.environ.get("BIASLENS_APP_SHIPPED"):
        env.update({ENV_VARS[r]: str(tiny[r]) for r in ("generator", "classifier", "cvae")})
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", SCRIPT, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Streamlit server did not start")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_steering_page_in_chromium(server, tmp_path):
    sync_playwright = _playwright()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(server)
        page.get_by_text("Top 10").wait_for(timeout=90_000)
        assert page.locator('[data-testid="stImage"]').count() >= 2
        seed = page.get_by_label("seed")
        assert seed.input_value() == "0"
        page.get_by_role("button", name="new faces").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('input')].some(i => i.value === '1')",
            timeout=60_000)
        page.get_by_text("Top 10").wait_for(timeout=90_000)
        page.wait_for_timeout(500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        shot = tmp_path / "app_steering.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("BIASLENS_APP_SCREENSHOT"):
        shutil.copy(shot, os.environ["BIASLENS_APP_SCREENSHOT"])
