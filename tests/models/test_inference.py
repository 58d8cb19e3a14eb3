"""Inference copies: BatchNorm folding and the frozen, channels_last copy of a model."""

from __future__ import annotations

import copy
import threading

import torch
from torch import nn

from biaslens.models.inference import fold_batchnorm, inference_copy

torch.set_num_threads(1)


def _randomize_bn(model: nn.Module) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 2)
                m.bias.uniform_(-0.5, 0.5)


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(3, 4, 2), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.BatchNorm2d(5)))
    _randomize_bn(net)
    return net


def test_fold_batchnorm_keeps_the_function_and_counts_pairs():
    net = _net().eval()
    folded = copy.deepcopy(net)
    assert fold_batchnorm(folded) == 2  # the nested Sequential is folded too
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(folded(x), net(x), rtol=1e-5, atol=1e-6)


def test_fold_batchnorm_handles_1d_and_3d_convolutions():
    torch.manual_seed(1)
    for conv, bn, shape in ((nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), (2, 2, 7)),
                            (nn.ConvTranspose3d(2, 3, 2), nn.BatchNorm3d(3), (2, 2, 3, 3, 3))):
        net = nn.Sequential(conv, bn)
        _randomize_bn(net)
        net.eval()
        folded = copy.deepcopy(net)
        assert fold_batchnorm(folded) == 1
        x = torch.randn(*shape)
        torch.testing.assert_close(folded(x), net(x), rtol=1e-5, atol=1e-6)


def test_fold_batchnorm_leaves_pairs_it_cannot_prove():
    # BN without running statistics, a BN not right after a conv, and a module that is not
    # a Sequential (the order of its attributes says nothing about the data flow).
    class NotSequential(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)

        def forward(self, x):
            return self.bn(self.conv(x))

    net = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3, track_running_stats=False),
                        nn.Conv2d(3, 3, 1), nn.ReLU(), nn.BatchNorm2d(3), NotSequential())
    assert fold_batchnorm(net.eval()) == 0
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 3


def test_inference_copy_is_frozen_folded_and_leaves_the_original():
    net = _net()
    net.train()
    fast = inference_copy(net, torch.device("cpu"))
    assert fast is not net and not fast.training
    assert not any(p.requires_grad for p in fast.parameters())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert fast[0].weight.is_contiguous(memory_format=torch.channels_last)
    # the caller's model is untouched: mode, gradients, layers, memory format
    assert net.training and all(p.requires_grad for p in net.parameters())
    assert isinstance(net[1], nn.BatchNorm2d)
    assert net[0].weight.is_contiguous()
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(fast(x), net.eval()(x), rtol=1e-5, atol=1e-6)


def test_a_model_that_cannot_be_copied_is_used_as_it_is():
    class Locked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.lock = threading.Lock()  # deepcopy refuses locks

        def forward(self, x):
            return self.lin(x)

    model = Locked()
    assert inference_copy(model, torch.device("cpu")) is model
