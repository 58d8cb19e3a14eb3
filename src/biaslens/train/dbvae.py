"""DB-VAE (Amini et al. 2019; MIT 6.S191): loss and latent-histogram resampling.

docs/algorithms.md §3.3 (loss), §3.4 (resampling, once per epoch over all training faces),
§3.5 (schedule). Batches are half faces (drawn with the adaptive probabilities) and half
non-faces (a seeded permutation); face vs non-face comes from the ``is_face`` group column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.errors import DataError
from biaslens.train.data import ImageStore, as_train_data
from biaslens.tensors import to_model_pixels
from biaslens.train.images import save_image
from biaslens.train.loop import EpochSampler, Session, TrainResult, _mix, run_config
from biaslens.train.options import COLLAPSE_FIELDS, RunOptions, resolve_run

__all__ = ["dbvae_loss", "dbvae_sampling_probs", "train_dbvae"]


def dbvae_loss(x: torch.Tensor, x_hat: torch.Tensor, y: torch.Tensor, y_logit: torch.Tensor,
               mu: torch.Tensor, logvar: torch.Tensor, *, kl_weight: float = 5e-4
               ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``L = mean_i [CE_i + 1[y_i = 1]·(c·KL_i + Rec_i)]`` with every term shaped (B,).

    ``Rec_i`` is the pixel-mean L1 error on the [0, 1] scale of the lab (images here are
    in [-1, 1], hence the factor ½). The VAE term applies to faces only — the reference
    TF code broadcasts (B,1)×(B,) and the PT code puts the indicator on the wrong term.

    Returns the scalar loss and the batch means of its parts (detached).
    """
    y = y.reshape(-1).float()                                             # (B,)
    y_logit = y_logit.reshape(-1).float()                                 # (B,)
    mu, logvar = mu.float(), logvar.float()
    kl = 0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(1)             # (B,)
    rec = 0.5 * (x.float() - x_hat.float()).abs().flatten(1).mean(1)      # (B,)
    ce = F.binary_cross_entropy_with_logits(y_logit, y, reduction="none")  # (B,)
    vae = kl_weight * kl + rec
    loss = (ce + y * vae).mean()
    n_face = y.sum().clamp_min(1)
    parts = {"ce": ce.mean().detach(), "kl_face": ((kl * y).sum() / n_face).detach(),
             "recon_face": ((rec * y).sum() / n_face).detach()}
    return loss, parts


