"""Convolutional VAE (``vae``) and conditional VAE (``cvae``) for square face images.

Encoder: k4 s2 p1 convs + BN + LeakyReLU(0.2), S -> S/2 -> ... -> 4, widths
h, 2h, 4h, 8h (capped at 8h), flatten, one linear layer to ``2 * latent_dim`` = (mu, logvar).
Decoder: linear to (8h, 4, 4) + ReLU, k4 s2 p1 transposed convs + BN + ReLU back to S,
the last one to 3 channels with Tanh: reconstructions are in [-1, 1] like the inputs.

The CVAE takes a condition vector ``c`` (n, C) at **both** ends: broadcast as C constant
extra input channels of the encoder, and concatenated to z at the decoder input, so a
condition can be flipped at either end (decoder flip = counterfactual; encoder flip =
control). The model accepts any float coding of ``c``; the trainer chooses it.

Two options make the decoder *use* ``c`` rather than read the same facts from z:
``decoder_condition="every"`` also feeds c as C constant channels into every transposed
conv (each resolution), and ``adversary_hidden > 0`` adds a small MLP ``adversary(mu) ->
(n, C)`` logits, a classifier of the condition from the latent mean; the trainer fits it
to predict c and trains the encoder to leave it at chance (``train_cvae(adversary=...)``),
so z carries no condition and the decoder must take it from c.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from biaslens.models.registry import attribute_names_config, register_model


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I) drawn from ``generator``."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def sampling(model: nn.Module, sample: bool | None) -> bool:
    """Whether ``forward`` samples z: in train mode unless ``sample`` says otherwise."""
    return model.training if sample is None else sample


def _widths(image_size: int, hidden_dim: int) -> list[int]:
    # One width per x2 step between 4x4 and image_size, capped at 8x hidden_dim.
    k = math.log2(image_size) - 2
    if image_size < 16 or k != int(k):
        raise ValueError(f"image_size must be a power of two >= 16, got {image_size}")
    return [hidden_dim * min(8, 2 ** i) for i in range(int(k))]


class _Encoder(nn.Module):
    def __init__(self, in_ch: int, widths: list[int], latent_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout in zip([in_ch] + widths[:-1], widths):     # S -> S/2 per layer
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2, inplace=True)]
        self.convs = nn.Sequential(*layers)                       # (n, w[-1], 4, 4)
        self.fc = nn.Linear(widths[-1] * 16, 2 * latent_dim)      # (n, 2 * latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x).flatten(1))


class _Decoder(nn.Module):
    def __init__(self, in_dim: int, widths: list[int], im_chan: int, every_dim: int = 0):
        super().__init__()
        # every_dim > 0: that many condition channels join the input of every upsampling
        # conv (the first every_dim entries of the decoder input are the condition).
        self.top, self.every_dim = widths[-1], every_dim
        self.fc = nn.Sequential(nn.Linear(in_dim, widths[-1] * 16), nn.ReLU(inplace=True))
        rev = widths[::-1]
        layers: list[nn.Module] = []
        for cin, cout in zip(rev[:-1], rev[1:]):                  # 4 -> 8 -> ... -> S/2
            layers += [nn.ConvTranspose2d(cin + every_dim, cout, 4, 2, 1),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(rev[-1] + every_dim, im_chan, 4, 2, 1),
                   nn.Tanh()]                                     # (n, 3, S, S)
        self.convs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(len(z), self.top, 4, 4)
        if not self.every_dim:
            return self.convs(h)
        c = z[:, :self.every_dim, None, None]                      # (n, C, 1, 1)
        for layer in self.convs:
            if isinstance(layer, nn.ConvTranspose2d):               # c at this resolution
                h = torch.cat([h, c.expand(-1, -1, *h.shape[2:])], dim=1)
            h = layer(h)
        return h


@register_model("vae")
class VAE(nn.Module):
    """Convolutional VAE; images in [-1, 1] in and out.

    Parameters
    ----------
    image_size : image side (64 by default; any power of two >= 16).
    im_chan : image channels.
    latent_dim : size of z.
    hidden_dim : base width of the conv stack.
    """

    def __init__(self, image_size: int = 64, im_chan: int = 3, latent_dim: int = 128,
                 hidden_dim: int = 32):
        super().__init__()
        self.config = {"image_size": image_size, "im_chan": im_chan, "latent_dim": latent_dim,
                       "hidden_dim": hidden_dim}
        self._build(image_size, im_chan, latent_dim, hidden_dim, cond_dim=0)

    def _build(self, image_size: int, im_chan: int, latent_dim: int, hidden_dim: int,
               cond_dim: int, every: bool = False) -> None:
        self.image_size = image_size
        self.latent_dim = latent_dim
        self.z_dim = latent_dim  # decode() is a generator over z ~ N(0, I)
        self.cond_dim = cond_dim
        widths = _widths(image_size, hidden_dim)
        self.encoder = _Encoder(im_chan + cond_dim, widths, latent_dim)
        self.decoder = _Decoder(latent_dim + cond_dim, widths, im_chan,
                                every_dim=cond_dim if every else 0)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (n, 3, S, S) -> (mu, logvar), each (n, latent_dim)."""
        return self.encoder(x).chunk(2, dim=1)

    #: ``reparameterize(mu, logvar, generator=None)``: z ~ N(mu, exp(logvar)).
    reparameterize = staticmethod(reparameterize)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (n, latent_dim) -> images (n, 3, S, S) in [-1, 1]."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, *, sample: bool | None = None,
                generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(recon, mu, logvar). z is sampled in train mode and is mu in eval mode
        (``sample`` overrides), so eval-mode reconstructions are deterministic."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator) if sampling(self, sample) else mu
        return self.decode(z), mu, logvar


