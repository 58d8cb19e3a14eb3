"""``biaslens models defaults train | evaluate``: the recipes of the shipped models.

Thin over :func:`biaslens.defaults.run.run_steps`: ``train`` renders the data, trains,
evaluates and ships (the default world only); ``evaluate`` scores existing runs into
``--root`` (``--ship``: copies them into the package instead). ``--dry-run`` prints the
resolved recipes (:func:`biaslens.defaults.run.plan`) and trains nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from biaslens.cli._common import HELP, models_app
from biaslens.defaults.recipes import DEFAULT_WORLD, DOCS_GRID, STEPS

defaults_app = typer.Typer(help="Train, evaluate and ship the default models (fixed recipes).",
                           **HELP)
models_app.add_typer(defaults_app, name="defaults")


def _check_steps(steps: list[str]) -> list[str]:
    for step in steps:
        if step not in STEPS:
            raise typer.BadParameter(f"{step!r} is not a step. Valid steps: {', '.join(STEPS)}")
    return steps


def _check_world(world: str) -> str:
    from biaslens.world import World

    try:
        World.preset(world)
    except Exception as exc:  # noqa: BLE001 - one line naming the option, exit 2
        raise typer.BadParameter(str(exc)) from None
    return world


def _check_n_faces(n_faces: int | None) -> int | None:
    if n_faces is not None and n_faces < 10:
        raise typer.BadParameter(f"must be >= 10 (got {n_faces})")
    return n_faces


StepsArg = typer.Argument(..., callback=_check_steps, show_default=False, metavar="STEP",
                          help=f"What to do, in order: {' | '.join(STEPS)} "
                               "('all' = data + every model).")
RootOpt = typer.Option(Path("runs/defaults"), "--root", help="Folder for caches and runs.")
ThreadsOpt = typer.Option(1, "--threads", min=1, help="torch CPU threads.")
GridOpt = typer.Option(DOCS_GRID, "--grid", help="Where the generator step saves its sample "
                                                 "grid (when shipping).")
DryOpt = typer.Option(False, "--dry-run", help="Print the resolved recipes and exit.")


def _go(steps: list[str], root: Path, threads: int, dry_run: bool, **how) -> None:
    """Print the plan (``--dry-run``) or run the steps with timestamped log lines."""
    from biaslens.defaults.run import plan, run_steps

    if dry_run:
        typer.echo(json.dumps({"threads": threads, **plan(steps, root, **how)}, indent=2))
        return
    import torch

    torch.set_num_threads(threads)
    run_steps(steps, root, log=lambda msg: typer.echo(f"{time.strftime('%H:%M:%S')} {msg}"),
              **how)


@defaults_app.command("train")
def train_cmd(
    steps: list[str] = StepsArg,
    root: Path = RootOpt,
    threads: int = ThreadsOpt,
    world: str = typer.Option(DEFAULT_WORLD, "--world", callback=_check_world,
                              help="World preset the caches are rendered from (any other "
                                   f"than {DEFAULT_WORLD} never ships)."),
    n_faces: int | None = typer.Option(None, "--n-faces", callback=_check_n_faces,
                                          metavar="N",
                                          help="Faces per cache instead of the recipe's "
                                               "(never ships)."),
    no_ship: bool = typer.Option(False, "--no-ship", help="Train and evaluate only; leave "
                                                          "the shipped models untouched."),
    grid: Path = GridOpt,
    dry_run: bool = DryOpt,
) -> None:
    """Render the data, train, evaluate and (default world only) ship the default models.

    Any other --world, --n-faces or --no-ship keeps the results in --root
    (ROOT/run-NAME/quality.json, the sample grid in ROOT/generated_grid.png).

    Example: ``biaslens models defaults train classifier --root runs/defaults``
    """
    _go(steps, root, threads, dry_run, ship_models=not no_ship, world=world,
        n_faces=n_faces, grid=grid)


@defaults_app.command("evaluate")
def evaluate_cmd(
    steps: list[str] = StepsArg,
    root: Path = RootOpt,
    ship: bool = typer.Option(False, "--ship", help="Copy the runs into the package "
                                                    "(resources/models/NAME/) instead of "
                                                    "writing ROOT/run-NAME/quality.json."),
    grid: Path = GridOpt,
    threads: int = ThreadsOpt,
    dry_run: bool = DryOpt,
) -> None:
    """Evaluate existing runs without training them; --ship also ships them.

    The quality goes to ROOT/run-NAME/quality.json; with --ship the weights go to
    resources/models/NAME/ instead, the provenance in the checkpoint's extra.

    Example: ``biaslens models defaults evaluate vae --ship``
    """
    _go(steps, root, threads, dry_run, train_models=False, ship_models=ship, grid=grid)
