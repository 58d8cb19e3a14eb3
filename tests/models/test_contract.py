"""The contract every registered architecture satisfies (tiny configs)."""

from __future__ import annotations

import json

import pytest
import torch

from biaslens.models import build_model, list_architectures, load_checkpoint, save_checkpoint
from biaslens.models.registry import model_kind

from .conftest import TINY, as_tuple, build_tiny, make_inputs

ARCHS = list_architectures()


def test_every_architecture_has_a_tiny_config():
    assert sorted(TINY) == ARCHS


@pytest.mark.parametrize("name", ARCHS)
def test_config_is_json_and_rebuilds(name):
    model = build_tiny(name)
    assert model.architecture == name
    config = json.loads(json.dumps(model.config))      # JSON-able, and survives a round trip
    rebuilt = build_model(name, **config)
    assert rebuilt.config == model.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == \
        {k: v.shape for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ARCHS)
def test_forward_shapes_and_range(name):
    model = build_tiny(name)
    kind = model_kind(model)
    inputs = make_inputs(model, n=3)
    with torch.no_grad():
        out = as_tuple(model(*inputs))
    s = model.image_size
    assert all(torch.isfinite(o).all() for o in out)
    if kind == "generator":
        (img,) = out
        assert img.shape == (3, 3, s, s)
        assert img.min() >= -1 and img.max() <= 1
    elif kind == "classifier":
        assert out[0].shape == (3, len(model.attribute_names))
    elif kind == "discriminator":
        assert out[0].shape == (3,)
    else:  # vae: (recon, mu, logvar), DB-VAE with a leading face logit
        if name == "dbvae":
            assert out[0].shape == (3,)
            out = out[1:]
        recon, mu, logvar = out
        assert recon.shape == (3, 3, s, s)
        assert mu.shape == logvar.shape == (3, model.latent_dim)
        if name != "dbvae":  # Tanh output; the DB-VAE decoder has no final activation
            assert recon.min() >= -1 and recon.max() <= 1


@pytest.mark.parametrize("name", ARCHS)
def test_gradients_reach_every_parameter(name):
    # Gradients reach every parameter and BN works in train mode on a small batch.
    model = build_tiny(name).train()
    inputs = make_inputs(model, n=4)
    loss = sum(o.float().square().mean() for o in as_tuple(model(*inputs)))
    loss.backward()
    missing = [k for k, p in model.named_parameters() if p.grad is None]
    assert not missing


@pytest.mark.parametrize("name", ARCHS)
def test_save_load_round_trip_identical(name, tmp_path):
    model = build_tiny(name)
    for mod in model.modules():  # non-default BN statistics must survive the trip too
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    save_checkpoint(model, tmp_path / "ckpt", extra={"data": "sha256:abc"})
    loaded, info = load_checkpoint(tmp_path / "ckpt", expected_architecture=name)
    assert not loaded.training
    assert info.architecture == name and info.config == model.config
    assert info.extra == {"data": "sha256:abc"}
    assert info.n_parameters == sum(p.numel() for p in model.parameters())
    inputs = make_inputs(model)
    with torch.no_grad():
        for a, b in zip(as_tuple(model(*inputs)), as_tuple(loaded(*inputs))):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    sd, sd2 = model.state_dict(), loaded.state_dict()
    assert sd.keys() == sd2.keys()
    assert all(torch.equal(sd[k], sd2[k]) for k in sd)


@pytest.mark.parametrize("name", ARCHS)
def test_determinism_with_seed(name):
    a, b, c = build_tiny(name, seed=1), build_tiny(name, seed=1), build_tiny(name, seed=2)
    inputs = make_inputs(a, seed=5)
    with torch.no_grad():
        out_a, out_b, out_c = (as_tuple(m(*inputs))[0] for m in (a, b, c))
    torch.testing.assert_close(out_a, out_b, rtol=0, atol=0)
    assert not torch.equal(out_a, out_c)


@pytest.mark.parametrize("name", ["vae", "cvae", "dbvae"])
def test_vae_sampling_follows_mode_and_generator(name):
    model = build_tiny(name)
    inputs = make_inputs(model)
    with torch.no_grad():
        e1, e2 = as_tuple(model(*inputs)), as_tuple(model(*inputs))
        torch.testing.assert_close(e1, e2, rtol=0, atol=0)          # eval: z = mu
        s1 = model(*inputs, sample=True, generator=torch.Generator().manual_seed(3))
        s2 = model(*inputs, sample=True, generator=torch.Generator().manual_seed(3))
        s3 = model(*inputs, sample=True, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(s1, s2, rtol=0, atol=0)
    recon = 1 if name == "dbvae" else 0
    assert not torch.equal(s1[recon], s3[recon])
    assert not torch.equal(s1[recon], e1[recon])


@pytest.mark.parametrize("name", ARCHS)
def test_every_architecture_plays_exactly_the_roles_of_its_kind(name):
    from biaslens.errors import BiasLensError
    from biaslens.models.registry import MODEL_ROLES, check_role

    model = build_tiny(name)
    kind = model_kind(model)
    for role, kinds in MODEL_ROLES.items():
        fits = kind in kinds and (role != "cvae" or bool(getattr(model, "condition_names", ())))
        if fits:
            check_role(model, role, source="ckpt")
        else:
            with pytest.raises(BiasLensError, match=rf"^ckpt: .*\({type(model).__name__}\)"):
                check_role(model, role, source="ckpt")
