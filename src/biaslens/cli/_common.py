"""Shared CLI pieces: the sub-apps and the consoles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from biaslens.io import jsonable, write_json

console = Console()
err_console = Console(stderr=True)

#: Plain help (click's): wrapped at the terminal's width with flags as ``--x / --no-x``;
#: rich's boxed help squeezes the text column at 80 columns and prints ``<bool>`` on flags.
HELP = {"no_args_is_help": True, "rich_markup_mode": None}

data_app = typer.Typer(help="Ingest, synthesize and describe datasets.", **HELP)
audit_app = typer.Typer(help="Audit generators and classifiers for bias.", **HELP)
train_app = typer.Typer(help="Train models on a dataset cache.", **HELP)
models_app = typer.Typer(help="List, import and inspect models.", **HELP)
mitigate_app = typer.Typer(help="Bias mitigations (DB-VAE, latent augmentation).", **HELP)
experiment_app = typer.Typer(help="Multi-run experiments.", **HELP)


#: ``--json`` means the same everywhere: a file to write the JSON to, ``-`` for stdout.
STDOUT = "-"


def json_option(what: str = "the result") -> Any:
    """The ``--json PATH`` option: also write ``what`` as strict JSON to PATH; ``-`` prints
    it to stdout instead of the tables (so ``biaslens ... --json - | jq`` reads it)."""
    return typer.Option(None, "--json", metavar="PATH",
                        help=f"Also write {what} as JSON to PATH ('-': print it to stdout "
                             "instead of the tables).")


def json_to_stdout(dest: str | None) -> bool:
    """Whether ``--json -`` asked for the JSON on stdout (the tables are then left out)."""
    return dest == STDOUT


def emit_json(data: Any, dest: str | None) -> bool:
    """Honour ``--json DEST``: ``None`` does nothing, ``-`` prints strict JSON to stdout,
    a path gets the file (and a ``wrote`` line). True when the JSON went to stdout, so the
    caller prints no tables."""
    if dest is None:
        return False
    if dest == STDOUT:
        typer.echo(json.dumps(jsonable(data), indent=2, allow_nan=False))
        return True
    console.print(f"wrote {escape(str(write_json(data, Path(dest))))}", highlight=False)
    return False
