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


# Which duck-typed model kinds (biaslens.models.registry.model_kind) each CLI option takes.
MODEL_ROLES: dict[str, tuple[str, ...]] = {
    "generator": ("generator",), "classifier": ("classifier",), "judge": ("classifier",),
    "vae": ("vae",), "cvae": ("vae",),
}


def load_role(path: str | Path, role: str, *, accept: tuple[str, ...] | None = None,
              device: str = "cpu") -> Any:
    """Load the checkpoint given to ``--ROLE`` and check that it can play that role.

    A checkpoint of the wrong kind (a VAE passed as ``--classifier``, a classifier as
    ``--generator``, a plain VAE as ``--cvae``) is one error naming the file, what it is and
    what the option needs, before any work starts.
    """
    from biaslens.errors import BiasLensError
    from biaslens.models.importers import load_model
    from biaslens.models.registry import model_kind

    model = load_model(path, device=device)
    kinds = accept or MODEL_ROLES[role]
    kind = model_kind(model)
    if kind not in kinds:
        raise BiasLensError(f"{path}: a {kind} checkpoint ({type(model).__name__}), but "
                            f"--{role} needs a {' or a '.join(kinds)}")
    if role == "cvae" and not getattr(model, "condition_names", None):
        raise BiasLensError(f"{path}: a VAE without a condition ({type(model).__name__}), "
                            "but --cvae needs a conditional VAE")
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
