"""VAE and conditional-VAE training: reconstruction (MSE or L1) + beta·KL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from biaslens.errors import BiasLensError
from biaslens.train.data import ImageStore, as_train_data, label_tensor
from biaslens.tensors import to_model_pixels
from biaslens.train.images import save_image
from biaslens.train.loop import EpochSampler, ProgressFn, Session, StopFn, TrainResult

__all__ = ["train_vae", "train_cvae", "vae_loss"]


def vae_loss(x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *,
             beta: float = 1.0, recon_loss: str = "mse"
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``mean_i [Rec_i + beta·KL_i]`` with per-sample tensors shaped (B,).

    ``Rec_i`` is the pixel *mean* of the squared (``mse``) or absolute (``l1``) error, so
    its scale does not depend on image size; ``KL_i = ½ Σ_j (exp(lv) + μ² − 1 − lv)``.
    Returns ``(loss, rec.mean(), kl.mean())``.
    """
    diff = (recon.float() - x.float()).flatten(1)
    rec = diff.pow(2).mean(1) if recon_loss == "mse" else diff.abs().mean(1)     # (B,)
    mu, logvar = mu.float(), logvar.float()
    kl = 0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(1)                    # (B,)
    return (rec + beta * kl).mean(), rec.mean(), kl.mean()


def _train_vae_family(family: str, data: Any, *, out, steps, batch_size, lr, betas, arch,
                      model_config, beta, recon_loss, condition, split, log_every,
                      sample_every, n_samples, checkpoint_every, resume, device,
                      mixed_precision, compile, seed, dry_run, command, progress,
                      should_stop) -> TrainResult:
    from biaslens.models import build_model
    from biaslens.names import canonical_name

    if recon_loss not in ("mse", "l1"):
        raise BiasLensError(f"recon_loss must be 'mse' or 'l1', got {recon_loss!r}")
    td = as_train_data(data)
    cond_names: list[str] = []
    if family == "cvae":
        cond_names = [canonical_name(c, td.attribute_names) for c in (condition or ["Male"])]
    mcfg = dict(model_config or {})
    if family == "cvae":
        mcfg.setdefault("condition_names", cond_names)
    if arch in ("vae", "cvae"):
        mcfg.setdefault("image_size", td.image_size[0])
    cfg = dict(data=td.source, data_hash=td.content_hash, image_size=list(td.image_size),
               batch_size=batch_size, lr=lr, betas=list(betas), arch=arch, model_config=mcfg,
               beta=beta, recon_loss=recon_loss, condition=cond_names, split=split,
               log_every=log_every, sample_every=sample_every, n_samples=n_samples,
               checkpoint_every=checkpoint_every, mixed_precision=mixed_precision,
               compile=compile)
    if dry_run:
        return TrainResult.dry_run(family, out, cfg, steps=steps, seed=seed, device=device)
    s = Session(family, out=out, config=cfg, steps=steps, seed=seed, device=device,
                log_every=log_every, sample_every=sample_every,
                checkpoint_every=checkpoint_every, resume=resume,
                mixed_precision=mixed_precision, progress=progress, should_stop=should_stop,
                command=command)
    dev = s.device
    model = build_model(arch, **mcfg).to(dev)
    opt = s.adam(model.parameters(), lr=lr, betas=betas)
    eps_gen = s.generator("eps")
    s.register(models={family: model}, optimizers={family: opt},
               model_extra={"image_size": list(td.image_size), "condition_names": cond_names})
    store = ImageStore(td.images, dev)
    train_idx = td.indices(split)
    sampler = EpochSampler(train_idx, batch_size, seed=seed, dist_info=s.dist)
    cond = (label_tensor(td.attrs, [td.attribute_names.index(c) for c in cond_names])
            if cond_names else None)
    # fixed rows for reconstruction grids, chosen once from the seed
    show = torch.as_tensor(train_idx[torch.randperm(len(train_idx), generator=torch.Generator()
                                                    .manual_seed(seed))[:n_samples].numpy()])
    enc = torch.compile(model.encode) if compile else model.encode
    dec = torch.compile(model.decode) if compile else model.decode

    def forward(x, c, sample: bool):
        args = () if c is None else (c,)
        mu, logvar = enc(x, *args)
        z = model.reparameterize(mu, logvar, eps_gen) if sample else mu
        return dec(z, *args), mu, logvar

    def step_fn(step: int) -> dict[str, torch.Tensor]:
        idx = sampler.batch(step)
        x = to_model_pixels(store.gather(idx), dev)
        c = None if cond is None else cond[idx].to(dev, non_blocking=True)
        s.sync_buffers(model)
        opt.zero_grad(set_to_none=True)
        with s.autocast():
            recon, mu, logvar = forward(x, c, sample=True)
        loss, rec, kl = vae_loss(x, recon, mu, logvar, beta=beta, recon_loss=recon_loss)
        loss.backward()
        s.sync_grads(model)
        opt.step()
        return {"loss": loss.detach(), "recon": rec.detach(), "kl": kl.detach()}

    def sample_fn(step: int) -> None:
        if not s.dist.is_main:
            return
        model.eval()
        x = to_model_pixels(store.gather(show), dev)
        c = None if cond is None else cond[show].to(dev)
        with torch.no_grad(), s.autocast():
            recon, _, _ = forward(x, c, sample=False)
        model.train()
        # rows alternate: originals, then their reconstructions
        save_image(torch.cat([x, recon.float()]), s.out / "samples" / f"step_{step:07d}.png",
                   nrow=min(len(show), 8) if len(show) else None)

    try:
        return s.run(step_fn, batch_images=batch_size, sample_fn=sample_fn,
                     epoch_of=sampler.epoch_of)
    finally:
        s.close()


