"""``biaslens app`` (the Streamlit app) and ``biaslens report`` (the HTML audit report).

Both are top-level commands; ``cli/main.py`` registers them::

    app.command("app")(app_command)
    app.command("report")(report_command)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import typer

from biaslens.cli._common import REPORT, console, err_console, ranged
from biaslens.errors import BiasLensError
from biaslens.pipelines.inputs import DEFAULT_CACHE_N

__all__ = ["app_command", "report_command"]


def app_command(
    port: int = typer.Option(8501, help="Port of the local server.", min=1, max=65535),
    generator: Path = typer.Option(None, help="Preset generator checkpoint (default: shipped)."),
    classifier: Path = typer.Option(None, help="Preset classifier checkpoint."),
    cvae: Path = typer.Option(None, help="Preset conditional-VAE checkpoint."),
    cache: Path = typer.Option(None, help="Preset dataset cache (default: synthetic world)."),
    headless: bool = typer.Option(True, help="Do not open a browser window."),
    address: str = typer.Option("127.0.0.1", help="Address the server listens on: "
                                "127.0.0.1 (this machine only) unless you give another, "
                                "e.g. 0.0.0.0 for every interface."),
) -> None:
    """Start the Streamlit app on 127.0.0.1 (zero config: shipped models, synthetic data).

    Only this machine can reach it unless --address says otherwise. Ctrl-C or SIGTERM
    stops the server.

    Example: ``biaslens app --port 8502 --cache caches/synth64``
    """
    try:
        import streamlit  # noqa: F401
    except ImportError:
        raise BiasLensError("the app needs Streamlit: pip install 'biaslens[app]'") from None
    from biaslens.pipelines.inputs import APP_ENV_VARS, APP_MAX_UPLOAD_MIB

    env = dict(os.environ)
    for role, path in (("generator", generator), ("classifier", classifier), ("cvae", cvae),
                       ("cache", cache)):
        if path is not None:
            if not path.exists():
                raise BiasLensError(f"{path}: --{role} not found")
            env[APP_ENV_VARS[role]] = str(path.resolve())
    script = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.address", address, "--server.headless", str(headless).lower(),
           "--server.maxUploadSize", str(APP_MAX_UPLOAD_MIB),
           "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
    host = "localhost" if address in ("127.0.0.1", "localhost") else address
    console.print(f"biaslens app on http://{host}:{port} (Ctrl-C to stop)")
    code = _serve(cmd, env)
    if code:
        raise typer.Exit(code)


def _serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the Streamlit server as a child and wait; SIGTERM or SIGINT to this process
    stops the child too (terminate, then kill after 10 s), so no server keeps the port.
    The child's own output (its URL lines) is dropped: the line printed above says where
    the app is. Returns the child's exit code (0 after a stop signal)."""
    import signal
    import time

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    stopped_at: list[float] = []  # when a stop signal came

    def stop(signum: int, frame: object) -> None:
        if not stopped_at:
            stopped_at.append(time.monotonic())
        if proc.poll() is None:
            proc.terminate()

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopped_at and time.monotonic() - stopped_at[0] > 10:
                    proc.kill()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return 0 if stopped_at else code


def report_command(
    run_or_cache: Path = typer.Argument(None, help="A dataset cache or a run folder "
                                        "(default: a fresh synthetic default world of "
                                        f"{DEFAULT_CACHE_N:,} faces)."),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write "
                             "(report.json goes beside it), or a folder (OUT/report.html "
                             "and OUT/report.json) when OUT does not end in .html."),
    targets: str = typer.Option("Male,Smiling", help="Comma-separated steering/fairness "
                                "targets ('-Male' allowed)."),
    protected: str = typer.Option("Male", help="Protected attribute(s) or cache group "
                                  "columns for fairness, comma-separated."),
    generator: Path = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: Path = typer.Option(None, help="Classifier checkpoint (default: shipped)."),
    cache: Path = typer.Option(None, help="Cache of a run folder (default: from its "
                               "config.json)."),
    steer_n: int = typer.Option(64, help="Faces per steering target.",
                                callback=ranged(REPORT, "steer_n")),
    steps: int = typer.Option(20, help="Steering steps.", callback=ranged(REPORT, "steer_steps")),
    population_n: int = typer.Option(1000, help="Generated faces for the population audit.",
                                     callback=ranged(REPORT, "population_n")),
    n_boot: int = typer.Option(300, help="Bootstrap resamples for the bootstrap CIs.",
                               callback=ranged(REPORT, "n_boot")),
    seed: int = typer.Option(0, help="Seed of every audit.", callback=ranged(REPORT, "seed")),
    precision: str = typer.Option("auto", help="auto, fp32 or bf16: precision of the model "
                                  "passes (auto = bf16 on a CPU with bf16 units)."),
    judge: list[str] = typer.Option(None, "--judge", metavar="NAME",
                                    help="Independent judge of the "
                                    "generated faces (skin_tone, gender, age or a classifier "
                                    "checkpoint); repeat or comma-separate; 'none' for none "
                                    "(default: skin_tone)."),
) -> None:
    """Run the audits that apply and write one self-contained HTML report + report.json.

    Example: ``biaslens report caches/synth64 --targets Male,Smiling --judge skin_tone
    --out report.html``
    """
    from rich.status import Status

    from biaslens.pipelines.report import ReportOptions, report_for_path
    from biaslens.report.document import Report, write_report

    t0 = time.perf_counter()
    judges = [j.strip() for v in judge or [] for j in v.split(",") if j.strip()]
    # checked here, before anything loads or is written (an unknown name names --judge)
    options = ReportOptions(steer_n=steer_n, steer_steps=steps, population_n=population_n,
                            n_boot=n_boot, seed=seed, precision=precision,
                            **({} if not judges else
                               {"judges": () if judges == ["none"] else tuple(judges)}))

    def stage(msg: str) -> None:  # a line per audit (kept in a log) and the live status
        err_console.print(f"[{time.perf_counter() - t0:4.0f} s] {msg}", highlight=False)
        status.update(f"auditing: {msg}…")

    with Status("auditing…", console=err_console) as status:
        data = report_for_path(
            run_or_cache, cache=cache, generator=generator, classifier=classifier,
            targets=[t for t in targets.split(",") if t.strip()],
            protected=[p.strip() for p in protected.split(",") if p.strip()],
            options=options,
            note=lambda msg: err_console.print(f"[yellow]note:[/] {msg}"),
            progress=stage)
        stage("drawing the figures")
        report = Report.of(data)
    html_path, json_path = write_report(report, out)
    from rich.table import Table

    bullets = Table.grid(padding=(0, 1))  # a hanging indent under each bullet
    bullets.add_column(no_wrap=True)
    bullets.add_column()
    for line in report.summary:
        bullets.add_row("•", line)
    console.print(bullets, highlight=False)
    console.print(f"wrote {html_path} and {json_path} in {time.perf_counter() - t0:.0f} s",
                  highlight=False)
