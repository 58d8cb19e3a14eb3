"""Held-out quality of the default models: one evaluator per model kind.

The evaluators are pure compute (models and arrays in, dicts out):
:func:`classifier_quality`, :func:`generator_quality`, :func:`vae_quality`,
:func:`cvae_flip_quality` and :func:`dbvae_quality`. :func:`evaluate_run` loads a trained
run of a recipe and its cache's test split and calls the evaluator that fits; its dict is
what a shipped checkpoint records as ``extra["quality"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biaslens.defaults.recipes import DATASETS, RECIPES
from biaslens.tensors import predict_logits, to_model_pixels

__all__ = ["N_GENERATED", "classifier_logits", "classifier_quality", "cvae_flip_quality",
           "dbvae_quality", "evaluate_run", "generate", "generator_quality", "vae_quality"]

N_GENERATED = 10_000   # generated faces for the prevalence check
_BATCH = 500           # images per forward pass (bounded memory)


def _batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             batch: int = _BATCH) -> torch.Tensor:
    """Apply ``fn`` to ``x`` in chunks under no_grad and concatenate (bounded memory)."""
    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def classifier_logits(clf: nn.Module, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Logits ``(n, A)`` of a classifier on uint8 NHWC images or float NCHW [-1, 1] tensors."""
    return predict_logits(clf, images, batch_size=_BATCH)


def classifier_quality(clf: nn.Module, images: np.ndarray, attrs: np.ndarray,
                       attribute_names: list[str], rendered: list[str]) -> dict[str, Any]:
    """Held-out AUC and accuracy per attribute; the mean AUC over the rendered attributes.

    Parameters
    ----------
    clf : attribute classifier (eval mode).
    images : uint8 (n, H, W, 3) held-out faces; attrs : bool (n, A) their labels.
    attribute_names : the A column names; rendered : the names the renderer draws.
    """
    from biaslens.train.evaluate import evaluate_scores

    logits = classifier_logits(clf, images)
    idx = [attribute_names.index(a) for a in clf.attribute_names]
    ev = evaluate_scores(attrs[:, idx], logits, list(clf.attribute_names)).to_dict()
    auc_r = [ev["auc"][a] for a in rendered]
    return {"n_heldout": int(len(images)),
            "mean_auc_rendered": float(np.nanmean(auc_r)),
            "min_auc_rendered": float(np.nanmin(auc_r)),
            "mean_accuracy_rendered": float(np.mean([ev["accuracy"][a] for a in rendered])),
            "mean_auc_all": ev["mean_auc"],
            "auc": ev["auc"], "accuracy": ev["accuracy"]}


def generate(gen: nn.Module, n: int, *, seed: int, batch: int = _BATCH) -> torch.Tensor:
    """``n`` images from ``z ~ N(0, I)`` drawn by a seeded generator: float NCHW in [-1, 1].

    All ``n`` noise vectors are drawn at once (not per batch), so the images for a seed
    do not depend on ``batch``.
    """
    z = torch.randn(n, gen.z_dim, generator=torch.Generator().manual_seed(seed))
    return _batched(gen, z, batch)


def generator_quality(gen: nn.Module, clf: nn.Module, train_attrs: np.ndarray,
                      heldout_images: np.ndarray, attribute_names: list[str],
                      rendered: list[str], *, n: int = N_GENERATED, seed: int = 0,
                      tolerance: float = 0.05) -> dict[str, Any]:
    """Classifier-predicted prevalence on ``n`` generated faces vs the training data.

    Reports, per rendered attribute, the training label prevalence, the classifier's
    predicted prevalence on held-out real faces (what a perfect generator would score,
    so the classifier's own bias is visible) and on generated faces; an attribute
    *misses* when ``|generated − training| > tolerance``. ``n_within_tolerance_of_real``
    counts the like-for-like comparison, ``|generated − classifier_on_real| ≤ tolerance``
    (the generator's own error, with the classifier's bias the same on both sides).
    """
    fake = generate(gen, n, seed=seed)
    pred_fake = classifier_logits(clf, fake) > 0
    pred_real = classifier_logits(clf, heldout_images) > 0
    names = list(clf.attribute_names)
    rows, misses, misses_real = {}, [], []
    for a in rendered:
        j = names.index(a)
        train_p = float(train_attrs[:, attribute_names.index(a)].mean())
        gen_p, real_p = float(pred_fake[:, j].mean()), float(pred_real[:, j].mean())
        rows[a] = {"training": train_p, "classifier_on_real": real_p,
                   "generated": gen_p, "difference": gen_p - train_p,
                   "difference_from_real": gen_p - real_p}
        if abs(gen_p - train_p) > tolerance:
            misses.append(a)
        if abs(gen_p - real_p) > tolerance:
            misses_real.append(a)
    diffs = np.array([r["difference"] for r in rows.values()])
    return {"n_generated": n, "seed": seed, "tolerance": tolerance,
            "n_within_tolerance": len(rendered) - len(misses), "n_rendered": len(rendered),
            "misses": misses, "mean_abs_difference": float(np.abs(diffs).mean()),
            "n_within_tolerance_of_real": len(rendered) - len(misses_real),
            "misses_of_real": misses_real,
            "max_abs_difference": float(np.abs(diffs).max()),
            "pixel_std": float(fake.std()), "pixel_mean": float(fake.mean()),
            "prevalence": rows}


