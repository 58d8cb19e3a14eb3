"""Shared CLI pieces: the sub-apps and the consoles."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from biaslens.options import Range

console = Console()
err_console = Console(stderr=True)

data_app = typer.Typer(help="Ingest, synthesize and describe datasets.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit generators and classifiers for bias.", no_args_is_help=True)
train_app = typer.Typer(help="Train models on a dataset cache.", no_args_is_help=True)
models_app = typer.Typer(help="List, import and inspect models.", no_args_is_help=True)
mitigate_app = typer.Typer(help="Bias mitigations (DB-VAE, latent augmentation).",
                           no_args_is_help=True)
experiment_app = typer.Typer(help="Multi-run experiments.", no_args_is_help=True)




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
