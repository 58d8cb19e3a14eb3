import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from safetensors.torch import load_file

from biaslens.errors import BiasLensError
from biaslens.train import dbvae_loss, dbvae_sampling_probs, train_dbvae

from .conftest import latest_weights, make_data


def test_loss_applies_vae_term_to_faces_only():
    g = torch.Generator().manual_seed(0)
    x, xh = torch.rand(4, 3, 2, 2, generator=g) * 2 - 1, torch.rand(4, 3, 2, 2, generator=g) * 2 - 1
    mu, lv = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    y, logit = torch.tensor([1.0, 0, 1, 0]), torch.randn(4, 1, generator=g)
    loss, parts = dbvae_loss(x, xh, y, logit, mu, lv, kl_weight=5e-4)
    # per-sample reference computed the slow, obvious way
    total = 0.0
    for i in range(4):
        kl = 0.5 * float((lv[i].exp() + mu[i] ** 2 - 1 - lv[i]).sum())
        rec = float(((x[i] + 1) / 2 - (xh[i] + 1) / 2).abs().mean())
        ce = float(F.binary_cross_entropy_with_logits(logit[i, 0], y[i]))
        total += ce + (5e-4 * kl + rec if y[i] == 1 else 0.0)
    assert np.isclose(float(loss), total / 4, rtol=1e-5)
    assert np.isclose(float(parts["ce"]),
                      float(F.binary_cross_entropy_with_logits(logit[:, 0], y)), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.integers(1, 6))
def test_probs_are_a_distribution(seed, n, k):
    mu = np.random.default_rng(seed).normal(size=(n, k))
    p = dbvae_sampling_probs(mu)
    assert p.shape == (n,) and np.all(p > 0) and np.isclose(p.sum(), 1.0)


def test_rare_latents_get_higher_probability():
    mu = np.concatenate([np.zeros((95, 1)), np.full((5, 1), 10.0)])
    mu += np.random.default_rng(0).normal(scale=1e-3, size=mu.shape)
    p = dbvae_sampling_probs(mu, bins=10, smoothing=1e-3)
    assert p[95:].min() > 10 * p[:95].max()
    # large smoothing -> uniform over the data
    assert np.allclose(dbvae_sampling_probs(mu, smoothing=1e6), 1 / 100, rtol=1e-3)


def test_constant_dimension_gives_uniform():
    p = dbvae_sampling_probs(np.ones((7, 2)))
    assert np.allclose(p, 1 / 7)


def test_dbvae_resume_exact_across_epoch_boundary(tmp_path):
    data = make_data(n=32, faces=True)      # 24 train rows -> 3 steps per epoch at batch 8
    kw = dict(batch_size=8, model_config={"latent_dim": 3, "n_filters": 2}, log_every=1,
              sample_every=0, checkpoint_every=0, device="cpu", seed=1)
    full = train_dbvae(data, out=tmp_path / "f", steps=5, **kw)
    assert full.config["steps_per_epoch"] == 3 and full.evaluation["n"] == 8
    train_dbvae(data, out=tmp_path / "h", steps=4, **kw)
    train_dbvae(data, out=tmp_path / "h", steps=5, resume=True, **kw)
    a, b = latest_weights(tmp_path / "f", "dbvae"), latest_weights(tmp_path / "h", "dbvae")
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = load_file(str(tmp_path / "f" / "checkpoints" / "latest" /
                          "trainer_state.safetensors"))
    p = state["state.p_faces"]
    assert p.shape == (12,) and torch.isclose(p.sum(), torch.tensor(1.0, dtype=p.dtype))


def test_dbvae_needs_face_column(tmp_path, data64):
    with pytest.raises(BiasLensError, match="is_face"):
        train_dbvae(data64, out=tmp_path / "x", steps=1, device="cpu")
