"""Import third-party PyTorch ``.pth`` files into biaslens architectures.

Files are read with ``torch.load(weights_only=True)``: tensors and plain containers only,
never arbitrary pickled code. Known layouts (detected by keys and shapes):

=============================  ======================  ==============================
architecture                   container key(s)        state-dict keys
=============================  ======================  ==============================
``coursera_dcgan_generator``   ``gen``                 ``gen.{0..4}.{0,1}.*``
``coursera_classifier``        ``classifier``          ``classifier.{0..3}.{0,1}.*``
``coursera_dcgan_discriminator`` ``disc``              ``disc.{0..3}.{0,1}.*``
``pytorch_dcgan_generator``    ``state_dict``          ``main.{0,1,3,...,12}.*``
``dcgan_generator`` (no bias)  ``netG_state_dict``     ``main.{0,1,3,...,12}.*`` (the
                                                       DCGAN tutorial; gan-face-generate)
=============================  ======================  ==============================

A bare state dict (no container) and ``module.`` prefixes (DataParallel) are accepted;
widths (z_dim, hidden_dim, number of classes) are read from the shapes. Any other
registered architecture can be imported from a raw state dict with ``arch=`` (built at
its default config).
"""

from __future__ import annotations

import pickle
import pickletools
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biaslens.errors import CheckpointError
from biaslens.models.checkpoint import (
    CONFIG_FILE,
    CheckpointInfo,
    check_destination,
    file_sha256,
    load_checkpoint,
    read_checkpoint_info,
    save_checkpoint,
    state_dict_mismatches,
)
from biaslens.models.registry import build_model, list_architectures
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.tensors import pick_device

StateDict = dict[str, torch.Tensor]

# What torch.save's legacy (non-zip) format pickles first, before the object.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _pickle_kind(path: Path) -> tuple[str, int]:
    """``(kind, protocol)`` of a pickle file: kind ``"torch"`` (starts with torch's magic
    number: torch.save's legacy format), ``"plain"`` (``pickle.dump``) or ``"damaged"``.
    Reads opcodes only: nothing is unpickled."""
    protocol, first = 0, None
    with open(path, "rb") as f:
        try:
            for op, arg, _ in pickletools.genops(f):
                if op.name == "PROTO":
                    protocol = int(arg)
                elif op.name != "FRAME" and first is None:
                    first = (op.name, arg)
                    if op.name in ("LONG1", "LONG4") and arg == _LEGACY_MAGIC:
                        return "torch", protocol
        except ValueError:                 # an unknown opcode, or the file ends early
            return "damaged", protocol
    return ("plain" if first is not None else "damaged"), protocol


@dataclass(frozen=True)
class _Layout:
    architecture: str
    containers: tuple[str, ...]            # dict keys the state dict is usually stored under
    probe: str                             # a key whose presence identifies the layout
    infer: Callable[[StateDict], dict]     # constructor kwargs read from the shapes


def _coursera_gen(sd: StateDict) -> dict:
    w = sd["gen.0.0.weight"]                                 # (z_dim, 8h, 3, 3)
    return {"z_dim": w.shape[0], "hidden_dim": w.shape[1] // 8,
            "im_chan": sd["gen.4.0.weight"].shape[1]}        # (h, im_chan, 4, 4)


def _coursera_cls(sd: StateDict) -> dict:
    w = sd["classifier.0.0.weight"]                          # (h, im_chan, 4, 4)
    n = sd["classifier.3.0.weight"].shape[0]                 # (A, 4h, 4, 4)
    return {"im_chan": w.shape[1], "hidden_dim": w.shape[0],
            "attribute_names": list(CELEBA_ATTRIBUTES) if n == 40
            else [f"attribute_{i}" for i in range(n)]}


def _coursera_disc(sd: StateDict) -> dict:
    w = sd["disc.0.0.weight"]                                # (h, im_chan, 4, 4)
    return {"im_chan": w.shape[1], "hidden_dim": w.shape[0]}


