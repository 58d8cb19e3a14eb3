"""Attribute-classifier training: BCE-with-logits on all attributes, held-out AUC.

Every evaluation is compared with the best so far by :data:`BEST_METRIC` (the mean AUC
over the attributes on the evaluation split; the mean accuracy when no AUC is defined);
an improvement saves ``checkpoints/best/classifier`` next to ``checkpoints/latest/``, and
the evaluation line of ``metrics.jsonl`` records the best in its ``best`` field. A
resumed run reads the best back from that folder, so it keeps the one of its first part.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.errors import DataError
from biaslens.io import atomic_folder, write_json
from biaslens.tensors import to_model_pixels
from biaslens.train.data import ImageStore, as_train_data, label_tensor
from biaslens.train.evaluate import evaluate_scores
from biaslens.train.loop import EpochSampler, Session, TrainResult, run_config
from biaslens.train.options import COLLAPSE_FIELDS, RunOptions, resolve_run

__all__ = ["BEST_METRIC", "auto_pos_weight", "best_metric", "train_classifier"]

#: What "best" means for a classifier checkpoint (higher is better; fallback when undefined).
BEST_METRIC = ("mean_auc", "mean_accuracy")
BEST_FOLDER = Path("checkpoints") / "best"


def best_metric(evaluation: dict[str, Any]) -> tuple[str, float] | None:
    """``(name, value)`` of an evaluation by :data:`BEST_METRIC`, or None when neither is
    finite (no evaluation rows)."""
    for name in BEST_METRIC:
        v = evaluation.get(name)
        if isinstance(v, (int, float)) and math.isfinite(v):
            return name, float(v)
    return None


def _read_best(out: Path) -> dict[str, Any] | None:
    """The ``best`` record of a run folder's best checkpoint (None when it has none)."""
    cfg = out / BEST_FOLDER / "classifier" / "config.json"
    if not cfg.is_file():
        return None
    best = json.loads(cfg.read_text()).get("extra", {}).get("best")
    return best if isinstance(best, dict) and "value" in best else None


