"""``biaslens app`` (the Streamlit app) and ``biaslens report`` (the HTML audit report).

Both are top-level commands; ``cli/main.py`` registers them::

    app.command("app")(app_command)
    app.command("report")(report_command)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from biaslens.cli._common import console, err_console
from biaslens.errors import BiasLensError, DataError

__all__ = ["app_command", "read_run_results", "report_command", "resolve_report_input"]

#: JSON files of a run folder that are *not* results (settings, logs).
_NOT_RESULTS = {"config.json", "report.json", "manifest.json"}


def app_command(
    port: int = typer.Option(8501, help="Port of the local server."),
    generator: Path = typer.Option(None, help="Preset generator checkpoint (default: shipped)."),
    classifier: Path = typer.Option(None, help="Preset classifier checkpoint."),
    cvae: Path = typer.Option(None, help="Preset conditional-VAE checkpoint."),
    cache: Path = typer.Option(None, help="Preset dataset cache (default: synthetic world)."),
    headless: bool = typer.Option(True, help="Do not open a browser window."),
) -> None:
    """Start the Streamlit app on localhost (zero config: shipped models, synthetic data).

    Example: ``biaslens app --port 8502 --cache caches/synth64``
    """
    try:
        import streamlit  # noqa: F401
    except ImportError:
        raise BiasLensError("the app needs Streamlit: pip install 'biaslens[app]'") from None
    env = dict(os.environ)
    from biaslens.pipelines.inputs import APP_ENV_VARS

    for role, path in (("generator", generator), ("classifier", classifier), ("cvae", cvae),
                       ("cache", cache)):
        if path is not None:
            if not path.exists():
                raise BiasLensError(f"{path}: --{role} not found")
            env[APP_ENV_VARS[role]] = str(path.resolve())
    script = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    console.print(f"biaslens app on http://localhost:{port} (Ctrl-C to stop)")
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    if code:
        raise typer.Exit(code)


def resolve_report_input(path: Path, cache: Path | None) -> tuple[Path, Path | None]:
    """``(cache_folder, run_folder_or_None)`` for ``biaslens report PATH``.

    ``PATH`` is a cache (has ``manifest.json``) or a run folder; a run folder takes its
    cache from ``--cache`` or from the ``cache``/``data`` field of its ``config.json``.
    """
    if not path.exists():
        raise DataError("no such run or cache folder", path=path)
    if (path / "manifest.json").is_file():
        return (cache or path), None
    if cache is not None:
        return cache, path
    cfg = path / "config.json"
    if cfg.is_file():
        try:
            conf = json.loads(cfg.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"invalid JSON ({exc})", path=cfg) from None
        for key in ("cache", "data"):
            value = conf.get(key) if isinstance(conf, dict) else None
            if isinstance(value, str) and (Path(value) / "manifest.json").is_file():
                return Path(value), path
    raise DataError("neither a dataset cache (no manifest.json) nor a run folder whose "
                    "config.json names its cache; pass --cache CACHE", path=path)


def read_run_results(run: Path) -> dict[str, Any]:
    """Every result JSON of a run folder (top level and one level down), by relative name."""
    out: dict[str, Any] = {}
    for p in sorted([*run.glob("*.json"), *run.glob("*/*.json")]):
        if p.name in _NOT_RESULTS or p.name.startswith("."):
            continue
        try:
            out[str(p.relative_to(run))] = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"invalid JSON ({exc})", path=p) from None
    return out


def report_command(
    run_or_cache: Path = typer.Argument(..., help="A dataset cache or a run folder."),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write "
                             "(report.json goes beside it)."),
    targets: str = typer.Option("Male,Smiling", help="Comma-separated steering/fairness "
                                "targets ('-Male' allowed)."),
    protected: str = typer.Option("Male", help="Protected attribute(s) or cache group "
                                  "columns for fairness, comma-separated."),
    generator: Path = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: Path = typer.Option(None, help="Classifier checkpoint (default: shipped)."),
    cache: Path = typer.Option(None, help="Cache of a run folder (default: from its "
                               "config.json)."),
    steer_n: int = typer.Option(64, help="Faces per steering target."),
    steps: int = typer.Option(20, help="Steering steps."),
    population_n: int = typer.Option(1000, help="Generated faces for the population audit."),
    n_boot: int = typer.Option(300, help="Bootstrap resamples for every CI."),
    seed: int = typer.Option(0, help="Seed of every audit."),
) -> None:
    """Run the audits that apply and write one self-contained HTML report + report.json.

    Example: ``biaslens report caches/synth64 --targets Male,Smiling --out report.html``
    """
    from rich.status import Status

    from biaslens.pipelines.inputs import default_model_path, load_for_role, open_cache
    from biaslens.report.html import build_report, write_report

    cache_path, run = resolve_report_input(run_or_cache, cache)
    data_cache = open_cache(cache_path)
    models: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for role, given in (("generator", generator), ("classifier", classifier)):
        try:
            path = given if given is not None else default_model_path(role)
        except BiasLensError as exc:
            err_console.print(f"[yellow]note:[/] {exc}")
            continue
        models[role] = load_for_role(path, role)
        inputs[role] = str(path)
    mitigation = read_run_results(run) if run is not None else {}
    if run is not None:
        inputs["run"] = str(run)
    with Status("auditing…", console=err_console) as status:
        data = build_report(
            data_cache, generator=models.get("generator"), classifier=models.get("classifier"),
            targets=[t for t in targets.split(",") if t.strip()],
            protected=[p.strip() for p in protected.split(",") if p.strip()],
            mitigation=mitigation, steer_n=steer_n, steer_steps=steps,
            population_n=population_n, n_boot=n_boot, seed=seed, inputs=inputs,
            progress=lambda msg: status.update(f"auditing: {msg}…"))
    html_path, json_path = write_report(data, out)
    for line in data.to_dict()["summary"]:
        console.print(f"• {line}", highlight=False)
    console.print(f"wrote {html_path} and {json_path}")