def _pytorch_gen(sd: StateDict) -> dict:
    w = sd["main.0.weight"]                                  # (z_dim, 8 ngf, 4, 4)
    return {"z_dim": w.shape[0], "ngf": w.shape[1] // 8,
            "im_chan": sd["main.12.weight"].shape[1]}        # (ngf, im_chan, 4, 4)


def _tutorial_gen(sd: StateDict) -> dict:
    if "main.0.bias" in sd:
        raise ValueError("has conv biases: not the DCGAN tutorial's generator")
    w = sd["main.0.weight"]                                  # (z_dim, 8 ngf, 4, 4)
    return {"z_dim": w.shape[0], "ngf": w.shape[1] // 8, "image_size": 64, "bias": False,
            "im_chan": sd["main.12.weight"].shape[1]}


LAYOUTS: tuple[_Layout, ...] = (
    _Layout("coursera_dcgan_generator", ("gen",), "gen.0.0.weight", _coursera_gen),
    _Layout("coursera_classifier", ("classifier",), "classifier.0.0.weight", _coursera_cls),
    _Layout("coursera_dcgan_discriminator", ("disc",), "disc.0.0.weight", _coursera_disc),
    _Layout("pytorch_dcgan_generator", ("state_dict", "netG", "generator"), "main.12.weight",
            _pytorch_gen),
    _Layout("dcgan_generator", ("netG_state_dict", "netG"), "main.12.weight", _tutorial_gen),
)


def _read_pth(path: Path) -> Any:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; expected a .pth file "
                              f"(a biaslens checkpoint folder loads with load_checkpoint)")
    with open(path, "rb") as f:
        magic = f.read(2)
    # torch.save writes a zip archive ("PK"); its legacy format is a pickle (protocol byte
    # 0x80) that starts with torch's magic number, then the object.
    is_zip = zipfile.is_zipfile(path)
    if not (is_zip or magic[:1] == b"\x80"):
        raise CheckpointError(f"{path}: not a PyTorch weights file (neither a torch.save "
                              f"archive nor a pickle; starts with {magic!r})")
    kind, protocol = ("torch", 0) if is_zip else _pickle_kind(path)
    if kind == "damaged":
        raise CheckpointError(f"{path}: not a readable PyTorch weights file (a damaged or "
                              "truncated pickle)")
    if kind == "plain":
        raise CheckpointError(f"{path}: a plain Python pickle (pickle.dump), not a file "
                              "written by torch.save; biaslens reads weights only from "
                              "torch.save files (with weights_only=True): re-save the state "
                              "dict with torch.save(state_dict, path)")
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols > 2 before failing or succeeding; the
            # outcome is reported below in one line
            warnings.filterwarnings("ignore", message="Detected pickle protocol",
                                    category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported operand" in str(exc):  # an opcode of pickle protocol > 2
            raise CheckpointError(f"{path}: written with pickle protocol {protocol}, which "
                                  "torch.load(weights_only=True) cannot read; re-save it with "
                                  "torch.save(obj, path) and its default settings") from None
        # torch's message is long; keep its one informative line ("Unsupported global: ...").
        lines = [ln.strip() for ln in str(exc).splitlines() if "Unsupported" in ln]
        why = (lines[0].split(" was not")[0] if lines else type(exc).__name__)[:200]
        raise CheckpointError(f"{path}: refused by torch.load(weights_only=True): it holds "
                              f"more than tensors and plain containers ({why})") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: not a readable PyTorch weights file "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from None


def _is_state_dict(obj: Any) -> bool:
    return (isinstance(obj, dict) and bool(obj)
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()))


def _strip_module(sd: StateDict) -> StateDict:
    if all(k.startswith("module.") for k in sd):             # saved from DataParallel/DDP
        return {k[len("module."):]: v for k, v in sd.items()}
    return sd


def _candidates(obj: Any) -> list[tuple[str, StateDict]]:
    # (container key, state dict) pairs: the object itself, or its state-dict values.
    if _is_state_dict(obj):
        return [("", _strip_module(obj))]
    if isinstance(obj, dict):
        return [(str(k), _strip_module(v)) for k, v in obj.items() if _is_state_dict(v)]
    return []


