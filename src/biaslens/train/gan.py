"""GAN training (course DCGAN by default): hinge or BCE loss, Adam 2e-4, betas (0.5, 0.999).

The stable recipe on this project's data is the course generator with DCGAN init against a
spectrally normalised discriminator (``sn_dcgan_discriminator``) and the hinge loss; the
course's BatchNorm discriminator with BCE collapsed in every CPU run (docs/default-models.md).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F

from biaslens.train.data import ImageStore, as_train_data
from biaslens.tensors import to_model_pixels
from biaslens.train.images import save_image
from biaslens.train.loop import EpochSampler, Session, TrainResult, run_config
from biaslens.train.options import RunOptions, resolve_run

__all__ = ["ema_beta", "train_gan", "update_ema"]


def ema_beta(step: int, batch_size: int, ema_kimg: float,
             ema_rampup: float | None = None) -> float:
    """Per-step decay of the weight average after ``step`` steps (1-based) of ``batch_size``.

    StyleGAN's rule: the average has a half-life of ``ema_kimg`` thousand images, capped
    early on at ``ema_rampup`` × the images seen so far so the random init fades quickly.
    """
    ema_nimg = ema_kimg * 1000.0
    if ema_rampup is not None:
        ema_nimg = min(ema_nimg, step * batch_size * ema_rampup)
    return 0.5 ** (batch_size / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    """``ema ← beta·ema + (1 − beta)·model`` for parameters; buffers (BatchNorm statistics)
    are copied."""
    e_p, m_p = list(ema.parameters()), list(model.parameters())
    torch._foreach_lerp_(e_p, m_p, 1.0 - beta)
    for eb, mb in zip(ema.buffers(), model.buffers()):
        eb.copy_(mb)


def train_gan(
    data: Any,                              # cache folder, Cache, TrainData or uint8 (N,H,W,3)
    run: RunOptions | None = None,          # out, steps (2000), batch_size (128), seed, ...
    *,
    lr: float = 2e-4,                       # Adam learning rate of G (and of D unless lr_d)
    lr_d: float | None = None,              # Adam learning rate of D (None: same as lr)
    betas: tuple[float, float] = (0.5, 0.999),  # Adam betas (DCGAN's beta1 = 0.5)
    generator: str = "coursera_dcgan_generator",        # registry name of G
    discriminator: str = "sn_dcgan_discriminator",      # registry name of D
    generator_config: dict[str, Any] | None = None,     # G constructor arguments
    discriminator_config: dict[str, Any] | None = None, # D constructor arguments
    loss: str = "hinge",                    # "hinge" | "bce" (non-saturating, the course's)
    init: str = "dcgan",                    # "dcgan" (N(0, 0.02) convs) | "default" (PyTorch)
    ema_kimg: float | None = None,          # EMA of G's weights, half-life in 1000s of images
    ema_rampup: float | None = 0.05,        # half-life at most this fraction of images seen
    **overrides: Any,                       # RunOptions fields (out=, steps=, n_samples=64, ...)
) -> TrainResult:
    """Train a generator/discriminator pair adversarially.

    Each step: ``D`` on real and ``G(z).detach()``, then ``G`` against ``D(G(z))`` — the
    course's loop, with data from a seeded permutation and losses read back only at log
    steps. ``loss="bce"``: non-saturating BCE (real 1, fake 0; G wants 1).
    ``loss="hinge"``: ``L_D = E[relu(1 − D(x))] + E[relu(1 + D(G(z)))]``, ``L_G = −E[D(G(z))]``.
    ``ema_kimg``: also keep an exponential moving average of G's weights (StyleGAN's
    ``G_ema``), checkpointed as ``generator_ema`` and used for the sample grids; averaging
    smooths the last steps' oscillation, which usually gives a more faithful generator.
    The run options (:class:`RunOptions`) come as ``run`` and/or keywords; the collapse
    guard stops training when the generated images' std stays below ``collapse_std``.

    Examples
    --------
    >>> train_gan("caches/synth64", out="runs/gan", steps=2000)   # doctest: +SKIP
    """
    from biaslens.errors import BiasLensError
    from biaslens.models import build_model, dcgan_init_

    run = resolve_run(run, overrides, "train_gan", steps=2000, batch_size=128, n_samples=64)
    if loss not in ("bce", "hinge"):
        raise BiasLensError(f"loss must be 'bce' or 'hinge'; got {loss!r}")
    if init not in ("default", "dcgan"):
        raise BiasLensError(f"init must be 'default' or 'dcgan'; got {init!r}")
    if ema_kimg is not None and not ema_kimg > 0:
        raise BiasLensError(f"ema_kimg must be > 0 (or None for no EMA); got {ema_kimg!r}")
    td = as_train_data(data)
    cfg = run_config(td, run, dict(
        lr=lr, lr_d=lr if lr_d is None else lr_d, betas=list(betas), loss=loss, init=init,
        ema_kimg=ema_kimg, ema_rampup=ema_rampup if ema_kimg is not None else None,
        generator=generator, discriminator=discriminator,
        generator_config=generator_config or {},
        discriminator_config=discriminator_config or {}))
    if run.dry_run:
        return TrainResult.dry_run("gan", cfg, run)
    s = Session("gan", run, cfg, collapse_key="fake_std")
    dev = s.device
    G = build_model(generator, **(generator_config or {})).to(dev)
    D = build_model(discriminator, **(discriminator_config or {})).to(dev)
    if init == "dcgan":
        dcgan_init_(G, D)                   # before register(): a resume loads over it
    if dev.type == "cuda" or s.precision == "bf16":
        # channels_last: on CUDA, and for oneDNN's bf16 kernels on CPU (up to 1.5x with the
        # BatchNorm discriminator, neutral with spectral norm); fp32 CPU stays NCHW
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    opt_g = s.adam(G.parameters(), lr=lr, betas=betas)
    opt_d = s.adam(D.parameters(), lr=lr if lr_d is None else lr_d, betas=betas)
    noise = s.generator("noise")
    fixed_z = torch.randn(run.n_samples, G.z_dim,
                          generator=torch.Generator().manual_seed(run.seed))
    models = {"generator": G, "discriminator": D}
    G_ema = None
    if ema_kimg is not None:
        G_ema = copy.deepcopy(G).eval().requires_grad_(False)
        models["generator_ema"] = G_ema
    s.register(models=models,
               optimizers={"generator": opt_g, "discriminator": opt_d},
               model_extra={"image_size": list(td.image_size)})
    store = ImageStore(td.images, dev)
    batch_size = run.batch_size
    sampler = EpochSampler(td.indices(run.split), batch_size, seed=run.seed, dist_info=s.dist)
    g_fw = torch.compile(G) if run.compile else G
    d_fw = torch.compile(D) if run.compile else D
    b = sampler.local_batch

    def step_fn(step: int) -> dict[str, torch.Tensor]:
        real = to_model_pixels(store.gather(sampler.batch(step)), dev)      # (b, 3, H, W)
        z = torch.randn(b, G.z_dim, device=dev, generator=noise)
        s.sync_buffers(G, D)
        # --- discriminator: real -> 1, fake -> 0
        opt_d.zero_grad(set_to_none=True)
        with s.autocast():
            fake = g_fw(z)
            d_real = d_fw(real).float()
            d_fake = d_fw(fake.detach()).float()
            if loss == "hinge":
                loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
            else:
                loss_d = 0.5 * (
                    F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        loss_d.backward()
        s.sync_grads(D)
        opt_d.step()
        # --- generator: make D call the same fakes real
        opt_g.zero_grad(set_to_none=True)
        with s.autocast():
            d_gen = d_fw(fake).float()
            if loss == "hinge":
                loss_g = -d_gen.mean()
            else:
                loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        loss_g.backward()
        s.sync_grads(G)
        opt_g.step()
        if G_ema is not None:
            update_ema(G_ema, G, ema_beta(step + 1, batch_size, ema_kimg, ema_rampup))
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "fake_std": fake.detach().float().std()}

    def sample_fn(step: int) -> None:
        if not s.dist.is_main:
            return
        g = G_ema if G_ema is not None else G
        was_training = g.training
        g.eval()
        with torch.no_grad(), s.autocast():
            imgs = g(fixed_z.to(dev))
        g.train(was_training)
        save_image(imgs, s.out / "samples" / f"step_{step:07d}.png")

    try:
        return s.run(step_fn, batch_images=batch_size, sample_fn=sample_fn,
                     epoch_of=sampler.epoch_of)
    finally:
        s.close()
