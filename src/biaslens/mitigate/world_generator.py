"""A generator with a *known* linear latent structure, for validating latent augmentation.

``WorldGenerator`` maps ``z ~ N(0, I)`` to rendered synthetic-world faces: attribute k is
present when ``d_k^T z + c_k > 0`` for a unit direction ``d_k``, so the true hyperplanes
are known, and the cosine between two directions plants a correlation between their
attributes (``phi = (2/π)·arcsin(cos)`` at prevalence ½). It follows the generator
protocol (``z_dim``; ``forward(z) -> (n, 3, H, W)`` in [-1, 1]) and stands in for a
trained GAN in tests and in the documented experiment when no GAN is available.

Rendering is not differentiable (steering audits need a real GAN). The nuisance of row
``i`` of a batch (pose, colours, lighting) comes from ``(seed, i)``, so ``G(z)`` and
``G(z')`` rendered in the same batch layout share it, like a GAN pair of nearby latents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from biaslens.errors import BiasLensError
from biaslens.names import CELEBA_ATTRIBUTES, canonical_name
from biaslens.tensors import generate_from_latents, to_model_pixels, to_uint8_numpy

__all__ = ["WorldGenerator"]

#: Attributes set on every face (the rest are off unless latent-controlled).
_BASE_ON = ("No_Beard", "Young")


class WorldGenerator(nn.Module):
    """Toy generator: latent-controlled attributes rendered by the synthetic world.

    Parameters
    ----------
    z_dim : latent size.
    attributes : CelebA names controlled by latent directions.
    cosines : ``{"A,B": cos}`` between two controlled directions (planted correlation).
    prevalence : ``{"A": p}``; default ½ for every controlled attribute.
    size : image side.
    seed : seeds the directions and the renderer's nuisance.
    """

    def __init__(self, z_dim: int = 16, attributes: Sequence[str] = ("Wearing_Earrings", "Male"),
                 cosines: Mapping[str, float] | None = None,
                 prevalence: Mapping[str, float] | None = None, size: int = 64, seed: int = 0):
        super().__init__()
        names = [canonical_name(a) for a in attributes]
        if len(names) + 1 > z_dim:
            raise BiasLensError(f"z_dim {z_dim} is too small for {len(names)} attributes "
                                "plus skin tone")
        self.config = {"z_dim": z_dim, "attributes": names, "cosines": dict(cosines or {}),
                       "prevalence": dict(prevalence or {}), "size": size, "seed": seed}
        self.z_dim, self.image_size, self.seed = z_dim, size, seed
        self.names = names
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.standard_normal((z_dim, z_dim)))       # orthonormal columns
        dirs = q[:, :len(names)].T.copy()                               # (k, z_dim)
        for key, c in (cosines or {}).items():
            a, b = (names.index(canonical_name(x.strip())) for x in key.split(","))
            if not -1 < c < 1:
                raise BiasLensError(f"cosine for {key!r} must be in (-1, 1), got {c}")
            dirs[b] = c * dirs[a] + np.sqrt(1 - c * c) * q[:, b]        # cos(d_a, d_b) = c
        self.directions = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
        prev = {canonical_name(k): v for k, v in (prevalence or {}).items()}
        self.offsets = np.array([norm.ppf(prev.get(n, 0.5)) for n in names])
        self.tone_dir = q[:, len(names)]                                # skin tone axis
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)  # device marker

    def attributes_of(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """True attributes bool (n, 40) of latent vectors, in CelebA order."""
        Z = (z.detach().cpu().double().numpy() if isinstance(z, torch.Tensor)
             else np.asarray(z, dtype=float))
        attrs = np.zeros((len(Z), len(CELEBA_ATTRIBUTES)), dtype=bool)
        for a in _BASE_ON:
            attrs[:, CELEBA_ATTRIBUTES.index(a)] = True
        on = Z @ self.directions.T + self.offsets > 0                   # (n, k)
        attrs[:, [CELEBA_ATTRIBUTES.index(n) for n in self.names]] = on
        return attrs

    def skin_tone_of(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """Skin tone in [0, 1] from the tone axis (a standard normal CDF)."""
        Z = (z.detach().cpu().double().numpy() if isinstance(z, torch.Tensor)
             else np.asarray(z, dtype=float))
        return norm.cdf(Z @ self.tone_dir)

    @torch.no_grad()
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (n, z_dim) -> images (n, 3, size, size) in [-1, 1]."""
        from biaslens.world.render import render_faces

        z = z.reshape(len(z), -1)
        imgs = render_faces(self.attributes_of(z), self.skin_tone_of(z), seed=self.seed,
                            size=self.image_size)
        return to_model_pixels(imgs).to(z.device)

    @staticmethod
    def n_train(n: int, val_frac: float = 0.2) -> int:
        """Training rows of :meth:`sample_dataset` ``(n, val_frac=...)``."""
        return n - int(round(n * val_frac))

    def sample_dataset(self, n: int, *, seed: int = 0, val_frac: float = 0.2,
                       batch_size: int = 256):
        """A labelled "real" data set from this world: ``TrainData`` with the true
        attributes of ``n`` faces ``G(z)``, ``z ~ N(0, I)`` (seeded), and a val split.

        Use it as the training data a GAN would have been trained on; a generator with
        zero cosines gives the matching unbiased test world.
        """
        from biaslens.train.data import TrainData

        g = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.z_dim, generator=g)
        imgs = to_uint8_numpy(generate_from_latents(self, z, batch_size=batch_size)) if n \
            else np.zeros((0, self.image_size, self.image_size, 3), np.uint8)
        split = np.zeros(n, dtype=np.int8)
        split[np.random.default_rng(seed).permutation(n)[:n - self.n_train(n, val_frac)]] = 1
        return TrainData(images=imgs, attrs=self.attributes_of(z),
                         attribute_names=list(CELEBA_ATTRIBUTES), split=split,
                         source=f"WorldGenerator(seed={self.seed}) sample seed={seed}")
