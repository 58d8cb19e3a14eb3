"""Standard DCGAN (Radford et al. 2016; the PyTorch DCGAN tutorial's layout).

* ``dcgan_generator``: z (n, z_dim) -> (n, 3, S, S) in [-1, 1], S = 64 or 128; kernel 4
  transposed convs, 1 -> 4 (stride 1, no padding), then x2 per block (stride 2, padding 1).
* ``pytorch_dcgan_generator``: the generator of the exploring-bias-in-GANs app
  (docs/algorithms.md §1.2): the same layout at 64 px with z_dim 64, ngf 64 and conv biases on,
  keys ``main.{0,1,3,4,...,12}.*`` as in the tutorial; 3,282,755 parameters. Its weights do
  *not* fit ``coursera_dcgan_generator`` (different kernels, strides and padding).
* ``dcgan_discriminator``: (n, 3, S, S) -> real/fake logits (n,) (no sigmoid: train with
  ``BCEWithLogitsLoss``).

Widths are capped at 8 x ngf/ndf, so the 128 px variants add one block of that width.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from biaslens.models.registry import register_model


def _n_blocks(image_size: int) -> int:
    # Number of x2 resolution steps between 4x4 and image_size.
    if image_size not in (32, 64, 128, 256):
        raise ValueError(f"image_size must be 32, 64, 128 or 256, got {image_size}")
    return int(math.log2(image_size)) - 2


@register_model("dcgan_generator")
class DCGANGenerator(nn.Module):
    """DCGAN generator.

    Parameters
    ----------
    z_dim : noise dimension.
    im_chan : output channels.
    ngf : base width; the 4x4 block has min(8, 2^(k-1)) * ngf channels, halving per block.
    image_size : output side (64 or 128; 32 and 256 also work).
    bias : conv biases (the tutorial has none; the exploring-bias app has them).
    """

    def __init__(self, z_dim: int = 100, im_chan: int = 3, ngf: int = 64, image_size: int = 64,
                 bias: bool = False):
        super().__init__()
        self.config = {"z_dim": z_dim, "im_chan": im_chan, "ngf": ngf,
                       "image_size": image_size, "bias": bias}
        self.z_dim = z_dim
        self.image_size = image_size
        k = _n_blocks(image_size)
        widths = [ngf * min(8, 2 ** (k - 1 - i)) for i in range(k)]   # e.g. 512, 256, 128, 64
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=bias),  # (n, w0, 4, 4)
            nn.BatchNorm2d(widths[0]), nn.ReLU(True),
        ]
        for cin, cout in zip(widths[:-1], widths[1:]):                  # x2 per block
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias),
                       nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], im_chan, 4, 2, 1, bias=bias),  # (n, 3, S, S)
                   nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise (n, z_dim) -> images (n, im_chan, S, S) in [-1, 1]."""
        return self.main(z.view(len(z), self.z_dim, 1, 1))


@register_model("pytorch_dcgan_generator")
class PyTorchDCGANGenerator(DCGANGenerator):
    """The exploring-bias-in-GANs app's generator: DCGAN at 64 px, z_dim 64, biases on."""

    def __init__(self, z_dim: int = 64, im_chan: int = 3, ngf: int = 64):
        super().__init__(z_dim=z_dim, im_chan=im_chan, ngf=ngf, image_size=64, bias=True)
        self.config = {"z_dim": z_dim, "im_chan": im_chan, "ngf": ngf}


@register_model("dcgan_discriminator")
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: strided convs S -> 4, then a 4x4 conv to one logit.

    Parameters
    ----------
    im_chan : input channels.
    ndf : base width (first conv), doubling per block up to 8 x ndf.
    image_size : input side (64 or 128; 32 and 256 also work).
    """

    def __init__(self, im_chan: int = 3, ndf: int = 64, image_size: int = 64):
        super().__init__()
        self.config = {"im_chan": im_chan, "ndf": ndf, "image_size": image_size}
        self.image_size = image_size
        k = _n_blocks(image_size)
        widths = [ndf * min(8, 2 ** i) for i in range(k)]             # e.g. 64, 128, 256, 512
        layers: list[nn.Module] = [
            nn.Conv2d(im_chan, widths[0], 4, 2, 1, bias=False),       # (n, ndf, S/2, S/2)
            nn.LeakyReLU(0.2, inplace=True),                           # no BN on the input layer
        ]
        for cin, cout in zip(widths[:-1], widths[1:]):                  # /2 per block, to 4x4
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)]      # (n, 1, 1, 1)
        self.main = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, im_chan, S, S) in [-1, 1] -> real/fake logits (n,)."""
        return self.main(image).view(len(image))


