"""Compute precision: ``auto | fp32 | bf16`` for every path that runs a model.

bf16 autocast runs the matrix work (convolutions, linear layers) in bfloat16 and keeps
parameters, reductions and losses in fp32. It pays on a CUDA GPU and on CPUs with bf16
matrix units (AVX-512 BF16 / AMX, used through oneDNN): about 3× fp32 for the course
DCGAN on 2 cores here. ``auto`` picks bf16 where it pays and fp32 elsewhere, so a CPU
without those units keeps the fp32 path.

>>> resolve_precision("fp32", "cpu")
'fp32'
>>> resolve_precision("bf16", "cpu")
'bf16'
"""

from __future__ import annotations

import contextlib
import functools
from typing import Literal

import torch

from biaslens.errors import BiasLensError

__all__ = ["PRECISIONS", "Precision", "autocast", "cpu_has_bf16", "resolve_precision"]

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


@functools.cache
def cpu_has_bf16() -> bool:
    """True when this CPU has bf16 matrix support that oneDNN uses (AVX-512 BF16 or AMX)."""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``"fp32"`` or ``"bf16"`` for ``precision`` on ``device`` (``auto`` decides by hardware)."""
    if precision not in PRECISIONS:
        raise BiasLensError(f"precision must be one of {', '.join(PRECISIONS)}; "
                            f"got {precision!r}")
    if precision != "auto":
        return precision
    dev = torch.device(device)
    if dev.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if dev.type == "cpu":
        return "bf16" if cpu_has_bf16() else "fp32"
    return "fp32"


def autocast(device: str | torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``precision`` resolves to bf16; else a no-op."""
    dev = torch.device(device)
    if resolve_precision(precision, dev) == "bf16":
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
