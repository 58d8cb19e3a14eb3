"""Shared CLI pieces: the sub-apps and the consoles."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

data_app = typer.Typer(help="Ingest, synthesize and describe datasets.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit generators and classifiers for bias.", no_args_is_help=True)
train_app = typer.Typer(help="Train models on a dataset cache.", no_args_is_help=True)
models_app = typer.Typer(help="List, import and inspect models.", no_args_is_help=True)
mitigate_app = typer.Typer(help="Bias mitigations (DB-VAE, latent augmentation).",
                           no_args_is_help=True)
experiment_app = typer.Typer(help="Multi-run experiments.", no_args_is_help=True)

