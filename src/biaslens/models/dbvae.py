"""MIT 6.S191 standard CNN face classifier and DB-VAE (docs/algorithms.md §3.2).

* ``standard_cnn``: 4 conv blocks (Conv -> ReLU -> BN; BN *after* the activation as in
  the lab), 64 -> 32 -> 16 -> 8 -> 4, flatten (72 * 4 * 4 = 1152 at n_filters 12),
  Linear(1152, 512) + ReLU, Linear(512, n_outputs). With 1 output: 640,889 parameters.
* ``dbvae``: encoder = the standard CNN with 1 + 2k outputs: [face logit, mu (k), logvar (k)];
  decoder = Linear(k, 1152) + ReLU -> (72, 4, 4) -> transposed convs 4 -> 8 -> 16 -> 32 -> 64
  with ReLU between and **no final activation** (as in the PyTorch lab).

biaslens feeds models images in [-1, 1] (the lab used [0, 1]); the DB-VAE decoder is
trained to reconstruct its input, so its outputs are in (approximately) the same [-1, 1]
range, unbounded because there is no final activation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from biaslens.models.registry import attribute_names_config, register_model
from biaslens.models.vae import reparameterize, sampling


def _conv_block(cin: int, cout: int, kernel: int, padding: int) -> nn.Sequential:
    # Conv (stride 2) -> ReLU -> BatchNorm, in the lab's order.
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, 2, padding), nn.ReLU(inplace=True),
                         nn.BatchNorm2d(cout))


class _StandardCNNBody(nn.Module):
    """The lab's CNN: (n, 3, 64, 64) -> (n, n_outputs)."""

    def __init__(self, n_outputs: int, n_filters: int = 12):
        super().__init__()
        f = n_filters
        self.features = nn.Sequential(
            _conv_block(3, f, 5, 2),               # (n, f, 32, 32)
            _conv_block(f, 2 * f, 5, 2),           # (n, 2f, 16, 16)
            _conv_block(2 * f, 4 * f, 3, 1),       # (n, 4f, 8, 8)
            _conv_block(4 * f, 6 * f, 3, 1),       # (n, 6f, 4, 4)
            nn.Flatten(),                          # (n, 96f) = (n, 1152)
        )
        self.fc = nn.Sequential(nn.Linear(6 * f * 16, 512), nn.ReLU(inplace=True),
                                nn.Linear(512, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


@register_model("standard_cnn")
class StandardCNN(nn.Module):
    """The lab's standard CNN face classifier; one logit per name in ``attribute_names``.

    Parameters
    ----------
    n_filters : base width (12 in the lab).
    attribute_names : output names; default ``["Face"]`` (face vs non-face).
    """

    def __init__(self, n_filters: int = 12, attribute_names: Sequence[str] = ("Face",)):
        super().__init__()
        names = attribute_names_config(attribute_names)
        self.config = {"n_filters": n_filters, "attribute_names": list(names)}
        self.attribute_names = names
        self.image_size = 64
        self.net = _StandardCNNBody(len(names), n_filters)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Images (n, 3, 64, 64) -> logits (n, A)."""
        return self.net(image)


class _DBVAEDecoder(nn.Module):
    def __init__(self, latent_dim: int, n_filters: int):
        super().__init__()
        f = n_filters
        self.f = f
        self.fc = nn.Sequential(nn.Linear(latent_dim, 6 * f * 16), nn.ReLU(inplace=True))
        self.convs = nn.Sequential(
            nn.ConvTranspose2d(6 * f, 4 * f, 3, 2, 1, output_padding=1),   # (n, 4f, 8, 8)
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(4 * f, 2 * f, 3, 2, 1, output_padding=1),   # (n, 2f, 16, 16)
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * f, f, 5, 2, 2, output_padding=1),       # (n, f, 32, 32)
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(f, 3, 5, 2, 2, output_padding=1),           # (n, 3, 64, 64), linear
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.convs(self.fc(z).view(len(z), 6 * self.f, 4, 4))


@register_model("dbvae")
class DBVAE(nn.Module):
    """Debiasing VAE (Amini et al. 2019): a face classifier whose encoder is also a VAE's.

    Parameters
    ----------
    latent_dim : k, the latent size (100 in the lab).
    n_filters : base width of encoder and decoder (12 in the lab).
    """

    def __init__(self, latent_dim: int = 100, n_filters: int = 12):
        super().__init__()
        self.config = {"latent_dim": latent_dim, "n_filters": n_filters}
        self.latent_dim = latent_dim
        self.z_dim = latent_dim
        self.image_size = 64
        self.encoder = _StandardCNNBody(1 + 2 * latent_dim, n_filters)
        self.decoder = _DBVAEDecoder(latent_dim, n_filters)

    def encode_all(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images (n, 3, 64, 64) -> (face logit (n,), mu (n, k), logvar (n, k))."""
        out = self.encoder(x)                                       # (n, 1 + 2k)
        k = self.latent_dim
        return out[:, 0], out[:, 1:1 + k], out[:, 1 + k:]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), the VAE protocol."""
        _, mu, logvar = self.encode_all(x)
        return mu, logvar

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Face logits (n, 1); ``forward`` is not the classifier protocol, so no
        ``attribute_names`` on this model."""
        return self.encode_all(x)[0][:, None]

    #: ``reparameterize(mu, logvar, generator=None)`` (logvar is the lab's "logsigma").
    reparameterize = staticmethod(reparameterize)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (n, k) -> reconstructions (n, 3, 64, 64), no final activation."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, *, sample: bool | None = None,
                generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(face logit (n,), recon, mu, logvar). z is sampled in train mode and is mu in
        eval mode (``sample`` overrides)."""
        y_logit, mu, logvar = self.encode_all(x)
        z = self.reparameterize(mu, logvar, generator) if sampling(self, sample) else mu
        return y_logit, self.decode(z), mu, logvar
