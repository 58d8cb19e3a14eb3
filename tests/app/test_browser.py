"""End to end: the app at its defaults (shipped models, the synthetic default world),
served on localhost and read in headless Chromium (marker ``browser``), the way a person
checks it: every page renders without an error, says things in words, and shows what it
claims to show. (``st.dataframe`` tables are drawn on a canvas, so their cells are checked
by the AppTest tests instead.) Each page's screenshot is written under the test's temp folder;
``BIASLENS_APP_SCREENSHOT=DIR`` also copies them to ``DIR/app_<page>.png`` (what
``scripts/screenshots.py`` does for docs/img).

Skipped with a reason when ``/usr/bin/chromium`` or Playwright's Python client is missing.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import biaslens.app
from biaslens.app.common import MAX_UPLOAD_MIB
from biaslens.app.page_steering import GRID_COLUMNS
from biaslens.pipelines.inputs import APP_ENV_VARS as ENV_VARS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
SCRIPT = str(Path(biaslens.app.__file__).with_name("streamlit_app.py"))
WIDTH, MAX_HEIGHT = 1400, 6500
#: What a person must never read on a page: group codes, temp paths, internal names.
NEVER = ("Male=0", "Male=1", "skin_type=", "/tmp/", "classifier_rates", "Traceback",
         "-Male")


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
def server(tmp_path):
    """``streamlit run`` at the defaults on a free localhost port, with the options
    ``biaslens app`` sets; yields the URL, stops the server after."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS.values()}
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", SCRIPT, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.maxUploadSize", str(MAX_UPLOAD_MIB), "--browser.gatherUsageStats",
         "false", "--client.toolbarMode", "minimal"],
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
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _settle(page, marker: str) -> None:
    """Wait until ``marker`` (text of the page's last element) is on the page and
    Streamlit has stopped running."""
    page.get_by_text(marker, exact=False).first.wait_for(timeout=180_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(800)


def _check_page(page, name: str) -> str:
    """What every page must satisfy; returns the page's text."""
    assert page.locator('[data-testid="stException"]').count() == 0, name
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, name
    text = page.locator('[data-testid="stMain"]').inner_text()
    for bad in NEVER:
        assert bad not in text, f"{name} page shows {bad!r}"
    cut = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stCaptionContainer"], [data-testid="stImageCaption"], ' +
        '[data-testid="stMarkdownContainer"], [data-testid="stHeading"]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText.slice(0, 60))""")
    assert not cut, f"{name}: text cut off in {cut}"
    return text


def _shot(page, name: str, out: Path) -> Path:
    """Screenshot of the whole page from its top: the viewport grown to the content
    (capped at ``MAX_HEIGHT``), clipped below the last element."""
    page.set_viewport_size({"width": WIDTH, "height": MAX_HEIGHT})
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.wait_for_timeout(800)
    bottom = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]')]
        .map(e => e.getBoundingClientRect().bottom))""")
    path = out / f"app_{name.lower()}.png"
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": WIDTH,
                                          "height": min(MAX_HEIGHT, int(bottom) + 48)})
    page.set_viewport_size({"width": WIDTH, "height": 1000})
    return path


def _image(page, index: int) -> np.ndarray:
    """The ``index``-th image of the page as shown, RGB uint8."""
    png = page.locator('[data-testid="stImage"] img').nth(index).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _goto(page, name: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()


def test_every_page_at_the_defaults_reads_right(server, tmp_path):
    sync_playwright = _playwright()
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server)

        # Steering: the grid first, its first and last columns differ, P(target) rises
        _settle(page, "image-steps/s")
        text = _check_page(page, "Steering")
        assert "more Male: 8 faces along the steering path" in text
        assert "The first 8 of the 32 faces are shown" in text
        grid = _image(page, 0)
        w = grid.shape[1] // GRID_COLUMNS
        first, last = grid[:, :w], grid[:, -w:]
        assert np.abs(first - last).mean() > 2.0, "the faces do not change along the path"
        probs = [float(t.split()[-1]) for t in
                 page.get_by_test_id("steer-probabilities").inner_text().split("\n")
                 if t.startswith("P(Male)")]
        assert len(probs) == GRID_COLUMNS and probs[-1] > probs[0]
        chart = _image(page, 1)  # the covariance bars: nothing drawn into the right edge
        assert (chart[:, -3:] > 235).all(), "the chart's caption or labels are cut"
        assert "move significantly" in text
        shots.append(_shot(page, "Steering", tmp_path))

        # Dataset: the source in words, faces, groups in words with the threshold
        _goto(page, "Dataset")
        _settle(page, "shown for the attributes in the table above")
        text = _check_page(page, "Dataset")
        assert "synthetic default world, 2,000 faces" in text
        assert "small = fewer than 30 faces" in text  # (tables are canvases: AppTest reads them)
        shots.append(_shot(page, "Dataset", tmp_path))

        _goto(page, "Population")
        _settle(page, "The skin_tone judge labelled")
        text = _check_page(page, "Population")
        assert "16 faces of the generator" in text and "amplification > 0" in text
        # the judge block: which judge, what correction means, what it labelled
        assert "Independent judges" in text and "Judge skin_tone: skin colour rule" in text
        assert "corrected for judge error undo its mistakes" in text
        assert "The skin_tone judge labelled 512 generated faces and 200 val faces" in text
        shots.append(_shot(page, "Population", tmp_path))

        # Counterfactual: one vocabulary, P under each image, a wrong file refused visibly
        _goto(page, "Counterfactual")
        _settle(page, "Male → Female: the counterfactual also changes")
        text = _check_page(page, "Counterfactual")
        assert text.count("P(Male) = ") == 5 and "counterfactual (decoder flip)" in text
        shots.append(_shot(page, "Counterfactual", tmp_path))
        page.get_by_text("upload", exact=True).click()
        page.locator('input[type="file"]').wait_for(state="attached", timeout=60_000)
        assert f"{MAX_UPLOAD_MIB}MB" in page.locator(
            '[data-testid="stFileUploaderDropzoneInstructions"]').inner_text().replace(" ", "")
        page.locator('input[type="file"]').set_input_files(
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
        refusal = page.get_by_text("not an image file")
        refusal.wait_for(timeout=60_000)
        assert refusal.is_visible()

        _goto(page, "Fairness")
        _settle(page, "BA and KL: 0 is fair")
        text = _check_page(page, "Fairness")
        assert "the protected group is Male (vs Female)" in text
        shots.append(_shot(page, "Fairness", tmp_path))
        browser.close()
    assert not [e for e in errors if "favicon" not in e], errors
    assert all(s.stat().st_size > 20_000 for s in shots)
    if os.environ.get("BIASLENS_APP_SCREENSHOT"):
        out = Path(os.environ["BIASLENS_APP_SCREENSHOT"])
        out.mkdir(parents=True, exist_ok=True)
        for s in shots:
            shutil.copy(s, out / s.name)
