"""VAE and conditional-VAE training: reconstruction (MSE or L1) + beta·KL.

A conditional VAE can also be trained with a **latent adversary** (``adversary > 0``): a
small classifier on the latent mean (``ConditionalVAE.adversary``) is fitted to predict
the condition c, and the encoder pays ``adversary ·`` the cross-entropy between the
adversary's prediction and chance (½), the confusion loss of Tzeng et al. (2015) as used
for removing a protected attribute by Alvi et al. (2018). A latent that carries no c
leaves the decoder only one place to read the condition from: c itself, so flipping c at
the decoder changes what the condition names (the counterfactual of Majumdar et al.).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from biaslens.errors import BiasLensError
from biaslens.train.data import ImageStore, as_train_data, label_tensor
from biaslens.tensors import to_model_pixels
from biaslens.train.images import save_image
from biaslens.train.loop import EpochSampler, Session, TrainResult, run_config
from biaslens.train.options import COLLAPSE_FIELDS, RunOptions, resolve_run

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


def train_vae(
    data: Any,                              # cache folder, Cache, TrainData or uint8 array
    run: RunOptions | None = None,          # out, steps (2000), batch_size (128), seed, ...
    *,
    lr: float = 1e-3,                       # Adam learning rate
    betas: tuple[float, float] = (0.9, 0.999),  # Adam betas
    arch: str | None = None,                # registry name (None: "vae", or "cvae" if condition)
    model_config: dict[str, Any] | None = None,  # constructor arguments (image_size from data)
    beta: float = 1e-3,                     # KL weight; Rec is a per-pixel mean, so 1 collapses
    recon_loss: str = "mse",                # mse | l1, pixel-averaged
    condition: list[str] | None = None,     # condition attribute(s): a conditional VAE (cvae)
    adversary: float = 0.0,                 # weight of the latent adversary's confusion loss
    adversary_lr: float | None = None,      # its Adam learning rate (None: lr)
    **overrides: Any,                       # RunOptions fields (out=, steps=, n_samples=16, ...)
) -> TrainResult:
    """Train a VAE: ``loss = mean_i[Rec_i + beta·KL_i]`` (see :func:`vae_loss`).

    With ``condition`` the run is a conditional VAE (family ``cvae``; :func:`train_cvae`);
    ``adversary > 0`` adds ``adversary · CE(σ(adversary(μ)), ½)`` to the loss and fits the
    model's latent adversary (``model_config["adversary_hidden"]``, default 64) to predict c
    with its own Adam step after each VAE step (module docstring). The sample grids show
    training faces over their reconstructions.

    Examples
    --------
    >>> train_vae("caches/synth64", out="runs/vae", beta=1e-3)   # doctest: +SKIP
    """
    from biaslens.models import build_model
    from biaslens.names import canonical_name

    family = "cvae" if condition else "vae"
    run = resolve_run(run, overrides, f"train_{family}", steps=2000, batch_size=128,
                      n_samples=16)
    arch = arch or family
    if recon_loss not in ("mse", "l1"):
        raise BiasLensError(f"recon_loss must be 'mse' or 'l1', got {recon_loss!r}")
    if adversary < 0 or (adversary and family != "cvae"):
        raise BiasLensError(f"adversary must be >= 0 and needs a condition, got {adversary!r}"
                            f" with condition {condition!r}")
    td = as_train_data(data)
    cond_names = [canonical_name(c, td.attribute_names) for c in condition or []]
    mcfg = dict(model_config or {})
    if family == "cvae":
        mcfg.setdefault("condition_names", cond_names)
    if adversary:
        mcfg.setdefault("adversary_hidden", 64)
    if arch in ("vae", "cvae"):
        mcfg.setdefault("image_size", td.image_size[0])
    cfg = run_config(td, run, dict(lr=lr, betas=list(betas), arch=arch, model_config=mcfg,
                                   beta=beta, recon_loss=recon_loss, condition=cond_names,
                                   adversary=adversary, adversary_lr=adversary_lr),
                     unused=COLLAPSE_FIELDS)
    if run.dry_run:
        return TrainResult.dry_run(family, cfg, run)
    s = Session(family, run, cfg)
    dev = s.device
    model = build_model(arch, **mcfg).to(dev)
    adv = getattr(model, "adversary", None) if adversary else None
    if adversary and adv is None:
        raise BiasLensError(f"adversary={adversary} needs a model with a latent adversary "
                            "(model_config adversary_hidden > 0)")
    adv_ids = {id(p) for p in adv.parameters()} if adv is not None else set()
    opt = s.adam([p for p in model.parameters() if id(p) not in adv_ids], lr=lr, betas=betas)
    optimizers = {family: opt}
    if adv is not None:
        optimizers["adversary"] = s.adam(adv.parameters(), lr=adversary_lr or lr, betas=betas)
    eps_gen = s.generator("eps")
    s.register(models={family: model}, optimizers=optimizers,
               model_extra={"image_size": list(td.image_size), "condition_names": cond_names})
    store = ImageStore(td.images, dev)
    train_idx = td.indices(run.split)
    sampler = EpochSampler(train_idx, run.batch_size, seed=run.seed, dist_info=s.dist)
    cond = (label_tensor(td.attrs, [td.attribute_names.index(c) for c in cond_names])
            if cond_names else None)
    # fixed rows for reconstruction grids, chosen once from the seed
    order = torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(run.seed))
    show = torch.as_tensor(train_idx[order[:run.n_samples].numpy()])
    enc = torch.compile(model.encode) if run.compile else model.encode
    dec = torch.compile(model.decode) if run.compile else model.decode

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
        out = {"recon": rec.detach(), "kl": kl.detach()}
        if adv is not None:  # the encoder is asked to leave the adversary at chance
            conf = F.binary_cross_entropy_with_logits(adv(mu.float()), torch.full_like(c, 0.5))
            loss = loss + adversary * conf
            out["confusion"] = conf.detach()
        loss.backward()
        s.sync_grads(model)
        opt.step()
        out["loss"] = loss.detach()
        if adv is not None:  # then the adversary is fitted to the new latents' c
            aopt = optimizers["adversary"]
            aopt.zero_grad(set_to_none=True)
            logits = adv(mu.detach().float())
            aloss = F.binary_cross_entropy_with_logits(logits, c)
            aloss.backward()
            s.sync_grads(adv)
            aopt.step()
            out["adv_loss"] = aloss.detach()
            out["adv_acc"] = ((logits.detach() > 0).float() == c).float().mean()
        return out

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
        return s.run(step_fn, batch_images=run.batch_size, sample_fn=sample_fn,
                     epoch_of=sampler.epoch_of)
    finally:
        s.close()


def train_cvae(data: Any, run: RunOptions | None = None, *,
               condition: list[str] | None = None, **kwargs: Any) -> TrainResult:
    """Train a conditional VAE; the condition is the 0/1 value of the ``condition``
    attributes (default ``["Male"]``). Every other keyword is :func:`train_vae`'s.

    Examples
    --------
    >>> train_cvae("caches/synth64", out="runs/cvae", condition=["Male"])  # doctest: +SKIP
    """
    return train_vae(data, run, condition=list(condition or ["Male"]), **kwargs)
