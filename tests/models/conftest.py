"""Shared tiny configs and inputs for the model tests."""

from __future__ import annotations

import torch

from biaslens.models import build_model
from biaslens.models.registry import model_kind

#: A tiny config for every registered architecture (8-16 channels, 32 px where possible).
#: The contract test fails for an architecture missing here, so new ones must add one.
TINY: dict[str, dict] = {
    "coursera_dcgan_generator": {"z_dim": 16, "hidden_dim": 8},
    "coursera_classifier": {"hidden_dim": 8, "attribute_names": ["Male", "Smiling", "Young"]},
    "coursera_dcgan_discriminator": {"hidden_dim": 8},
    "dcgan_generator": {"z_dim": 16, "ngf": 8, "image_size": 32},
    "pytorch_dcgan_generator": {"z_dim": 16, "ngf": 8},
    "dcgan_discriminator": {"ndf": 8, "image_size": 32},
    "sn_dcgan_discriminator": {"ndf": 8, "image_size": 32},
    "resnet_classifier": {"image_size": 32, "widths": [8, 16], "blocks": 1,
                          "attribute_names": ["Male", "Smiling"]},
    "vae": {"image_size": 32, "latent_dim": 8, "hidden_dim": 8},
    "cvae": {"condition_names": ["Male", "Smiling"], "image_size": 32, "latent_dim": 8,
             "hidden_dim": 8},
    "dbvae": {"latent_dim": 8, "n_filters": 4},
    "standard_cnn": {"n_filters": 4},
}


def build_tiny(name: str, seed: int = 0) -> torch.nn.Module:
    """Architecture ``name`` at its tiny config, seeded, in eval mode."""
    torch.manual_seed(seed)
    return build_model(name, **TINY[name]).eval()


def make_inputs(model: torch.nn.Module, n: int = 3, seed: int = 0) -> tuple:
    """Positional inputs for ``model.forward`` following its protocol."""
    g = torch.Generator().manual_seed(seed)
    if model_kind(model) == "generator" and not hasattr(model, "encode"):
        return (torch.randn(n, model.z_dim, generator=g),)
    s = model.image_size
    x = torch.rand(n, 3, s, s, generator=g) * 2 - 1              # images in [-1, 1]
    if hasattr(model, "condition_names"):
        c = (torch.rand(n, len(model.condition_names), generator=g) > 0.5).float()
        return (x, c)
    return (x,)


def as_tuple(out) -> tuple[torch.Tensor, ...]:
    return out if isinstance(out, tuple) else (out,)