def _describe(cands: list[tuple[str, StateDict]], obj: Any) -> str:
    if not cands:
        kind = (f"a dict with keys {list(obj)[:8]}" if isinstance(obj, dict)
                else f"a {type(obj).__name__}")
        return f"found {kind} and no state dict of tensors"
    parts = []
    for key, sd in cands:
        shown = ", ".join(f"{k} {tuple(v.shape)}" for k, v in list(sd.items())[:4])
        where = f"under {key!r}" if key else "at top level"
        parts.append(f"{where}, {len(sd)} tensors: {shown}, ...")
    return "found " + "; ".join(parts)


def _expected(layout: _Layout) -> str:
    sd = build_model(layout.architecture).state_dict()
    shown = ", ".join(f"{k} {tuple(v.shape)}" for k, v in list(sd.items())[:3])
    return f"{layout.architecture} (under {'/'.join(layout.containers)!r}): {shown}, ..."


def _fit(model: nn.Module, sd: StateDict) -> nn.Module:
    """Load ``sd`` into ``model``, or raise :class:`_Misfit` with what does not fit."""
    # Old files may lack BatchNorm's num_batches_tracked; it does not affect outputs.
    parts = state_dict_mismatches(model, sd, allow_missing=("num_batches_tracked",))
    if parts:
        raise _Misfit(parts)
    model.load_state_dict(sd, strict=False)
    return model.eval()


class _Misfit(Exception):
    """The tensors of a file do not fit the model built for them (``parts``: what differs)."""

    def __init__(self, parts: list[str]):
        super().__init__("; ".join(parts))
        self.parts = parts


def _provenance(path: Path, key: str, arch: str | None,
                attribute_names: Sequence[str] | None) -> dict[str, Any]:
    """How a file was imported: the source, its hash, the container key and the options."""
    return {"source": str(path), "container_key": key, "source_sha256": file_sha256(path),
            "options": {"arch": arch, "attribute_names": None if attribute_names is None
                        else [str(n) for n in attribute_names]},
            "architecture_detected": arch is None}


def _import(path: Path, arch: str | None, attribute_names: Sequence[str] | None
            ) -> tuple[nn.Module, dict[str, Any]]:
    if arch is not None and arch not in list_architectures():
        build_model(arch)  # raises UnknownNameError listing the valid names
    obj = _read_pth(path)
    cands = _candidates(obj)
    layouts = [lay for lay in LAYOUTS if arch is None or lay.architecture == arch]
    errors: list[str] = []
    for lay in layouts:
        # Prefer the layout's usual container key, then any other state dict in the file.
        ordered = sorted(cands, key=lambda c: c[0] not in lay.containers + ("",))
        for key, sd in ordered:
            if lay.probe not in sd:
                continue
            source = f"{path}" + (f" (key {key!r})" if key else "")
            try:
                config = lay.infer(sd)
                if attribute_names is not None and "attribute_names" in config:
                    config["attribute_names"] = list(attribute_names)
                model = _fit(build_model(lay.architecture, **config), sd)
            except KeyError as exc:               # a key the layout reads widths from
                errors.append(_misfit_message(source, lay, arch, [f"missing key {exc}"]))
                continue
            except _Misfit as exc:
                errors.append(_misfit_message(source, lay, arch, exc.parts))
                continue
            except (ValueError, IndexError) as exc:
                errors.append(_misfit_message(source, lay, arch, [str(exc)]))
                continue
            return model, _provenance(path, key, arch, attribute_names)
    if arch is not None and not layouts:  # a biaslens architecture stored as a raw state dict
        kwargs = {} if attribute_names is None else {"attribute_names": list(attribute_names)}
        model = build_model(arch, **kwargs)
        for key, sd in cands:
            source = f"{path}" + (f" (key {key!r})" if key else "")
            try:
                return _fit(model, sd), _provenance(path, key, arch, attribute_names)
            except _Misfit as exc:
                errors.append(f"{source}: weights do not fit architecture {arch!r} "
                              f"{model.config}: " + "; ".join(exc.parts))
    if errors:
        raise CheckpointError(errors[0] if len(errors) == 1 else " | ".join(errors[:3]))
    wanted = "; ".join(_expected(lay) for lay in layouts) if layouts else arch
    raise CheckpointError(f"{path}: no known model layout recognised. {_describe(cands, obj)}. "
                          f"Expected {wanted}")


