"""A small ResNet attribute classifier (``resnet_classifier``) for 64 or 128 px faces.

Stem: 3x3 conv stride 2 (+ 3x3 max-pool stride 2 at >= 128 px) so both sizes reach the
stages at 32x32; then one stage per width of ``blocks`` basic residual blocks (two 3x3
convs + BN, identity or 1x1-projection shortcut), stride 2 from the second stage on;
global average pooling; a linear layer to one logit per attribute.
With the default widths (32, 64, 128, 256) and 2 blocks per stage: 2.8 M parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from biaslens.models.registry import attribute_names_config, register_model
from biaslens.names import CELEBA_ATTRIBUTES


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus shortcut, then ReLU (He et al. 2016)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:  # projection so the sum has matching shapes
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


@register_model("resnet_classifier")
class ResNetClassifier(nn.Module):
    """Small ResNet mapping images to attribute logits.

    Parameters
    ----------
    image_size : input side (64 or 128; any size >= 32 works thanks to global pooling).
    im_chan : input channels.
    widths : channels of each stage; the stem has ``widths[0]``.
    blocks : basic blocks per stage.
    attribute_names : one logit per name; default CelebA's 40.
    """

    def __init__(self, image_size: int = 64, im_chan: int = 3,
                 widths: Sequence[int] = (32, 64, 128, 256), blocks: int = 2,
                 attribute_names: Sequence[str] | None = None):
        super().__init__()
        if image_size < 32:
            raise ValueError(f"image_size must be >= 32, got {image_size}")
        widths = [int(w) for w in widths]
        if not widths or blocks < 1:
            raise ValueError("widths must be non-empty and blocks >= 1")
        names = attribute_names_config(attribute_names, CELEBA_ATTRIBUTES)
        self.config = {"image_size": image_size, "im_chan": im_chan, "widths": widths,
                       "blocks": blocks, "attribute_names": list(names)}
        self.attribute_names = names
        self.image_size = image_size
        stem: list[nn.Module] = [nn.Conv2d(im_chan, widths[0], 3, 2, 1, bias=False),
                                 nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]  # (n, w0, S/2)
        if image_size >= 128:
            stem.append(nn.MaxPool2d(3, 2, 1))                          # (n, w0, S/4)
        self.stem = nn.Sequential(*stem)
        stages, cin = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2                                 # halve from stage 2 on
            layers = [BasicBlock(cin, w, stride)] + [BasicBlock(w, w) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.Sequential(*stages)                            # (n, w[-1], 4, 4)
        self.head = nn.Linear(widths[-1], len(names))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, im_chan, S, S) in [-1, 1] -> logits (n, A)."""
        h = self.stages(self.stem(image))
        return self.head(h.mean(dim=(2, 3)))                                        # (n, A)
