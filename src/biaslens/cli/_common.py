"""Shared CLI pieces: the sub-apps and the consoles."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from biaslens.io import jsonable, write_json

from biaslens.options import Range

class _TrimmedStdout:
    """``sys.stdout`` (looked up at each write, so test runners that swap it still see the
    text) without the spaces rich pads table and caption lines with: piped output and
    files get no trailing blanks."""

    _TRAILING = re.compile(r"[ \t]+(?=\n)")

    def write(self, text: str) -> int:
        return sys.stdout.write(self._TRAILING.sub("", text))

    def __getattr__(self, name: str) -> Any:       # flush, isatty, fileno, encoding, ...
        return getattr(sys.stdout, name)


console = Console(file=_TrimmedStdout())  # type: ignore[arg-type]
err_console = Console(stderr=True)

#: Plain help (click's): wrapped at the terminal's width with flags as ``--x / --no-x``;
#: rich's boxed help squeezes the text column at 80 columns and prints ``<bool>`` on flags.
HELP = {"no_args_is_help": True, "rich_markup_mode": None}




#: The option dataclasses whose ``RANGES`` the flags share, as ``module:Class`` (imported
#: only when a command runs, so ``biaslens --help`` stays free of torch).
STEER = "biaslens.audit.steer:SteerOptions"
POPULATION = "biaslens.audit.population:PopulationOptions"
RECONSTRUCT = "biaslens.audit.reconstruct:ReconstructOptions"
COUNTERFACTUAL = "biaslens.audit.counterfactual:CounterfactualOptions"
RUN = "biaslens.train.options:RunOptions"
DBVAE = "biaslens.mitigate.dbvae_experiment:DBVAEConfig"
LATENT_AUG = "biaslens.mitigate.latent_aug:LatentAugOptions"
RATIO_SWEEP = "biaslens.experiments.ratio_sweep:RatioSweepOptions"
REPORT = "biaslens.pipelines.report:ReportOptions"


def step_size_option(value: str | None) -> str | None:
    """A typer callback: ``--step-size`` is a positive number, ``course`` or ``calibrated``
    (:func:`biaslens.audit.steer.parse_step_size`), checked while parsing."""
    from biaslens.audit.steer import parse_step_size
    from biaslens.errors import BiasLensError

    try:
        parse_step_size(value)
    except BiasLensError as exc:
        raise typer.BadParameter(str(exc).replace("--step-size ", "")) from None
    return value


def ranged(options: str | Range, name: str | None = None) -> Callable[[Any], Any]:
    """A typer callback that checks a flag while the command line is parsed, before any
    work: ``Invalid value for '--n-boot': must be >= 0; got -3``.

    ``ranged(STEER, "n_boot")`` uses field ``n_boot`` of the ``RANGES`` table of the
    option dataclass ``module:Class`` (one of the constants above; the same table the
    library checks, :class:`biaslens.options.CheckedOptions`); ``ranged(POSITIVE)`` a
    :class:`~biaslens.options.Range` of a flag that has no option dataclass.
    """
    def check(value: Any) -> Any:
        if value is None:
            return value
        allowed = options
        if isinstance(allowed, str):
            module, cls = allowed.split(":")
            allowed = getattr(importlib.import_module(module), cls).RANGES[name]
        problem = allowed.problem(value)
        if problem is not None:
            raise typer.BadParameter(f"{problem}; got {value!r}")
        return value

    return check


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