def vae_quality(vae: nn.Module, images: np.ndarray, cond: np.ndarray | None = None
                ) -> dict[str, Any]:
    """Held-out reconstruction error (eval mode, ``z = mu``) on the [-1, 1] scale.

    ``cond`` (n, C) is the 0/1 condition of a conditional VAE (None for a plain VAE).
    """
    x = to_model_pixels(images)
    c = None if cond is None else torch.as_tensor(cond, dtype=torch.float32)
    mse, mae, kl = [], [], []
    with torch.no_grad():
        for i in range(0, len(x), _BATCH):
            b = slice(i, i + _BATCH)
            recon, mu, logvar = vae(x[b]) if c is None else vae(x[b], c[b])
            d = recon - x[b]
            mse.append(d.pow(2).mean((1, 2, 3)))
            mae.append(d.abs().mean((1, 2, 3)))
            kl.append(0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(1))
    return {"n_heldout": int(len(x)), "recon_mse": float(torch.cat(mse).mean()),
            "recon_mae": float(torch.cat(mae).mean()), "kl_per_image": float(torch.cat(kl).mean())}


def cvae_flip_quality(cvae: nn.Module, clf: nn.Module, images: np.ndarray, cond: np.ndarray,
                      attribute: str = "Male") -> dict[str, Any]:
    """Does the decoder follow the condition? Classifier ``attribute`` rate on held-out
    reconstructions decoded with condition 0 and with condition 1 (encoder sees the truth)."""
    x = to_model_pixels(images)
    c = torch.as_tensor(cond, dtype=torch.float32)
    j = list(clf.attribute_names).index(attribute)
    rates = {}
    with torch.no_grad():
        mu = torch.cat([cvae.encode(x[i:i + _BATCH], c[i:i + _BATCH])[0]
                        for i in range(0, len(x), _BATCH)])
        for v in (0.0, 1.0):
            cv = torch.full_like(c, v)
            out = torch.cat([cvae.decode(mu[i:i + _BATCH], cv[i:i + _BATCH])
                             for i in range(0, len(mu), _BATCH)])
            rates[f"{attribute}_rate_decoded_as_{int(v)}"] = float(
                (classifier_logits(clf, out)[:, j] > 0).mean())
    return rates


def dbvae_quality(dbvae: nn.Module, images: np.ndarray, is_face: np.ndarray) -> dict[str, Any]:
    """Held-out face-detection accuracy (logit > 0) on faces and on non-faces."""
    from biaslens.train.evaluate import rank_auc

    logit = _batched(lambda b: dbvae.classify(b)[:, 0], to_model_pixels(images)).numpy()
    pred = logit > 0
    is_face = np.asarray(is_face, dtype=bool)
    return {"n_heldout": int(len(images)), "accuracy": float((pred == is_face).mean()),
            "face_recall": float(pred[is_face].mean()),
            "nonface_rejection": float((~pred[~is_face]).mean()),
            "auc": float(rank_auc(is_face, logit))}


def evaluate_run(name: str, root: Path) -> dict[str, Any]:
    """Held-out quality of the trained run ``root/run-<name>`` on its cache's test split
    (the generator and CVAE checks also need the classifier run ``root/run-classifier``)."""
    from biaslens.data.cache import load_cache
    from biaslens.models import load_checkpoint
    from biaslens.world.render import RENDERED_ATTRIBUTES

    rec = RECIPES[name]
    model, _ = load_checkpoint(root / f"run-{name}" / "checkpoints" / "latest" / rec.model_folder)
    cache = load_cache(root / DATASETS[rec.dataset]["folder"])
    names = list(cache.attribute_names)
    test = np.flatnonzero(cache.split == 2)
    images = np.asarray(cache.images[test])
    rendered = list(RENDERED_ATTRIBUTES)
    if name == "dbvae":
        col = cache.group_names.index("is_face")
        return dbvae_quality(model, images, cache.groups[test, col] == 1)
    if name == "classifier":
        return classifier_quality(model, images, cache.attrs[test], names, rendered)
    clf, _ = load_checkpoint(root / "run-classifier" / "checkpoints" / "latest" / "classifier")
    if name == "generator":
        train_attrs = cache.attrs[cache.split == 0]
        return generator_quality(model, clf, train_attrs, images, names, rendered)
    if name == "vae":
        return vae_quality(model, images)
    cond = cache.attrs[test][:, [names.index(c) for c in model.condition_names]]
    return {**vae_quality(model, images, cond),
            **cvae_flip_quality(model, clf, images[:1000], cond[:1000])}
