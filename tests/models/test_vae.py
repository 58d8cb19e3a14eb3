"""VAE architectures (models/vae.py): the condition of the conditional VAE."""

from __future__ import annotations

import pytest
import torch

from .conftest import build_tiny, make_inputs


def test_cvae_condition_enters_both_ends():
    model = build_tiny("cvae")
    x, c = make_inputs(model)
    flipped = 1 - c
    with torch.no_grad():
        mu, _ = model.encode(x, c)
        mu_f, _ = model.encode(x, flipped)
        assert not torch.allclose(mu, mu_f)                         # encoder sees c
        assert not torch.allclose(model.decode(mu, c), model.decode(mu, flipped))  # decoder too
    with pytest.raises(ValueError, match="condition must have shape"):
        model.encode(x, c[:, :1])


def test_cvae_every_resolution_conditioning_and_latent_adversary():
    from biaslens.models import build_model

    model = build_model("cvae", condition_names=["Male"], image_size=32, latent_dim=8,
                        hidden_dim=8, decoder_condition="every", adversary_hidden=16).eval()
    convs = [m for m in model.decoder.convs if isinstance(m, torch.nn.ConvTranspose2d)]
    # 32 px: 4 -> 8 -> 16 -> 32, each upsampling conv takes its width + 1 condition channel
    assert [m.in_channels for m in convs] == [33, 17, 9]
    with torch.no_grad():
        model.decoder.fc[0].weight[:, 0] = 0       # no path for c through the input layer
        z = torch.randn(4, 8)
        c = torch.tensor([[0.0], [1.0], [0.0], [1.0]])
        assert not torch.allclose(model.decode(z, c), model.decode(z, 1 - c))  # still used
        mu, _ = model.encode(torch.rand(4, 3, 32, 32) * 2 - 1, c)
        assert model.adversary(mu).shape == (4, 1)
    plain = build_model("cvae", condition_names=["Male"], image_size=32, latent_dim=8,
                        hidden_dim=8)
    assert not hasattr(plain, "adversary") and plain.config["decoder_condition"] == "input"
    with pytest.raises(ValueError, match="decoder_condition"):
        build_model("cvae", decoder_condition="all")
    with pytest.raises(ValueError, match="adversary_hidden"):
        build_model("cvae", adversary_hidden=-1)
