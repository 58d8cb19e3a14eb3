"""Inference copies of models: frozen, eval mode, BatchNorm folded, channels_last.

An audit that runs a model many times (the steering loop: one forward and backward per
step) works on a copy made for speed, so the caller's model keeps its device, memory
format, training flag and ``requires_grad``.

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

import torch
from torch import nn

__all__ = ["fold_batchnorm", "inference_copy"]

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


def inference_copy(model: nn.Module, device: torch.device) -> nn.Module:
    """A frozen eval-mode copy on ``device`` with BN folded and channels_last weights.

    Working on a copy leaves the caller's model untouched (device, memory format,
    training flag). A model that cannot be deep-copied is used as it is (moved to
    ``device``; its eval/grad flags are restored by :func:`biaslens.tensors.frozen`).
    """
    try:
        m = copy.deepcopy(model)
    except Exception:  # noqa: BLE001  exotic modules (locks, handles): use the original
        return model.to(device)
    m = m.eval().requires_grad_(False).to(device)
    fold_batchnorm(m)
    return m.to(memory_format=torch.channels_last)