def dbvae_sampling_probs(mu: np.ndarray, bins: int = 10, smoothing: float = 1e-3) -> np.ndarray:
    """Sampling probability of each face, high where its latent code is rare (§3.4).

    Per latent dimension j: density histogram of ``mu[:, j]`` (``bins`` equal bins over
    its range), outer edges opened to ±inf, ``h̃ = (h + α) / Σ(h + α)``,
    ``p_i^(j) ∝ 1 / h̃[bin of i]``; then ``P_i = max_j p_i^(j)``, normalised to sum 1.
    ``α → 0`` approaches uniform over latent space, large α uniform over the data.

    Parameters
    ----------
    mu : float (N, K) latent means of the training faces.
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or len(mu) == 0:
        raise ValueError(f"mu must be a non-empty (N, K) array, got shape {mu.shape}")
    p = np.zeros(len(mu))
    for j in range(mu.shape[1]):          # loop over latent dims (~100), vectorized over faces
        h, edges = np.histogram(mu[:, j], bins=bins, density=True)
        edges[0], edges[-1] = -np.inf, np.inf
        b = np.digitize(mu[:, j], edges) - 1
        hs = (h + smoothing) / np.sum(h + smoothing)
        pj = 1.0 / hs[b]
        p = np.maximum(p, pj / pj.sum())
    return p / p.sum()


def train_dbvae(
    data: Any,                              # cache folder, Cache or TrainData with `is_face`
    run: RunOptions | None = None,          # out, steps (None: `epochs`), batch_size (32), ...
    *,
    epochs: int = 2,                        # used when steps is None (§3.5: >= 2 recommended)
    lr: float = 5e-4,                       # Adam learning rate (lab)
    betas: tuple[float, float] = (0.9, 0.999),  # Adam betas (Keras/PyTorch defaults)
    arch: str = "dbvae",                    # registry name
    model_config: dict[str, Any] | None = None,  # constructor arguments (latent_dim=100, ...)
    kl_weight: float = 5e-4,                # c in §3.3
    bins: int = 10,                         # histogram bins per latent dimension
    smoothing: float = 1e-3,                # α in §3.4
    uniform_epochs: int = 0,                # warm-up epochs with uniform face sampling
    face_group: str = "is_face",            # group column: 1 face, 0 non-face
    eval_split: str = "val",                # rows for face-detection accuracy
    encode_batch_size: int = 512,           # batch for the per-epoch encoder pass
    **overrides: Any,                       # RunOptions fields (out=, device=, n_samples=16, ...)
) -> TrainResult:
    """Train a DB-VAE face detector with adaptive resampling of rare faces.

    An epoch is ``n_train // batch_size`` steps; at its start the encoder (eval mode, no
    gradients) maps every training face to ``mu`` and :func:`dbvae_sampling_probs` gives
    the face sampling probabilities used for that epoch. The global batch is half faces,
    half non-faces. ``compile`` and the collapse guard are not used.

    Examples
    --------
    >>> train_dbvae("caches/faces_nonfaces", out="runs/dbvae", epochs=2)  # doctest: +SKIP
    """
    from biaslens.models import build_model

    run = resolve_run(run, overrides, "train_dbvae", batch_size=32, n_samples=16)
    td = as_train_data(data)
    is_face = td.group(face_group).astype(bool)
    train_idx = td.indices(run.split)
    faces = train_idx[is_face[train_idx]]
    nonfaces = train_idx[~is_face[train_idx]]
    batch_size = run.batch_size
    half = batch_size // 2
    if batch_size % 2 or len(faces) < half or len(nonfaces) < half:
        raise DataError(f"DB-VAE needs an even batch size and at least {half} faces and "
                        f"{half} non-faces in the {run.split} split (got {len(faces)} faces, "
                        f"{len(nonfaces)} non-faces, batch {batch_size})",
                        path=td.source, field=face_group)
    steps_per_epoch = max(1, len(train_idx) // batch_size)
    run = run.with_defaults(steps=epochs * steps_per_epoch)
    mcfg = dict(model_config or {})
    cfg = run_config(
        td, run, dict(lr=lr, betas=list(betas), arch=arch, model_config=mcfg,
                      kl_weight=kl_weight, bins=bins, smoothing=smoothing,
                      uniform_epochs=uniform_epochs, face_group=face_group),
        dict(eval_split=eval_split, steps_per_epoch=steps_per_epoch,
             encode_batch_size=encode_batch_size),
        unused=(*COLLAPSE_FIELDS, "compile"))
    if run.dry_run:
        return TrainResult.dry_run("dbvae", cfg, run)
    s = Session("dbvae", run, cfg)
    dev = s.device
    model = build_model(arch, **mcfg).to(dev)
    opt = s.adam(model.parameters(), lr=lr, betas=betas)
    eps_gen = s.generator("eps")
    s.state_tensors["p_faces"] = torch.full((len(faces),), 1.0 / len(faces), dtype=torch.float64)
    s.state_tensors["p_epoch"] = torch.tensor([-1])
    s.register(models={"dbvae": model}, optimizers={"dbvae": opt},
               model_extra={"image_size": list(td.image_size), "face_group": face_group})
    store = ImageStore(td.images, dev)
    nonface_sampler = EpochSampler(nonfaces, half, seed=run.seed, dist_info=s.dist, salt=1)
    faces_t = torch.as_tensor(faces)
    local_half = half // s.dist.world_size
    labels = torch.cat([torch.ones(local_half), torch.zeros(local_half)]).to(dev)
    show = faces_t[:run.n_samples]

    def refresh_probs(epoch: int) -> None:
        """Encoder pass over all training faces -> p_faces for this epoch (§3.4)."""
        if epoch < uniform_epochs:
            p = torch.full((len(faces),), 1.0 / len(faces), dtype=torch.float64)
        else:
            mu = s.eval_pass(model, store, faces_t, encode_batch_size,
                             lambda x: model.encode(x)[0])
            p = torch.from_numpy(dbvae_sampling_probs(mu.numpy(), bins, smoothing))
        s.state_tensors["p_faces"] = p
        s.state_tensors["p_epoch"] = torch.tensor([epoch])

    def step_fn(step: int) -> dict[str, torch.Tensor]:
        epoch = step // steps_per_epoch
        if int(s.state_tensors["p_epoch"][0]) != epoch:
            refresh_probs(epoch)
        # the global half-batch of faces is drawn identically on every rank, then sliced
        g = torch.Generator().manual_seed(_mix(run.seed, 7, step))
        pick = torch.multinomial(s.state_tensors["p_faces"], half, replacement=False, generator=g)
        pick = pick[s.dist.rank * local_half:(s.dist.rank + 1) * local_half]
        idx = torch.cat([faces_t[pick], nonface_sampler.batch(step)])
        x = to_model_pixels(store.gather(idx), dev)
        s.sync_buffers(model)
        opt.zero_grad(set_to_none=True)
        with s.autocast():
            y_logit, mu, logvar = model.encode_all(x)
            z = model.reparameterize(mu.float(), logvar.float(), eps_gen)
            x_hat = model.decode(z)
        loss, parts = dbvae_loss(x, x_hat, labels, y_logit, mu, logvar, kl_weight=kl_weight)
        loss.backward()
        s.sync_grads(model)
        opt.step()
        return {"loss": loss.detach(), **parts}

    def eval_fn(step: int) -> dict[str, Any]:
        idx = torch.as_tensor(td.indices(eval_split))
        if len(idx) == 0:
            return {"n": 0}
        pred = s.eval_pass(model, store, idx, encode_batch_size,
                           lambda x: model.encode_all(x)[0]).numpy() > 0
        truth = is_face[idx.numpy()]
        return {"n": int(len(idx)), "face_accuracy": float((pred == truth).mean())}

    def sample_fn(step: int) -> None:
        if not s.dist.is_main:
            return
        model.eval()
        x = to_model_pixels(store.gather(show), dev)
        with torch.no_grad(), s.autocast():
            _, mu, _ = model.encode_all(x)
            recon = model.decode(mu).float()
        model.train()
        save_image(torch.cat([x, recon]), s.out / "samples" / f"step_{step:07d}.png",
                   nrow=min(len(show), 8))

    try:
        return s.run(step_fn, batch_images=batch_size, sample_fn=sample_fn, eval_fn=eval_fn,
                     eval_every=steps_per_epoch, epoch_of=lambda st: st // steps_per_epoch)
    finally:
        s.close()