@register_model("sn_dcgan_discriminator")
class SNDCGANDiscriminator(nn.Module):
    """DCGAN discriminator with spectral normalisation and no BatchNorm (SNGAN, Miyato 2018).

    Every conv's weight is divided by its largest singular value (one power iteration per
    training forward), which bounds the discriminator's Lipschitz constant; with the hinge
    loss this is the standard stable recipe. On this project's synthetic faces it is what
    made adversarial training of the course generator work on a CPU (the BatchNorm
    discriminators collapsed, docs/default-models.md).

    Parameters
    ----------
    im_chan : input channels.
    ndf : base width (first conv), doubling per block up to 8 x ndf.
    image_size : input side (64 or 128; 32 and 256 also work).
    slope : LeakyReLU negative slope (SNGAN uses 0.1).
    mbstd_group : 0 (off), or the group size of a minibatch-standard-deviation feature
        (ProGAN, Karras 2018) joined to the 4x4 features before the last conv: D sees how
        much a group of images varies, which penalises a generator that covers too few
        modes.
    """

    def __init__(self, im_chan: int = 3, ndf: int = 64, image_size: int = 64,
                 slope: float = 0.1, mbstd_group: int = 0):
        super().__init__()
        from torch.nn.utils.parametrizations import spectral_norm

        if mbstd_group < 0:
            raise ValueError(f"mbstd_group must be >= 0, got {mbstd_group}")
        self.config = {"im_chan": im_chan, "ndf": ndf, "image_size": image_size,
                       "slope": slope, "mbstd_group": mbstd_group}
        self.image_size = image_size
        k = _n_blocks(image_size)
        widths = [ndf * min(8, 2 ** i) for i in range(k)]             # e.g. 32 ... 256
        layers: list[nn.Module] = []
        for cin, cout in zip([im_chan] + widths[:-1], widths):          # /2 per block, to 4x4
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)),
                       nn.LeakyReLU(slope, inplace=True)]
        if mbstd_group:
            layers += [MinibatchStd(mbstd_group)]                     # + 1 channel
        layers += [spectral_norm(nn.Conv2d(widths[-1] + (mbstd_group > 0), 1, 4, 1, 0))]
        self.main = nn.Sequential(*layers)                             # (n, 1, 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, im_chan, S, S) in [-1, 1] -> real/fake logits (n,)."""
        return self.main(image).view(len(image))


class MinibatchStd(nn.Module):
    """Append one channel: the standard deviation over a group of images, averaged.

    As StyleGAN2's ``MinibatchStdLayer``: images ``i, i + n/g, i + 2n/g, ...`` form a group
    of ``g`` (``g`` = the largest divisor of ``n`` up to ``group``); per group, the
    per-feature standard deviation over its images averaged over channels and pixels, in
    fp32, broadcast to every image of the group as a constant (h, w) map.
    """

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group, n) + 1) if n % d == 0)
        y = x.float().reshape(g, n // g, c, h, w)
        y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt()          # (n/g, c, h, w)
        y = y.mean(dim=(1, 2, 3)).view(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w)
        return torch.cat([x, y.reshape(n, 1, h, w).to(x.dtype)], 1)


def dcgan_init_(*models: nn.Module) -> None:
    """DCGAN weight initialisation in place: conv weights N(0, 0.02), BN weights N(1, 0.02).

    Spectrally normalised convs are left alone (their scale is normalised anyway).
    """
    from torch.nn.utils import parametrize

    for model in models:
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and not parametrize.is_parametrized(m):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, (nn.BatchNorm2d,)):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
