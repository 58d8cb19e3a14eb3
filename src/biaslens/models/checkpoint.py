"""Model checkpoints: a folder with ``config.json`` + ``model.safetensors``.

``config.json``::

    {"format": "biaslens-model", "version": 1, "architecture": "coursera_classifier",
     "config": {...constructor kwargs...}, "attribute_names": [...] | null,
     "image_size": 64, "n_parameters": 823656, "weights_sha256": "...",
     "extra": {...data manifest hash, training settings, command...},
     "versions": {"biaslens": "0.1.0", "torch": "2.x"}}

Weights (parameters *and* buffers, e.g. BatchNorm running statistics) are stored with
safetensors, so loading never unpickles anything. Saving is atomic per file
(:func:`biaslens.io.atomic_write`) with the weights first and ``config.json`` last; the
config records the weights' SHA-256, so a folder whose save was interrupted is detected
at load time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

import biaslens
from biaslens.errors import CheckpointError, UnknownNameError
from biaslens.io import atomic_write, jsonable, write_json
from biaslens.models.registry import build_model, count_parameters
from biaslens.tensors import pick_device

FORMAT = "biaslens-model"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_SHOW = 5  # how many mismatching keys an error message lists


@dataclass
class CheckpointInfo:
    """What ``config.json`` says about a checkpoint folder."""

    path: str
    architecture: str
    config: dict[str, Any]
    attribute_names: list[str] | None
    image_size: int | None
    n_parameters: int | None
    weights_sha256: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(model: nn.Module, folder: str | Path, *, extra: dict | None = None) -> Path:
    """Save ``model`` (a registered architecture) to ``folder`` atomically.

    Parameters
    ----------
    model : a model built from the registry (has ``architecture`` and ``config``).
    folder : created if missing; an existing checkpoint there is replaced.
    extra : JSON-able provenance (data manifest hash, training settings, command, ...).

    Returns
    -------
    The folder path.
    """
    arch = getattr(model, "architecture", None)
    config = getattr(model, "config", None)
    if arch is None or config is None:
        raise CheckpointError(f"{type(model).__name__} is not a registered biaslens architecture "
                              "(needs .architecture and .config); register it with "
                              "@register_model")
    meta = {
        "format": FORMAT, "version": VERSION, "architecture": arch, "config": config,
        "attribute_names": _json_names(getattr(model, "attribute_names", None)),
        "image_size": getattr(model, "image_size", None),
        "n_parameters": count_parameters(model),
        "weights_sha256": None,
        "extra": dict(extra or {}),
        "versions": {"biaslens": biaslens.__version__, "torch": torch.__version__},
    }
    try:  # fail before writing anything if the metadata cannot be stored (NaN -> null)
        meta = jsonable(meta)
        json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint metadata for {folder} is not JSON-able: {exc}") from None
    # Own, contiguous CPU copies: safetensors refuses shared or strided storage.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / WEIGHTS_FILE,
                 lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"}))
    meta["weights_sha256"] = file_sha256(folder / WEIGHTS_FILE)
    write_json(meta, folder / CONFIG_FILE)  # last: its presence marks completion
    return folder


def _json_names(names) -> list[str] | None:
    return None if names is None else [str(n) for n in names]


def read_checkpoint_info(folder: str | Path) -> CheckpointInfo:
    """Read and validate ``config.json`` of a checkpoint folder (weights are not loaded)."""
    folder = Path(folder)
    cfg_path = folder / CONFIG_FILE
    if not folder.exists():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: a checkpoint is a folder with {CONFIG_FILE} and "
                              f"{WEIGHTS_FILE}; to use a third-party .pth file, run "
                              "`biaslens models import`")
    if not cfg_path.is_file():
        raise CheckpointError(f"{folder}: not a biaslens checkpoint ({CONFIG_FILE} not found)")
    try:
        meta = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{cfg_path}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"{cfg_path}: not a text file") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{cfg_path}: field 'format' must be {FORMAT!r}, got {got!r}")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise CheckpointError(f"{cfg_path}: field 'version' {meta.get('version')!r} is not "
                              f"supported (this biaslens reads version <= {VERSION})")
    for key, typ in (("architecture", str), ("config", dict)):
        if not isinstance(meta.get(key), typ):
            raise CheckpointError(f"{cfg_path}: field {key!r} missing or not a {typ.__name__}")
    return CheckpointInfo(
        path=str(folder), architecture=meta["architecture"], config=meta["config"],
        attribute_names=meta.get("attribute_names"), image_size=meta.get("image_size"),
        n_parameters=meta.get("n_parameters"), weights_sha256=meta.get("weights_sha256"),
        extra=meta.get("extra") or {}, versions=meta.get("versions") or {},
    )


def state_dict_mismatches(model: nn.Module, state: dict[str, torch.Tensor], *,
                          allow_missing: tuple[str, ...] = ()) -> list[str]:
    """What keeps ``state`` from fitting ``model``: the first few missing keys, unexpected
    keys and shape mismatches (expected vs found), one string per kind; empty if it fits.
    Keys ending with one of ``allow_missing`` may be absent."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    missing = [k for k in expected if k not in found and not k.endswith(allow_missing)]
    unexpected = [k for k in found if k not in expected]
    shapes = [f"{k}: expected {expected[k]}, found {found[k]}"
              for k in expected if k in found and expected[k] != found[k]]
    parts = []
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                         ("shape mismatches", shapes)):
        if items:
            more = f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
            parts.append(f"{label} ({len(items)}): {', '.join(items[:_SHOW])}{more}")
    return parts


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str,
                     *, allow_missing: tuple[str, ...] = ()) -> None:
    """Raise :class:`CheckpointError` naming ``source`` unless ``state`` fits ``model``
    (the :func:`state_dict_mismatches`)."""
    parts = state_dict_mismatches(model, state, allow_missing=allow_missing)
    if not parts:
        return
    arch = getattr(model, "architecture", type(model).__name__)
    raise CheckpointError(f"{source}: weights do not fit architecture {arch!r} "
                          f"{getattr(model, 'config', '')}: " + "; ".join(parts))


