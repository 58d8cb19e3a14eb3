"""Tensor conventions and batched model I/O: the one place pixels are converted.

Images are uint8 NHWC on disk, in caches and on screen, and float NCHW in [-1, 1]
inside models (DESIGN.md, Conventions). Every module that crosses that line calls
:func:`to_model_pixels` / :func:`to_uint8` here, and every batched pass over a
generator or a classifier goes through :func:`generate_images` (or
:func:`generate_from_latents` for given latents) / :func:`predict_logits`. Their
``precision`` (``"fp32"`` by default, ``"auto"`` or ``"bf16"``; :mod:`biaslens.precision`)
runs the model under bf16 autocast; what they return is float32 either way.

>>> import numpy as np
>>> x = to_model_pixels(np.full((1, 2, 2, 3), 255, np.uint8))
>>> tuple(x.shape), float(x.max())
((1, 3, 2, 2), 1.0)
>>> int(to_uint8(x).max())
255
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from biaslens.errors import BiasLensError, DataError
from biaslens.precision import autocast

__all__ = [
    "frozen",
    "generate_from_latents",
    "generate_images",
    "is_decoder",
    "pick_device",
    "predict_logits",
    "to_model_pixels",
    "to_uint8",
    "to_unit_range",
    "to_uint8_numpy",
]


# --------------------------------------------------------------------------- pixels


def to_model_pixels(images: np.ndarray | torch.Tensor,
                    device: str | torch.device | None = None) -> torch.Tensor:
    """uint8 NHWC (numpy, memmap or tensor) -> float NCHW in [-1, 1]; float tensors pass.

    With ``device`` the uint8 batch is moved first and converted there, so only uint8
    crosses the bus; the result is then channels_last on CUDA (what cuDNN prefers) and
    contiguous NCHW elsewhere (oneDNN's fastest layout here).
    """
    if isinstance(images, torch.Tensor) and images.is_floating_point():
        return images if device is None else images.to(device)
    t = images if isinstance(images, torch.Tensor) else torch.as_tensor(
        np.ascontiguousarray(images))
    if t.dtype != torch.uint8 or t.ndim != 4 or t.shape[-1] != 3:
        raise DataError(f"images must be uint8 (n, H, W, 3); got {t.dtype} {tuple(t.shape)}",
                        field="images")
    if device is None:
        return t.float().div(127.5).sub(1).permute(0, 3, 1, 2).contiguous()
    device = torch.device(device)
    x = t.to(device, non_blocking=True).float().div_(127.5).sub_(1).permute(0, 3, 1, 2)
    return x if device.type == "cuda" else x.contiguous()


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Model images in [-1, 1] -> float in [0, 1] (clamped; gradients flow), NCHW kept: what
    colour science (sRGB -> CIELAB) and byte-scaled networks (``255 *``) start from."""
    return images.float().clamp(-1, 1).add(1).mul(0.5)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Model images ``(n, 3, H, W)`` in [-1, 1] -> uint8 ``(n, H, W, 3)`` (clamped, rounded),
    on the images' device."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1)


def to_uint8_numpy(images: torch.Tensor) -> np.ndarray:
    """:func:`to_uint8` as a host numpy array (a single image ``(3, H, W)`` gives ``(H, W, 3)``)."""
    if images.ndim == 3:
        return to_uint8(images[None].cpu())[0].numpy()
    return to_uint8(images.cpu()).numpy()


# --------------------------------------------------------------------------- devices


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> the local CUDA device when there is one (per torchrun LOCAL_RANK), else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise BiasLensError("--device cuda was requested but no CUDA device is available")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise BiasLensError(f"unknown device {device!r} (use auto, cpu or cuda)") from exc


@contextlib.contextmanager
def frozen(*models: nn.Module) -> Iterator[None]:
    """Eval mode and frozen parameters for the duration; restore the caller's state."""
    saved = [(m, m.training, [p.requires_grad for p in m.parameters()]) for m in models]
    try:
        for m in models:
            m.eval().requires_grad_(False)
        yield
    finally:
        for m, training, flags in saved:
            m.train(training)
            for p, flag in zip(m.parameters(), flags):
                p.requires_grad_(flag)


# --------------------------------------------------------------------------- batched I/O


@torch.no_grad()
def predict_logits(classifier: nn.Module, images: np.ndarray | torch.Tensor, *,
                   batch_size: int = 512, device: str | torch.device = "cpu",
                   precision: str = "fp32") -> np.ndarray:
    """Classifier logits ``(n, A)`` float32 for uint8 NHWC or float NCHW images, in batches.

    The classifier runs in eval mode (its training flag is restored afterwards), under
    bf16 autocast when ``precision`` resolves to bf16 on ``device``.
    """
    device = torch.device(device)
    was = classifier.training
    classifier.eval()
    try:
        out = []
        for s in range(0, len(images), batch_size):
            x = to_model_pixels(images[s:s + batch_size]).to(device)
            with autocast(device, precision):
                out.append(classifier(x).float().cpu())
    finally:
        classifier.train(was)
    if not out:
        return np.zeros((0, 0), np.float32)
    logits = torch.cat(out).numpy()
    if logits.ndim != 2:
        raise BiasLensError(f"the classifier must return logits (n, A); got {logits.shape}")
    return logits


def is_decoder(model: nn.Module) -> bool:
    """A (conditional) VAE is generated from with ``decode``, a GAN by calling it."""
    return hasattr(model, "decode") and hasattr(model, "encode")


@torch.no_grad()
def generate_images(generator: nn.Module, n: int, *, batch_size: int = 512, seed: int = 0,
                    device: str | torch.device = "cpu", condition: np.ndarray | None = None,
                    consumer: Callable[[torch.Tensor, slice], None],
                    precision: str = "fp32") -> None:
    """Draw ``z ~ N(0, I)`` (CPU generator seeded by ``seed``) and generate ``n`` images.

    A GAN generator is called as ``generator(z)``; a (conditional) VAE as
    ``decode(z)`` / ``decode(z, c)`` with ``condition`` rows ``(n, C)``. Each batch
    ``(b, 3, H, W)`` (float32, also under bf16 ``precision``) is handed to
    ``consumer(images, rows)`` so nothing of size ``n`` is held in image memory.
    """
    z_dim = getattr(generator, "z_dim", None) or getattr(generator, "latent_dim", None)
    if not isinstance(z_dim, int):
        raise BiasLensError("the generator has no integer 'z_dim' (protocol: generator.z_dim, "
                            "generator(z) -> (n, 3, H, W)) nor a VAE 'latent_dim'")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    was = generator.training
    generator.eval()
    try:
        for s in range(0, n, batch_size):
            rows = slice(s, min(n, s + batch_size))
            z = torch.randn(rows.stop - s, z_dim, generator=gen).to(device)
            with autocast(device, precision):
                if is_decoder(generator):
                    if condition is not None:
                        c = torch.as_tensor(condition[rows], dtype=torch.float32, device=device)
                        x = generator.decode(z, c)
                    else:
                        x = generator.decode(z)
                else:
                    x = generator(z)
            consumer(x.float(), rows)
    finally:
        generator.train(was)


@torch.no_grad()
def generate_from_latents(generator: nn.Module, z: np.ndarray | torch.Tensor, *,
                          batch_size: int = 256, device: str | torch.device | None = None,
                          precision: str = "fp32") -> torch.Tensor:
    """``generator(z)`` for given latents ``(n, z_dim)``, batched, in eval mode.

    Returns float32 ``(n, 3, H, W)`` in [-1, 1] (clamped) on the CPU (``torch.zeros(0)``
    for no rows). ``device`` defaults to the generator's own (its first parameter or
    buffer; CPU when it has neither). Batches keep the rows' order and layout, which a
    generator whose per-row nuisance depends on the position in the batch relies on.
    ``precision`` as in :func:`predict_logits`.
    """
    if device is None:
        device = next(itertools.chain(generator.parameters(), generator.buffers()),
                      torch.empty(0)).device
    was = generator.training
    generator.eval()
    try:
        out = []
        for s in range(0, len(z), batch_size):
            zb = torch.as_tensor(z[s:s + batch_size], dtype=torch.float32, device=device)
            with autocast(device, precision):
                out.append(generator(zb).float().clamp(-1, 1).cpu())
    finally:
        generator.train(was)
    return torch.cat(out) if out else torch.zeros(0)
