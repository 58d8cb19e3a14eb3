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
