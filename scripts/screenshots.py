"""Regenerate every picture in docs/img from the SHIPPED models (``make screenshots``).

1. The app's pages (docs/img/app_<page>.png): the browser test
   (tests/app/test_browser.py) serves the app at its defaults — the shipped models and
   the synthetic default world — reads every page in headless Chromium, checks it the way
   a person would and, with ``BIASLENS_APP_SCREENSHOT``, copies its screenshots here. The
   pictures are therefore exactly the pages the test passed.
2. The demo's steering grid and covariance bars (steer_grid.png, steer_covariance.png):
   ``biaslens demo`` on the shipped models (its calibrated step), written into a temp
   folder and copied; contact_sheet.png from ``biaslens data preview`` (``PREVIEW_ARGS``:
   24 faces of the default world at 128 px).
3. The generator's sample grid (generated_grid.png): the fixed-seed grid of the shipped
   generator (biaslens.defaults.ship.save_generated_grid).

Usage: ``python scripts/screenshots.py [--out docs/img] [--only app|demo|grid]``.
Needs the ``test`` extra and /usr/bin/chromium for step 1 (scripts/ensure-chromium.sh).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_FIGURES = ("steer_grid.png", "steer_covariance.png")
PREVIEW_ARGS = ("data", "preview", "celeba", "--n", "24", "--size", "128")
CLI = "from biaslens.cli.main import main; main()"


def app_pages(out: Path) -> None:
    """Run the browser test with its screenshots copied to ``out``; fail if it fails."""
    if not Path("/usr/bin/chromium").exists():
        sys.exit("screenshots: /usr/bin/chromium is missing (bash scripts/ensure-chromium.sh)")
    env = {**os.environ, "BIASLENS_APP_SCREENSHOT": str(out)}
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-p", "no:xdist", str(ROOT / "tests/app/test_browser.py")],
                           cwd=ROOT, env=env)
    if code:
        sys.exit(f"screenshots: the browser test failed (exit {code}); nothing was copied")


def demo_figures(out: Path) -> None:
    """``biaslens demo`` and the data preview; their figures go to ``out``."""
    with tempfile.TemporaryDirectory(prefix="biaslens-shots-") as tmp:
        subprocess.check_call([sys.executable, "-c", CLI, "demo", "--out", tmp], cwd=ROOT)
        for name in DEMO_FIGURES:
            shutil.copy(Path(tmp) / name, out / name)
    subprocess.check_call([sys.executable, "-c", CLI, *PREVIEW_ARGS, "--out",
                           str(out / "contact_sheet.png")], cwd=ROOT)


def generated_grid(out: Path) -> None:
    """The shipped generator's fixed-seed sample grid."""
    from biaslens.defaults.ship import save_generated_grid
    from biaslens.pipelines.inputs import model_for_role

    gen, _ = model_for_role(None, "generator")
    save_generated_grid(gen, out / "generated_grid.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--only", choices=("app", "demo", "grid"), action="append")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    steps = {"app": app_pages, "demo": demo_figures, "grid": generated_grid}
    for name in args.only or list(steps):
        print(f"screenshots: {name} -> {out}", flush=True)
        steps[name](out)


if __name__ == "__main__":
    main()
