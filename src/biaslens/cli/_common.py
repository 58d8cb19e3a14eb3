"""Shared CLI pieces: the sub-apps, the console, JSON output and error handling."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

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


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as JSON atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, allow_nan=True)
        f.write("\n")
    os.replace(tmp, path)
    return path


def load_role(path: str | Path, role: str, *, accept: tuple[str, ...] | None = None,
              device: str = "cpu") -> Any:
    """Load the checkpoint given to ``--ROLE`` and check that it can play that role
    (:func:`biaslens.models.registry.check_role`: a wrong kind is one error naming the file)."""
    from biaslens.models.importers import load_model
    from biaslens.models.registry import check_role

    model = load_model(path, device=device)
    check_role(model, role, source=f"--{role} {path}", accept=accept)
    return model


def resolve_model_arg(given: str | Path | None, role: str) -> Path:
    """The checkpoint for a ``--generator/--classifier/--vae/--cvae/--dbvae`` option.

    An explicit path must exist; otherwise the shipped default
    (:func:`biaslens.defaults.default_model_path`) is used, and its absence is one clear
    error naming the option to pass.
    """
    from biaslens.errors import BiasLensError

    if given is not None:
        given = Path(given)
        if not given.exists():
            raise BiasLensError(f"{given}: {role} checkpoint not found (expected a biaslens "
                                "checkpoint folder or a .pth file)")
        return given
    from biaslens import defaults

    try:
        return defaults.default_model_path(role)
    except BiasLensError as exc:
        raise BiasLensError(f"no --{role} given and {str(exc).rstrip('.')}; pass --{role} "
                            "CKPT (a biaslens checkpoint folder or a course .pth file)") from None
