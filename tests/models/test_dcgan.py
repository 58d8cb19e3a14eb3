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