def check_destination(folder: str | Path, *, overwrite: bool = False) -> None:
    """Raise :class:`CheckpointError` unless a checkpoint may be written at ``folder``
    (creates nothing): absent, an empty folder, or with ``overwrite`` a checkpoint or any
    folder."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and not overwrite and any(folder.iterdir()):
        what = "a checkpoint" if (folder / CONFIG_FILE).exists() else "a folder that is not empty"
        raise CheckpointError(f"{folder}: {what} already exists here; pass overwrite=True to "
                              "replace it")


def load_checkpoint(folder: str | Path, *, expected_architecture: str | None = None,
                    device: str | torch.device = "cpu") -> tuple[nn.Module, CheckpointInfo]:
    """Load a checkpoint folder into its architecture, in eval mode on ``device``.

    Parameters
    ----------
    folder : a folder written by :func:`save_checkpoint`.
    expected_architecture : if given, a checkpoint of another architecture is an error.
    device : ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device``.

    Returns
    -------
    (model, info)

    Examples
    --------
    >>> model, info = load_checkpoint("runs/00001-classifier/checkpoints/final")  # doctest: +SKIP
    """
    info = read_checkpoint_info(folder)
    folder = Path(folder)
    if expected_architecture is not None and info.architecture != expected_architecture:
        raise CheckpointError(f"{folder}: checkpoint is a {info.architecture!r}, expected "
                              f"{expected_architecture!r}")
    try:
        model = build_model(info.architecture, **info.config)
    except UnknownNameError as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE}: field 'config' is invalid for "
                              f"{info.architecture!r}: {exc}") from None
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"{folder}: {WEIGHTS_FILE} not found")
    if info.weights_sha256 is not None and file_sha256(weights) != info.weights_sha256:
        raise CheckpointError(f"{weights}: SHA-256 differs from the one in {CONFIG_FILE} "
                              "(interrupted save or modified file)")
    try:
        state = load_file(weights, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({exc})") from None
    check_state_dict(model, state, str(weights))
    model.load_state_dict(state, strict=True)
    return model.to(pick_device(device)).eval(), info
