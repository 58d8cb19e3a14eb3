"""DCGAN architectures (models/dcgan.py): the DCGAN weight init."""

import torch


def test_dcgan_init_draws_conv_weights_with_std_002():
    from biaslens.models import build_model, dcgan_init_

    torch.manual_seed(0)
    g = build_model("coursera_dcgan_generator", hidden_dim=16)
    dcgan_init_(g)
    w = torch.cat([m.weight.flatten() for m in g.modules()
                   if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002
    d = build_model("sn_dcgan_discriminator", ndf=8)
    before = [p.clone() for p in d.parameters()]
    dcgan_init_(d)                      # spectrally normalised convs are left alone
    assert all(torch.equal(a, b) for a, b in zip(before, d.parameters()))


def test_minibatch_std_feature_is_the_group_spread_broadcast_to_its_images():
    from biaslens.models.dcgan import MinibatchStd

    m = MinibatchStd(4)
    x = torch.zeros(8, 2, 3, 3)
    x[:4] = 1.0                     # groups {i, i + 2, i + 4, i + 6}: values 1, 1, 0, 0
    y = m(x)
    assert y.shape == (8, 3, 3, 3) and torch.equal(y[:, :2], x)
    assert torch.allclose(y[:, 2], torch.full((8, 3, 3), 0.5), atol=1e-4)
    same = torch.ones(8, 2, 3, 3)   # no spread: the feature is ~0 (sqrt of the epsilon)
    assert m(same)[:, 2].max() < 1e-3
    # a batch the group does not divide uses the largest divisor (7 is prime: groups of 1)
    assert m(torch.randn(7, 2, 3, 3))[:, 2].max() < 1e-3
    assert m(torch.randn(6, 2, 3, 3))[:, 2].min() > 0.05   # groups of 3


def test_sn_discriminator_with_minibatch_std_builds_trains_and_round_trips(tmp_path):
    import pytest

    from biaslens.models import build_model, load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    d = build_model("sn_dcgan_discriminator", ndf=8, image_size=32, mbstd_group=4)
    out = d(torch.randn(8, 3, 32, 32))
    assert out.shape == (8,)
    out.sum().backward()            # the extra channel reaches the last conv
    assert d.config["mbstd_group"] == 4
    save_checkpoint(d, tmp_path / "d")
    back, _ = load_checkpoint(tmp_path / "d")
    d.eval(), back.eval()
    x = torch.randn(4, 3, 32, 32)
    assert torch.allclose(back(x), d(x))
    with pytest.raises(ValueError, match="mbstd_group"):
        build_model("sn_dcgan_discriminator", ndf=8, mbstd_group=-1)
