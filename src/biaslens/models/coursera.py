"""The Coursera GANs-course models, layer for layer (docs/algorithms.md §1).

* ``coursera_dcgan_generator``: z (n, 64) -> image (n, 3, 64, 64) in [-1, 1]; keys
  ``gen.{0..4}.{0,1}.*`` so the course's ``pretrained_celeba.pth["gen"]`` loads as is.
  1,849,155 parameters.
* ``coursera_classifier``: image (n, 3, 64, 64) -> 40 CelebA logits; keys
  ``classifier.{0..3}.*`` (``pretrained_classifier.pth["classifier"]``). 823,656 parameters.
* ``coursera_dcgan_discriminator``: the C1W2 discriminator (conv k4 s2 blocks with
  BatchNorm + LeakyReLU(0.2), 16 -> 32 -> 1 channels on 28 px MNIST) adapted to 64x64 RGB:
  one more block and the classifier's stride-3 third layer so 64 px reaches 1x1
  (64 -> 31 -> 14 -> 4 -> 1), widths hidden, 2*hidden, 4*hidden. Returns logits (n,).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from biaslens.models.registry import attribute_names_config, register_model
from biaslens.names import CELEBA_ATTRIBUTES


def _gen_block(cin: int, cout: int, kernel: int = 3, stride: int = 2, final: bool = False
               ) -> nn.Sequential:
    # ConvTranspose2d with bias and no padding, then BN + ReLU (or Tanh for the last block).
    conv = nn.ConvTranspose2d(cin, cout, kernel, stride)
    if final:
        return nn.Sequential(conv, nn.Tanh())
    return nn.Sequential(conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _disc_block(cin: int, cout: int, kernel: int = 4, stride: int = 2, final: bool = False
                ) -> nn.Sequential:
    # Conv2d with bias and no padding, then BN + LeakyReLU(0.2); the final block is a bare conv.
    conv = nn.Conv2d(cin, cout, kernel, stride)
    if final:
        return nn.Sequential(conv)
    return nn.Sequential(conv, nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


def _disc_stack(im_chan: int, h: int, n_out: int) -> nn.Sequential:
    # The classifier's and the discriminator's shared body, 64 px down to 1x1 logits.
    return nn.Sequential(
        _disc_block(im_chan, h),                            # (n, h, 31, 31)
        _disc_block(h, h * 2),                              # (n, 2h, 14, 14)
        _disc_block(h * 2, h * 4, stride=3),                # (n, 4h, 4, 4)
        _disc_block(h * 4, n_out, final=True),              # (n, n_out, 1, 1)
    )


@register_model("coursera_dcgan_generator")
class CourseraDCGANGenerator(nn.Module):
    """The course's DCGAN generator: 5 transposed-conv blocks, 1 -> 3 -> 7 -> 15 -> 31 -> 64.

    Parameters
    ----------
    z_dim : noise dimension (64 in the course).
    im_chan : output channels (3).
    hidden_dim : base width; blocks have 8h, 4h, 2h, h channels (64 in the course).
    """

    def __init__(self, z_dim: int = 64, im_chan: int = 3, hidden_dim: int = 64):
        super().__init__()
        self.config = {"z_dim": z_dim, "im_chan": im_chan, "hidden_dim": hidden_dim}
        self.z_dim = z_dim
        self.image_size = 64
        h = hidden_dim
        self.gen = nn.Sequential(
            _gen_block(z_dim, h * 8),                           # (n, 8h, 3, 3)
            _gen_block(h * 8, h * 4),                           # (n, 4h, 7, 7)
            _gen_block(h * 4, h * 2),                           # (n, 2h, 15, 15)
            _gen_block(h * 2, h),                               # (n, h, 31, 31)
            _gen_block(h, im_chan, kernel=4, final=True),       # (n, 3, 64, 64) in [-1, 1]
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise (n, z_dim) -> images (n, im_chan, 64, 64) in [-1, 1]."""
        return self.gen(z.view(len(z), self.z_dim, 1, 1))


@register_model("coursera_classifier")
class CourseraClassifier(nn.Module):
    """The course's 40-attribute CelebA classifier: 4 convs k4, 64 -> 31 -> 14 -> 4 -> 1.

    Parameters
    ----------
    im_chan : input channels (3).
    hidden_dim : base width; layers have h, 2h, 4h channels (64 in the course).
    attribute_names : one output logit per name; default CelebA's 40 in file order.
    """

    def __init__(self, im_chan: int = 3, hidden_dim: int = 64,
                 attribute_names: Sequence[str] | None = None):
        super().__init__()
        names = attribute_names_config(attribute_names, CELEBA_ATTRIBUTES)
        self.config = {"im_chan": im_chan, "hidden_dim": hidden_dim,
                       "attribute_names": list(names)}
        self.attribute_names = names
        self.image_size = 64
        self.classifier = _disc_stack(im_chan, hidden_dim, len(names))  # (n, A, 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, im_chan, 64, 64) in [-1, 1] -> logits (n, A)."""
        return self.classifier(image).view(len(image), -1)


@register_model("coursera_dcgan_discriminator")
class CourseraDCGANDiscriminator(nn.Module):
    """The course's C1W2 DCGAN discriminator adapted to 64x64 RGB (see module docstring).

    Parameters
    ----------
    im_chan : input channels (3).
    hidden_dim : base width (the course used 16 on MNIST; 64 here to match the generator).
    """

    def __init__(self, im_chan: int = 3, hidden_dim: int = 64):
        super().__init__()
        self.config = {"im_chan": im_chan, "hidden_dim": hidden_dim}
        self.image_size = 64
        self.disc = _disc_stack(im_chan, hidden_dim, 1)          # (n, 1, 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, im_chan, 64, 64) in [-1, 1] -> real/fake logits (n,)."""
        return self.disc(image).view(len(image))