def _save_best(model: torch.nn.Module, out: Path, extra: dict[str, Any]) -> None:
    """Write ``checkpoints/best/classifier`` whole, then swap it in (as the latest one)."""
    from biaslens.models import save_checkpoint

    atomic_folder(out / BEST_FOLDER,
                  lambda tmp: save_checkpoint(model, tmp / "classifier", extra=extra))


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
    run: RunOptions | None = None,          # out, steps (2000), batch_size (128), seed, ...
    *,
    lr: float = 1e-3,                       # Adam learning rate
    betas: tuple[float, float] = (0.5, 0.999),  # Adam betas (the course's)
    weight_decay: float = 0.0,              # Adam L2 penalty
    arch: str = "coursera_classifier",      # registry name: coursera_classifier | resnet_classifier
    model_config: dict[str, Any] | None = None,  # extra constructor arguments
    attributes: list[str] | None = None,    # attribute subset to learn (default: all)
    pos_weight: str | float | None = None,  # None | "auto" ((1-p)/p, clipped) | a number
    pos_weight_clip: float = 100.0,         # clip for "auto"
    eval_split: str = "val",                # held-out rows for accuracy/AUC
    eval_every: int = 500,                  # evaluation line every N steps (and at the end)
    eval_batch_size: int = 512,             # evaluation batch
    **overrides: Any,                       # RunOptions fields (out=, steps=, device=, ...)
) -> TrainResult:
    """Train a multi-label attribute classifier; evaluates per-attribute accuracy and AUC.

    Draws no sample grids (``sample_every``/``n_samples`` are not used). Keeps the best
    evaluated model by mean AUC (see the module docstring) in ``checkpoints/best/``. An
    architecture that takes ``image_size`` is built at the data's size unless
    ``model_config`` names one; a model whose size differs from the data's is refused.

    Examples
    --------
    >>> train_classifier("caches/synth64", out="runs/clf", pos_weight="auto")  # doctest: +SKIP
    """
    from biaslens.models import build_model
    from biaslens.models.registry import get_architecture
    from biaslens.names import canonical_name

    run = resolve_run(run, overrides, "train_classifier", steps=2000, batch_size=128)
    td = as_train_data(data)
    if td.attrs is None:
        raise DataError("classifier training needs attribute labels", path=td.source,
                        field="attrs")
    names = ([canonical_name(a, td.attribute_names) for a in attributes] if attributes
             else list(td.attribute_names))
    cols = [td.attribute_names.index(a) for a in names]
    train_idx = td.indices(run.split)
    if isinstance(pos_weight, str) and pos_weight != "auto":
        try:
            pos_weight = float(pos_weight)
        except ValueError:
            raise DataError(f"pos_weight must be 'auto' or a number, got {pos_weight!r}",
                            field="pos_weight") from None
    pw = (auto_pos_weight(td.attrs[train_idx][:, cols], pos_weight_clip)
          if pos_weight == "auto" else
          None if pos_weight is None else np.full(len(cols), float(pos_weight)))
    model_config = dict(model_config or {})
    # built at the data's size when the architecture takes one (not recorded: derived)
    build_config = dict(model_config)
    if "image_size" in inspect.signature(get_architecture(arch).__init__).parameters:
        build_config.setdefault("image_size", td.image_size[0])
    cfg = run_config(
        td, run, dict(lr=lr, betas=list(betas), weight_decay=weight_decay, arch=arch,
                      model_config=model_config, attributes=names, pos_weight=pos_weight,
                      pos_weight_values=None if pw is None else pw.tolist()),
        dict(eval_split=eval_split, eval_every=eval_every, eval_batch_size=eval_batch_size),
        unused=(*COLLAPSE_FIELDS, "sample_every", "n_samples"))
    if run.dry_run:
        return TrainResult.dry_run("classifier", cfg, run)
    s = Session("classifier", run, cfg)
    dev = s.device
    model = build_model(arch, attribute_names=names, **build_config).to(dev)
    size = getattr(model, "image_size", None)
    if isinstance(size, int) and (size, size) != tuple(td.image_size):
        raise DataError(f"{arch} works on {size}×{size} images but the data holds "
                        f"{td.image_size[0]}×{td.image_size[1]}", path=td.source,
                        field="image_size")
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = s.adam(model.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
    s.register(models={"classifier": model}, optimizers={"classifier": opt},
               model_extra={"image_size": list(td.image_size), "attribute_names": names})
    store = ImageStore(td.images, dev)
    labels = label_tensor(td.attrs, cols).to(dev if store.data is not None
                                              and store.data.device.type == "cuda" else "cpu")
    sampler = EpochSampler(train_idx, run.batch_size, seed=run.seed, dist_info=s.dist)
    pw_t = None if pw is None else torch.as_tensor(pw, dtype=torch.float32, device=dev)
    fw = torch.compile(model) if run.compile else model
    eval_idx = torch.as_tensor(td.indices(eval_split))
    best = _read_best(s.out) if s.resuming else None      # the first part's best, resumed

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
        logits = s.eval_pass(model, store, eval_idx, eval_batch_size, fw).numpy()
        y = td.attrs[eval_idx.numpy()][:, cols]
        result = evaluate_scores(y, logits, names).to_dict()
        nonlocal best
        scored = best_metric(result)
        if scored is not None and (best is None or best.get("metric") != scored[0]
                                   or scored[1] > best["value"]):
            best = {"metric": scored[0], "value": scored[1], "step": step,
                    "split": eval_split, "checkpoint": str(BEST_FOLDER / "classifier")}
            if s.dist.is_main:
                _save_best(model, s.out, {**s.model_extra, "step": step, "family": "classifier",
                                          "data_hash": s.config.get("data_hash"),
                                          "run": str(s.out), "best": best})
        if best is not None:
            result["best"] = dict(best)
        if s.dist.is_main:   # NaN (an AUC of a one-class column) stays NaN, as in metrics.jsonl
            write_json({"step": step, "split": eval_split, **result}, s.out / "eval.json")
        return result

    try:
        return s.run(step_fn, batch_images=run.batch_size, eval_fn=eval_fn,
                     eval_every=eval_every,
                     epoch_of=sampler.epoch_of)
    finally:
        s.close()
