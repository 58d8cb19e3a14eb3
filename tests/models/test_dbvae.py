"""The DB-VAE architecture (models/dbvae.py): one encoder output split three ways."""

from __future__ import annotations

import torch

from .conftest import build_tiny, make_inputs


def test_dbvae_encoder_splits_logit_mean_logvar():
    model = build_tiny("dbvae")
    (x,) = make_inputs(model)
    with torch.no_grad():
        raw = model.encoder(x)
        y, mu, logvar = model.encode_all(x)
    k = model.latent_dim
    assert raw.shape == (3, 1 + 2 * k)
    torch.testing.assert_close(y, raw[:, 0])
    torch.testing.assert_close(mu, raw[:, 1:1 + k])
    torch.testing.assert_close(logvar, raw[:, 1 + k:])
    torch.testing.assert_close(model.classify(x), raw[:, :1])