def train_vae(
    data: Any,                              # cache folder, Cache, TrainData or uint8 array
    *,
    out: str | Path,                        # run folder
    steps: int = 2000,                      # optimizer steps
    batch_size: int = 128,                  # global batch
    lr: float = 1e-3,                       # Adam learning rate
    betas: tuple[float, float] = (0.9, 0.999),  # Adam betas
    arch: str = "vae",                      # registry name
    model_config: dict[str, Any] | None = None,  # constructor arguments (image_size from data)
    beta: float = 1e-3,                     # KL weight; Rec is a per-pixel mean, so 1 collapses
    recon_loss: str = "mse",                # mse | l1, pixel-averaged
    split: str = "train",                   # training rows
    log_every: int = 50,                    # metrics.jsonl every N steps
    sample_every: int = 500,                # reconstruction grid every N steps (and at the end)
    n_samples: int = 16,                    # images in the grid
    checkpoint_every: int = 1000,           # checkpoints/latest/ every N steps
    resume: bool = False,                   # continue the run in `out`
    device: str = "auto",                   # auto | cpu | cuda
    mixed_precision: bool = True,           # bf16 autocast on CUDA
    compile: bool = False,                  # torch.compile encoder/decoder
    seed: int = 0,                          # weights, data order, reparameterisation noise
    dry_run: bool = False,                  # return the resolved config only
    command: str | None = None,             # command line recorded in config.json
    progress: ProgressFn | None = None,     # progress(step, steps, metrics)
    should_stop: StopFn | None = None,      # cooperative cancel
) -> TrainResult:
    """Train a VAE: ``loss = mean_i[Rec_i + beta·KL_i]`` (see :func:`vae_loss`).

    Examples
    --------
    >>> train_vae("caches/synth64", out="runs/vae", beta=1e-3)   # doctest: +SKIP
    """
    return _train_vae_family(
        "vae", data, out=out, steps=steps, batch_size=batch_size, lr=lr, betas=betas,
        arch=arch, model_config=model_config, beta=beta, recon_loss=recon_loss,
        condition=None, split=split, log_every=log_every, sample_every=sample_every,
        n_samples=n_samples, checkpoint_every=checkpoint_every, resume=resume, device=device,
        mixed_precision=mixed_precision, compile=compile, seed=seed, dry_run=dry_run,
        command=command, progress=progress, should_stop=should_stop)


def train_cvae(
    data: Any,                              # cache folder, Cache or TrainData with attrs
    *,
    out: str | Path,                        # run folder
    condition: list[str] | None = None,     # condition attribute(s); default ["Male"]
    steps: int = 2000,                      # optimizer steps
    batch_size: int = 128,                  # global batch
    lr: float = 1e-3,                       # Adam learning rate
    betas: tuple[float, float] = (0.9, 0.999),  # Adam betas
    arch: str = "cvae",                     # registry name
    model_config: dict[str, Any] | None = None,  # constructor arguments
    beta: float = 1e-3,                     # KL weight (see train_vae)
    recon_loss: str = "mse",                # mse | l1
    split: str = "train",                   # training rows
    log_every: int = 50,                    # metrics.jsonl every N steps
    sample_every: int = 500,                # reconstruction grid every N steps
    n_samples: int = 16,                    # images in the grid
    checkpoint_every: int = 1000,           # checkpoints/latest/ every N steps
    resume: bool = False,                   # continue the run in `out`
    device: str = "auto",                   # auto | cpu | cuda
    mixed_precision: bool = True,           # bf16 autocast on CUDA
    compile: bool = False,                  # torch.compile encoder/decoder
    seed: int = 0,                          # weights, data order, noise
    dry_run: bool = False,                  # return the resolved config only
    command: str | None = None,             # command line recorded in config.json
    progress: ProgressFn | None = None,     # progress(step, steps, metrics)
    should_stop: StopFn | None = None,      # cooperative cancel
) -> TrainResult:
    """Train a conditional VAE; the condition is the 0/1 value of the ``condition`` attributes.

    Examples
    --------
    >>> train_cvae("caches/synth64", out="runs/cvae", condition=["Male"])  # doctest: +SKIP
    """
    return _train_vae_family(
        "cvae", data, out=out, steps=steps, batch_size=batch_size, lr=lr, betas=betas,
        arch=arch, model_config=model_config, beta=beta, recon_loss=recon_loss,
        condition=condition, split=split, log_every=log_every, sample_every=sample_every,
        n_samples=n_samples, checkpoint_every=checkpoint_every, resume=resume, device=device,
        mixed_precision=mixed_precision, compile=compile, seed=seed, dry_run=dry_run,
        command=command, progress=progress, should_stop=should_stop)