@register_model("cvae")
class ConditionalVAE(VAE):
    """Conditional VAE: the condition enters the encoder (extra channels) and the decoder.

    Parameters
    ----------
    condition_names : names of the C condition entries (e.g. ``["Male", "Smiling"]``).
    image_size, im_chan, latent_dim, hidden_dim : as for :class:`VAE`.
    decoder_condition : ``"input"`` (c joins z at the decoder input) or ``"every"`` (also
        as constant channels at every decoder resolution).
    adversary_hidden : width of the latent adversary ``adversary(mu) -> (n, C)`` logits
        (one hidden layer); 0 = none. It never changes ``encode``/``decode``.
    """

    def __init__(self, condition_names: Sequence[str] = ("Male",), image_size: int = 64,
                 im_chan: int = 3, latent_dim: int = 128, hidden_dim: int = 32,
                 decoder_condition: str = "input", adversary_hidden: int = 0):
        nn.Module.__init__(self)
        names = attribute_names_config(condition_names)
        if decoder_condition not in ("input", "every"):
            raise ValueError("decoder_condition must be 'input' or 'every', got "
                             f"{decoder_condition!r}")
        if adversary_hidden < 0:
            raise ValueError(f"adversary_hidden must be >= 0, got {adversary_hidden}")
        self.config = {"condition_names": list(names), "image_size": image_size,
                       "im_chan": im_chan, "latent_dim": latent_dim, "hidden_dim": hidden_dim,
                       "decoder_condition": decoder_condition,
                       "adversary_hidden": adversary_hidden}
        self.condition_names = names
        self.decoder_condition = decoder_condition
        self._build(image_size, im_chan, latent_dim, hidden_dim, cond_dim=len(names),
                    every=decoder_condition == "every")
        if adversary_hidden:
            self.adversary = nn.Sequential(
                nn.Linear(latent_dim, adversary_hidden), nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(adversary_hidden, adversary_hidden), nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(adversary_hidden, len(names)))             # (n, C) logits of c

    def _check(self, c: torch.Tensor, n: int) -> torch.Tensor:
        if c.shape != (n, self.cond_dim):
            raise ValueError(f"condition must have shape ({n}, {self.cond_dim}) "
                             f"for {list(self.condition_names)}, got {tuple(c.shape)}")
        return c

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (n, 3, S, S) and condition (n, C) -> (mu, logvar)."""
        c = self._check(c, len(x)).to(x.dtype)
        planes = c[:, :, None, None].expand(-1, -1, *x.shape[2:])   # (n, C, S, S) constants
        return self.encoder(torch.cat([x, planes], dim=1)).chunk(2, dim=1)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Latents (n, latent_dim) and condition (n, C) -> images in [-1, 1]."""
        c = self._check(c, len(z)).to(z.dtype)
        return self.decoder(torch.cat([c, z], dim=1) if self.decoder_condition == "every"
                            else torch.cat([z, c], dim=1))         # (n, latent + C)

    def forward(self, x: torch.Tensor, c: torch.Tensor, *, sample: bool | None = None,
                generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(recon, mu, logvar) with the same condition at both ends."""
        mu, logvar = self.encode(x, c)
        z = self.reparameterize(mu, logvar, generator) if sampling(self, sample) else mu
        return self.decode(z, c), mu, logvar
