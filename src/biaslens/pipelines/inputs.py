"""Inputs every use case resolves the same way: a model for a role, a data set or the
default world.

The CLI, the app and the report call these, so "no ``--classifier`` given" and "no
cache given" mean the same thing everywhere:

- a model for a role (:func:`model_path`, :func:`load_for_role`, :func:`model_for_role`):
  an explicit checkpoint must exist and be of the right kind
  (:func:`biaslens.models.registry.check_role`); without one the shipped default is used,
  and its absence is one error naming the option to pass;
- a data set (:func:`open_cache`): a cache folder, checked;
- the default world (:func:`default_world_cache`): ``DEFAULT_CACHE_N`` faces of a synthetic
  world rendered into a temporary folder, removed afterwards (:func:`session_default_cache`
  keeps one for the life of the process, for the app).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biaslens.errors import BiasLensError

if TYPE_CHECKING:  # torch loads lazily: `biaslens --help` stays fast
    from torch import nn

__all__ = ["APP_ENV_VARS", "DEFAULT_CACHE_N", "ROLES", "cache_or_default",
           "default_model_path", "default_world_cache", "group_columns", "load_for_role", "model_for_role",
           "model_path", "open_cache", "session_default_cache", "shipped_models"]

#: The shipped model roles, one checkpoint folder each.
ROLES: tuple[str, ...] = ("generator", "classifier", "vae", "cvae", "dbvae")
#: Faces in the default synthetic cache (about 1.5 s per 500 faces at 64 px on one core).
DEFAULT_CACHE_N = 2000
#: Model roles and data the app's sidebar offers, and the environment variable that
#: presets each (``biaslens app --generator ...`` sets them).
APP_ENV_VARS = {"generator": "BIASLENS_APP_GENERATOR", "classifier": "BIASLENS_APP_CLASSIFIER",
                "cvae": "BIASLENS_APP_CVAE", "cache": "BIASLENS_APP_CACHE"}
#: The app's upload limit in MiB: what its decoder enforces and ``biaslens app`` gives
#: Streamlit as ``server.maxUploadSize``, so the uploader states the real limit.
APP_MAX_UPLOAD_MIB = 10

_TEMP_DIRS: list[str] = []


# --------------------------------------------------------------------------- models


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


def model_path(given: str | Path | None, role: str) -> Path:
    """The checkpoint for a ``--generator/--classifier/--vae/--cvae/--dbvae`` option.

    An explicit path must exist; otherwise the shipped default is used, and its absence
    is one clear error naming the option to pass.
    """
    if given is not None and str(given) != "":
        given = Path(given).expanduser()
        if not given.exists():
            raise BiasLensError(f"{given}: {role} checkpoint not found (no such file or folder; "
                                "expected a biaslens "
                                "checkpoint folder or a .pth file)")
        return given
    from biaslens import defaults

    try:
        return defaults.default_model_path(role)
    except BiasLensError as exc:
        raise BiasLensError(f"no --{role} given and {str(exc).rstrip('.')}; pass --{role} "
                            "CKPT (a biaslens checkpoint folder or a course .pth file)") from None


def load_for_role(path: str | Path, role: str, *, accept: tuple[str, ...] | None = None,
                  device: str | Any = "cpu", source: str | None = None) -> nn.Module:
    """Load the checkpoint at ``path`` and check that it can play ``role``
    (a wrong kind is one error naming ``source``, default ``--ROLE PATH``)."""
    from biaslens.models.importers import load_model
    from biaslens.models.registry import check_role

    model = load_model(path, device=device)
    check_role(model, role, source=source or f"--{role} {path}", accept=accept)
    return model


def model_for_role(given: str | Path | None, role: str, *,
                   accept: tuple[str, ...] | None = None,
                   device: str | Any = "cpu") -> tuple[nn.Module, Path]:
    """:func:`model_path` then :func:`load_for_role`: ``(model, path)``."""
    path = model_path(given, role)
    return load_for_role(path, role, accept=accept, device=device), path


# --------------------------------------------------------------------------- data


def group_columns(cache: Any) -> dict[str, Any]:
    """The group label columns (e.g. ``skin_type``) of a cache or cache view, by name
    (``{}`` when it has none)."""
    import numpy as np

    if cache.groups is None or not len(cache.group_names):
        return {}
    g = np.asarray(cache.groups)
    return {name: g[:, i] for i, name in enumerate(cache.group_names)}


def open_cache(path: str | Path) -> Any:
    """Load a dataset cache folder (:func:`biaslens.data.cache.load_cache`), named if missing."""
    from biaslens.data.cache import load_cache

    p = Path(path).expanduser()
    if not p.is_dir():
        raise BiasLensError(f"{p}: no such cache folder (make one with `biaslens data "
                            "ingest` or `biaslens data synth`)")
    return load_cache(p)


@contextlib.contextmanager
def default_world_cache(size: int = 64, seed: int = 0, world: str = "celeba",
                        n: int | None = None) -> Iterator[Any]:
    """Synthesize ``n`` (default :data:`DEFAULT_CACHE_N`) faces of ``world`` into a temp
    folder, yield the cache, and remove the folder afterwards. Deterministic in ``seed``."""
    from biaslens.world.synth import synthesize_cache

    n = DEFAULT_CACHE_N if n is None else n
    with tempfile.TemporaryDirectory(prefix="biaslens-cache-") as tmp:
        yield synthesize_cache(world, n, Path(tmp) / "cache", size=size, seed=seed)


@contextlib.contextmanager
def cache_or_default(path: str | Path | None, size: int = 64, seed: int = 0,
                     world: str = "celeba",
                     note: Callable[[str], None] | None = None) -> Iterator[Any]:
    """The cache at ``path``, or (``path`` None) :func:`default_world_cache`, telling
    ``note`` what was made."""
    if path is not None:
        yield open_cache(path)
        return
    if note is not None:
        note(f"no --cache given: synthesizing a {world!r}-world cache "
             f"({DEFAULT_CACHE_N} faces, seed {seed}, {size}px) in a temp folder")
    with default_world_cache(size=size, seed=seed, world=world) as cache:
        yield cache


def _cleanup() -> None:
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def session_default_cache(n: int | None = None, size: int = 64, seed: int = 0) -> Any:
    """Like :func:`default_world_cache`, but the folder lives until the process exits
    (the app renders it once per server)."""
    from biaslens.world.synth import synthesize_cache

    tmp = tempfile.mkdtemp(prefix="biaslens-app-cache-")
    if not _TEMP_DIRS:
        atexit.register(_cleanup)
    _TEMP_DIRS.append(tmp)
    return synthesize_cache("celeba", DEFAULT_CACHE_N if n is None else n,
                            Path(tmp) / "cache", size=size, seed=seed)
