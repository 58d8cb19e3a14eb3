"""Inference copies of models: frozen, eval mode, BatchNorm folded, channels_last.

An audit that runs a model many times (the steering loop: one forward and backward per
step) works on a copy made for speed, so the caller's model keeps its device, memory
format, training flag and ``requires_grad``.

On the CPU the copy's transposed convolutions are also computed another way
(:class:`GradConvTranspose2d`): oneDNN's deconvolution kernel is 2-4x slower than its
convolution backward-data kernel for the same maths (profiled on the course DCGAN
generator, fp32 and bf16, AVX-512), and a transposed convolution *is* the input gradient
of a convolution with the same weight.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU())
>>> fast = inference_copy(net, torch.device("cpu"))
>>> isinstance(fast[1], nn.Identity), net.training, isinstance(net[1], nn.BatchNorm2d)
(True, True, True)
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GradConvTranspose2d", "fold_batchnorm", "inference_copy"]

_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, *_TRANSPOSED)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fold_batchnorm(model: nn.Module) -> int:
    """Fold eval-mode BatchNorm into the convolution right before it, in place.

    Only ``Sequential`` neighbours (conv, BN) are folded, where the BN certainly consumes
    the conv's output; in eval mode the result is the same function with one fewer
    memory pass forward and backward. Returns the number of folded pairs.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = 0
    for mod in list(model.modules()):
        if not isinstance(mod, nn.Sequential):
            continue
        items = list(mod._modules.items())
        for (k1, conv), (k2, bn) in itertools.pairwise(items):
            if (isinstance(conv, _CONVS) and isinstance(bn, _NORMS) and bn.track_running_stats
                    and bn.running_mean is not None and conv.out_channels == bn.num_features):
                mod._modules[k1] = fuse_conv_bn_eval(conv, bn,
                                                     transpose=isinstance(conv, _TRANSPOSED))
                mod._modules[k2] = nn.Identity()
                folded += 1
    return folded


class _ConvTransposeByGrad(torch.autograd.Function):
    """``conv_transpose2d(x, w)`` as the input gradient of ``conv2d(·, w)``; backward is
    ``conv2d(grad, w)``. The weight is frozen (no gradient for it)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, stride: list[int],
                padding: list[int], out_shape: tuple[int, ...]) -> torch.Tensor:
        ctx.save_for_backward(weight)
        ctx.stride, ctx.padding = stride, padding
        fmt = (torch.channels_last if x.is_contiguous(memory_format=torch.channels_last)
               else torch.contiguous_format)
        like = x.new_empty(out_shape).contiguous(memory_format=fmt)  # only its shape is read
        return torch.ops.aten.convolution_backward(
            x, like, weight, None, stride, padding, [1, 1], False, [0, 0], 1,
            [True, False, False])[0]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (weight,) = ctx.saved_tensors
        return F.conv2d(grad, weight, None, ctx.stride, ctx.padding), None, None, None, None


class GradConvTranspose2d(nn.ConvTranspose2d):
    """A frozen :class:`~torch.nn.ConvTranspose2d` computed through convolution kernels.

    The same function (fp32 results agree to float rounding); gradients flow to the input
    only. A ``1×1`` input without padding is a matrix product. Honours bf16 autocast.
    :func:`inference_copy` swaps it in on the CPU for plain (groups 1, dilation 1, zero
    padding) transposed convolutions.
    """

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``(n, C_in, H, W) -> (n, C_out, H', W')``, like the parent class."""
        if x.ndim != 4:
            return super().forward(x, output_size)
        out_pad = self._output_padding(x, output_size, list(self.stride), list(self.padding),
                                       list(self.kernel_size), 2, list(self.dilation))
        w, b = self.weight, self.bias
        if torch.is_autocast_enabled(x.device.type):
            dt = torch.get_autocast_dtype(x.device.type)
            x, w, b = x.to(dt), w.to(dt), None if b is None else b.to(dt)
        n, _, h, wd = x.shape
        kh, kw = self.kernel_size
        (sh, sw), (ph, pw) = self.stride, self.padding
        if h == wd == 1 and ph == pw == 0 and not any(out_pad):
            y = (x.reshape(n, -1) @ w.reshape(w.shape[0], -1)).view(n, -1, kh, kw)
        else:
            shape = (n, self.out_channels, (h - 1) * sh - 2 * ph + kh + out_pad[0],
                     (wd - 1) * sw - 2 * pw + kw + out_pad[1])
            y = _ConvTransposeByGrad.apply(x, w, [sh, sw], [ph, pw], shape)
        return y if b is None else y + b.view(1, -1, 1, 1)


def _use_grad_conv_transpose(model: nn.Module) -> int:
    """Swap plain ``ConvTranspose2d`` modules for :class:`GradConvTranspose2d`, in place."""
    swapped = 0
    for mod in model.modules():
        if (type(mod) is nn.ConvTranspose2d and mod.groups == 1 and mod.dilation == (1, 1)
                and mod.padding_mode == "zeros"):
            mod.__class__ = GradConvTranspose2d
            swapped += 1
    return swapped


def inference_copy(model: nn.Module, device: torch.device) -> nn.Module:
    """A frozen eval-mode copy on ``device`` with BN folded and channels_last weights.

    Working on a copy leaves the caller's model untouched (device, memory format,
    training flag). On the CPU the copy's transposed convolutions become
    :class:`GradConvTranspose2d` (the same function through faster kernels). A model that
    cannot be deep-copied is used as it is (moved to ``device``; its eval/grad flags are
    restored by :func:`biaslens.tensors.frozen`).
    """
    try:
        m = copy.deepcopy(model)
    except Exception:  # noqa: BLE001  exotic modules (locks, handles): use the original
        return model.to(device)
    m = m.eval().requires_grad_(False).to(device)
    fold_batchnorm(m)
    if torch.device(device).type == "cpu":
        _use_grad_conv_transpose(m)
    return m.to(memory_format=torch.channels_last)
