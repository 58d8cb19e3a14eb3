"""Attribute-classifier training: BCE-with-logits on all attributes, held-out AUC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.errors import DataError
from biaslens.train.data import ImageStore, as_train_data, label_tensor
from biaslens.tensors import to_model_pixels
from biaslens.train.evaluate import evaluate_scores
from biaslens.train.loop import (EpochSampler, ProgressFn, Session, StopFn, TrainResult,
                                 iter_chunks, _atomic_write_text)

__all__ = ["train_classifier", "auto_pos_weight"]


def auto_pos_weight(attrs: np.ndarray, clip: float = 100.0) -> np.ndarray:
    """``(1 − p) / p`` per attribute from training prevalence ``p``, clipped to [1/clip, clip].

    Up-weights positives of rare attributes so BCE does not learn "always absent".
    """
    p = np.asarray(attrs, dtype=float).mean(0)
    with np.errstate(divide="ignore"):
        w = (1 - p) / p
    return np.clip(np.nan_to_num(w, posinf=clip), 1 / clip, clip)


def train_classifier(
    data: Any,                              # cache folder, Cache or TrainData with attrs
    *,
    out: str | Path,                        # run folder
    steps: int = 2000,                      # optimizer steps
    batch_size: int = 128,                  # global batch
    lr: float = 1e-3,                       # Adam learning rate
    betas: tuple[float, float] = (0.5, 0.999),  # Adam betas (the course's)
    weight_decay: float = 0.0,              # Adam L2 penalty
    arch: str = "coursera_classifier",      # registry name: coursera_classifier | resnet_classifier
    model_config: dict[str, Any] | None = None,  # extra constructor arguments
    attributes: list[str] | None = None,    # attribute subset to learn (default: all)
    pos_weight: str | float | None = None,  # None | "auto" ((1-p)/p, clipped) | a number
    pos_weight_clip: float = 100.0,         # clip for "auto"
    split: str = "train",                   # training rows
    eval_split: str = "val",                # held-out rows for accuracy/AUC
    eval_every: int = 500,                  # evaluation line every N steps (and at the end)
    eval_batch_size: int = 512,             # evaluation batch
    log_every: int = 50,                    # metrics.jsonl line every N steps
    checkpoint_every: int = 1000,           # checkpoints/latest/ every N steps
    resume: bool = False,                   # continue the run in `out`
    device: str = "auto",                   # auto | cpu | cuda
    mixed_precision: bool = True,           # bf16 autocast on CUDA
    compile: bool = False,                  # torch.compile the model
    seed: int = 0,                          # weights and data order
    dry_run: bool = False,                  # return the resolved config only
    command: str | None = None,             # command line recorded in config.json
    progress: ProgressFn | None = None,     # progress(step, steps, metrics)
    should_stop: StopFn | None = None,      # cooperative cancel
) -> TrainResult:
    """Train a multi-label attribute classifier; evaluates per-attribute accuracy and AUC.

    Examples
    --------
    >>> train_classifier("caches/synth64", out="runs/clf", pos_weight="auto")  # doctest: +SKIP
    """
    from biaslens.models import build_model
    from biaslens.names import canonical_name

    td = as_train_data(data)
    if td.attrs is None:
        raise DataError("classifier training needs attribute labels", path=td.source,
                        field="attrs")
    names = ([canonical_name(a, td.attribute_names) for a in attributes] if attributes
             else list(td.attribute_names))
    cols = [td.attribute_names.index(a) for a in names]
    train_idx = td.indices(split)
    if isinstance(pos_weight, str) and pos_weight != "auto":
        try:
            pos_weight = float(pos_weight)
        except ValueError:
            raise DataError(f"pos_weight must be 'auto' or a number, got {pos_weight!r}",
                            field="pos_weight") from None
    pw = (auto_pos_weight(td.attrs[train_idx][:, cols], pos_weight_clip)
          if pos_weight == "auto" else
          None if pos_weight is None else np.full(len(cols), float(pos_weight)))
    cfg = dict(data=td.source, data_hash=td.content_hash, image_size=list(td.image_size),
               batch_size=batch_size, lr=lr, betas=list(betas), weight_decay=weight_decay,
               arch=arch, model_config=model_config or {}, attributes=names,
               pos_weight=pos_weight, pos_weight_values=None if pw is None else pw.tolist(),
               split=split, eval_split=eval_split, eval_every=eval_every,
               eval_batch_size=eval_batch_size, log_every=log_every,
               checkpoint_every=checkpoint_every, mixed_precision=mixed_precision,
               compile=compile)
    if dry_run:
        return TrainResult.dry_run("classifier", out, cfg, steps=steps, seed=seed, device=device)
    s = Session("classifier", out=out, config=cfg, steps=steps, seed=seed, device=device,
                log_every=log_every, sample_every=0, checkpoint_every=checkpoint_every,
                resume=resume, mixed_precision=mixed_precision, progress=progress,
                should_stop=should_stop, command=command)
    dev = s.device
    model = build_model(arch, attribute_names=names, **(model_config or {})).to(dev)
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = s.adam(model.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
    s.register(models={"classifier": model}, optimizers={"classifier": opt},
               model_extra={"image_size": list(td.image_size), "attribute_names": names})
    store = ImageStore(td.images, dev)
    labels = label_tensor(td.attrs, cols).to(dev if store.data is not None
                                              and store.data.device.type == "cuda" else "cpu")
    sampler = EpochSampler(train_idx, batch_size, seed=seed, dist_info=s.dist)
    pw_t = None if pw is None else torch.as_tensor(pw, dtype=torch.float32, device=dev)
    fw = torch.compile(model) if compile else model
    eval_idx = torch.as_tensor(td.indices(eval_split))

    def step_fn(step: int) -> dict[str, torch.Tensor]:
        idx = sampler.batch(step)
        x = to_model_pixels(store.gather(idx), dev)
        y = labels[idx.to(labels.device)].to(dev, non_blocking=True)
        s.sync_buffers(model)
        opt.zero_grad(set_to_none=True)
        with s.autocast():
            logits = fw(x).float()
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw_t)
        loss.backward()
        s.sync_grads(model)
        opt.step()
        return {"loss": loss.detach()}

    def eval_fn(step: int) -> dict[str, Any]:
        if len(eval_idx) == 0:
            return {"n": 0}
        model.eval()
        parts = []
        with torch.no_grad(), s.autocast():
            for sl in iter_chunks(len(eval_idx), eval_batch_size):
                parts.append(fw(to_model_pixels(store.gather(eval_idx[sl]), dev)).float())
        model.train()
        logits = torch.cat(parts).cpu().numpy()
        y = td.attrs[eval_idx.numpy()][:, cols]
        result = evaluate_scores(y, logits, names).to_dict()
        if s.dist.is_main:
            _atomic_write_text(s.out / "eval.json",
                               json.dumps({"step": step, "split": eval_split, **result},
                                          indent=2) + "\n")
        return result

    try:
        return s.run(step_fn, batch_images=batch_size, eval_fn=eval_fn, eval_every=eval_every,
                     epoch_of=sampler.epoch_of)
    finally:
        s.close()
