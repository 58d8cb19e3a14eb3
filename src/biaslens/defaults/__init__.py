"""The default models shipped inside the package (``resources/models/<name>/``).

This module loads them. They were trained on the default synthetic world by the fixed
recipes of :mod:`biaslens.defaults.recipes`, run by ``biaslens models defaults train``
(:mod:`biaslens.defaults.run`), scored by :mod:`biaslens.defaults.evaluate` on held-out
data rendered by :mod:`biaslens.defaults.data` and copied here by
:mod:`biaslens.defaults.ship`; the exact command, data hash and held-out quality are in
each checkpoint's ``extra`` (see docs/default-models.md).

Examples
--------
>>> from biaslens.defaults import load_default, available_defaults
>>> available_defaults()                               # doctest: +SKIP
['classifier', 'cvae', 'dbvae', 'generator', 'vae']
>>> clf = load_default("classifier")                   # doctest: +SKIP
>>> logits = clf(images)                               # (n, 40) # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biaslens.errors import CheckpointError, UnknownNameError

if TYPE_CHECKING:  # torch is imported when a model is loaded, not with the package
    from torch import nn

__all__ = ["DEFAULT_ARCHITECTURES", "DEFAULT_NAMES", "ENV_VAR", "RESOURCE_MODELS",
           "available_defaults", "default_info", "default_model_path", "load_default",
           "models_root"]

#: Folder holding one checkpoint folder per default model.
RESOURCE_MODELS = Path(__file__).resolve().parent.parent / "resources" / "models"

#: Environment variable that points biaslens at another folder of default models
#: (one checkpoint folder per name); tests set it to an empty folder.
ENV_VAR = "BIASLENS_MODELS_DIR"


def models_root() -> Path:
    """The folder of default models: ``$BIASLENS_MODELS_DIR`` if set, else the shipped one."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else RESOURCE_MODELS


#: Default model name -> the architecture its checkpoint must have.
DEFAULT_ARCHITECTURES: dict[str, str] = {
    "generator": "coursera_dcgan_generator",
    "classifier": "coursera_classifier",
    "vae": "vae",
    "cvae": "cvae",
    "dbvae": "dbvae",
}

#: The default model names.
DEFAULT_NAMES: tuple[str, ...] = tuple(DEFAULT_ARCHITECTURES)


def _check_name(name: str) -> str:
    if name not in DEFAULT_ARCHITECTURES:
        raise UnknownNameError(f"unknown default model {name!r}. "
                               f"Valid names: {', '.join(DEFAULT_NAMES)}")
    return name


def default_model_path(name: str, root: str | Path | None = None) -> Path:
    """Checkpoint folder of the shipped default ``name``.

    Raises :class:`CheckpointError` (naming the folder and the command that trains it)
    when the checkpoint is not shipped, and :class:`UnknownNameError` for an unknown name.
    """
    folder = (Path(root) if root else models_root()) / _check_name(name)
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise CheckpointError(
            f"default model {name!r} is not shipped: {folder} has no config.json/"
            f"model.safetensors. Train it with `biaslens models defaults train {name}` "
            f"or pass a checkpoint folder explicitly.")
    return folder


def available_defaults(root: str | Path | None = None) -> list[str]:
    """Names of the default models whose checkpoints are present."""
    base = Path(root) if root else models_root()
    return [n for n in DEFAULT_NAMES
            if (base / n / "config.json").is_file() and (base / n / "model.safetensors").is_file()]


def load_default(name: str, device: str = "cpu", root: str | Path | None = None) -> nn.Module:
    """Load the shipped default ``name`` (eval mode) on ``device``.

    ``name`` is one of generator, classifier, vae, cvae, dbvae; the architecture is
    checked against :data:`DEFAULT_ARCHITECTURES`.
    """
    from biaslens.models import load_checkpoint

    model, _ = load_checkpoint(default_model_path(name, root),
                               expected_architecture=DEFAULT_ARCHITECTURES[name], device=device)
    return model


def default_info(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """The checkpoint summary of default ``name`` (``extra`` holds command, data, quality)."""
    from biaslens.models import read_checkpoint_info

    return read_checkpoint_info(default_model_path(name, root)).to_dict()
