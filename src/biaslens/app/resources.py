"""Models and data the app (and the report) start from when the user gives none.

No Streamlit here: these are plain loaders, so the CLI, the report and tests use them
too. The app wraps them in ``st.cache_resource``.

- Shipped default models live in ``biaslens/resources/models/<role>/`` (a checkpoint
  folder: ``config.json`` + ``model.safetensors``) for the roles in :data:`ROLES`.
- The default data set is a small cache of the synthetic ``celeba`` world, rendered
  once per process into a temporary folder (:func:`default_cache`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from torch import nn

from biaslens.errors import BiasLensError

__all__ = ["DEFAULT_CACHE_N", "ROLES", "default_cache",
           "default_model_path", "default_models", "load_any_model", "load_data_cache",
           "shipped_models"]

#: The shipped model roles, one checkpoint folder each.
ROLES: tuple[str, ...] = ("generator", "classifier", "vae", "cvae", "dbvae")
#: Faces in the default synthetic cache (about 1.5 s per 500 faces at 64 px on one core).
DEFAULT_CACHE_N = 2000

_TEMP_DIRS: list[str] = []


def shipped_models() -> dict[str, Path]:
    """The shipped default checkpoints that exist, by role."""
    from biaslens import defaults

    return {role: defaults.models_root() / role for role in defaults.available_defaults()}


def default_model_path(role: str) -> Path:
    """The shipped checkpoint folder for ``role``; a clear error if it is not installed."""
    from biaslens import defaults

    if role not in ROLES:
        raise BiasLensError(f"unknown model role {role!r}; valid roles: {', '.join(ROLES)}")
    return defaults.default_model_path(role)


def load_any_model(path: str | Path) -> nn.Module:
    """Load a biaslens checkpoint folder or a third-party ``.pth`` on the CPU (eval mode)."""
    from biaslens.models.importers import load_model

    p = Path(path).expanduser()
    if not p.exists():
        raise BiasLensError(f"{p}: no such checkpoint (expected a biaslens checkpoint folder "
                            "or a .pth file)")
    return load_model(p, device="cpu")


def default_models(roles: tuple[str, ...] = ROLES) -> dict[str, nn.Module]:
    """Load the shipped default models of ``roles`` (raises if one is missing)."""
    return {role: load_any_model(default_model_path(role)) for role in roles}


def load_data_cache(path: str | Path) -> Any:
    """Load a dataset cache folder (:func:`biaslens.data.cache.load_cache`)."""
    from biaslens.data.cache import load_cache

    p = Path(path).expanduser()
    if not p.is_dir():
        raise BiasLensError(f"{p}: no such cache folder (make one with `biaslens data "
                            "ingest` or `biaslens data synth`)")
    return load_cache(p)


def _cleanup() -> None:
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def default_cache(n: int = DEFAULT_CACHE_N, size: int = 64, seed: int = 0) -> Any:
    """Synthesize a cache of ``n`` faces of the ``celeba`` world in a temporary folder.

    The folder is removed when the process exits. Deterministic in ``seed``.
    """
    from biaslens.world.synth import synthesize_cache

    tmp = tempfile.mkdtemp(prefix="biaslens-app-cache-")
    if not _TEMP_DIRS:
        atexit.register(_cleanup)
    _TEMP_DIRS.append(tmp)
    return synthesize_cache("celeba", n, Path(tmp) / "cache", size=size, seed=seed)