def _misfit_message(source: str, lay: _Layout, arch: str | None, parts: list[str]) -> str:
    """A file that fits no architecture: what differs from the layout its keys resemble.
    Detected (``arch`` None), it is not called by that architecture's name: its keys look
    like that layout, its tensors are something else."""
    if arch is not None:
        return f"{source}: weights do not fit architecture {arch!r}: " + "; ".join(parts)
    return (f"{source}: fits no known architecture: its keys resemble the "
            f"{lay.architecture} layout ({lay.probe}, ...) but its tensors differ: "
            + "; ".join(parts) + ". If it is a registered architecture at other settings, "
            "name it with --arch")


def import_checkpoint(path: str | Path, arch: str | None = None, *,
                      attribute_names: Sequence[str] | None = None) -> nn.Module:
    """Load a third-party ``.pth`` file into the matching architecture (eval mode, CPU).

    Parameters
    ----------
    path : e.g. the course's ``pretrained_celeba.pth`` ({"gen": ..., "gen_opt": ...}),
        ``pretrained_classifier.pth`` ({"classifier": ...}) or the exploring-bias app's
        generator ({"state_dict": ...}).
    arch : architecture name; detected from keys and shapes when omitted.
    attribute_names : output names for a classifier with other than CelebA's 40 outputs.

    Raises
    ------
    CheckpointError
        When the file is unreadable or matches no layout (expected vs found keys/shapes).

    Examples
    --------
    >>> gen = import_checkpoint("pretrained_celeba.pth")        # doctest: +SKIP
    >>> gen.architecture                                # doctest: +SKIP
    'coursera_dcgan_generator'
    """
    return _import(Path(path), arch, attribute_names)[0]


def import_with_provenance(path: str | Path, arch: str | None = None, *,
                           attribute_names: Sequence[str] | None = None
                           ) -> tuple[nn.Module, dict[str, Any]]:
    """:func:`import_checkpoint` and how it was imported: ``{"source", "container_key",
    "source_sha256", "options": {"arch", "attribute_names"}, "architecture_detected"}``."""
    return _import(Path(path), arch, attribute_names)


def import_to_checkpoint(path: str | Path, out: str | Path, arch: str | None = None, *,
                         attribute_names: Sequence[str] | None = None,
                         extra: dict | None = None, overwrite: bool = False
                         ) -> tuple[nn.Module, CheckpointInfo]:
    """Import ``path`` and save it as a biaslens checkpoint folder ``out``.

    The provenance (:func:`import_with_provenance`: source path, container key, source
    SHA-256, the ``arch`` and ``attribute_names`` options) goes into ``config.json``'s
    ``extra["imported_from"]``. An existing checkpoint or non-empty folder at ``out`` is
    replaced only with ``overwrite`` (checked before the file is read).
    """
    check_destination(out, overwrite=overwrite)
    model, provenance = _import(Path(path), arch, attribute_names)
    save_checkpoint(model, out, extra={**(extra or {}), "imported_from": provenance})
    return model, read_checkpoint_info(out)


def load_model(path: str | Path, *, arch: str | None = None,
               device: str | torch.device = "cpu") -> nn.Module:
    """A model from either a biaslens checkpoint folder or a third-party ``.pth`` file."""
    path = Path(path)
    if path.is_dir() and (path / CONFIG_FILE).exists():
        return load_checkpoint(path, expected_architecture=arch, device=device)[0]
    if path.is_dir():
        read_checkpoint_info(path)  # raises a CheckpointError explaining what is missing
    return import_checkpoint(path, arch).to(pick_device(device))
