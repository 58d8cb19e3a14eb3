"""Counterfactual audit of a conditional VAE: flip the condition, see what changes.

With ``c`` the true 0/1 condition of an image and ``c'`` the flipped one (only the
audited condition column changes; other condition columns keep their true values):

- **recon** ``dec(enc(x, c), c)`` — the baseline;
- **decoder flip** (counterfactual) ``dec(enc(x, c), c')`` — same person, other label;
- **encoder flip** (control) ``dec(enc(x, c'), c)`` — should change little: the encoder
  should not route identity through the condition;
- **scaled** (×``scale``) ``dec(enc(x, c), c + scale·(c' − c))`` — the flip step pushed
  ``scale`` times as far (with ``scale = 2`` and 0/1 coding: 0 → 2, 1 → −1), a probe of
  how the decoder extrapolates the condition.

For each variant the attribute classifier labels the output; the **flip rate** is the
fraction whose classified condition attribute differs from the classification of the
original image (Wilson CI, overall and per group); ``flip_vs_recon`` compares with the
recon's classification instead (isolating the condition from reconstruction loss);
``to_target`` is the fraction classified as the requested label (also per direction of
the flip, ``to_target_by_direction``: a decoder that only ever draws one sex scores 50 %
overall on a balanced set but 0 % one way). *What else
changes*: the mean change of every other attribute's logit (and 0/1 label) between the
decoder flip and the recon, for each direction of the flip separately (e.g.
``Male 1→0`` adds ``Heavy_Makeup``), ranked by magnitude, with paired bootstrap CIs over images.

Example
-------
>>> import torch
>>> class V(torch.nn.Module):          # decoder ignores the condition
...     condition_names = ("Male",)
...     def encode(self, x, c): return x.flatten(1), x.flatten(1)
...     def decode(self, z, c): return z.view(-1, 3, 2, 2)
>>> class C(torch.nn.Module):
...     attribute_names = ["Male", "Smiling"]
...     def forward(self, x): return x[:, :2, 0, 0]
>>> rng = np.random.default_rng(0)
>>> imgs = rng.integers(0, 256, (16, 2, 2, 3), dtype=np.uint8)
>>> attrs = rng.random((16, 2)) < 0.5
>>> res = counterfactual_audit(V(), C(), imgs, attrs, ["Male", "Smiling"], n=16, n_boot=20)
>>> float(res.flip_rate["decoder_flip"])
0.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from biaslens.io import json_float, json_floats
from biaslens.precision import Precision, autocast, resolve_precision
from biaslens.tensors import predict_logits, to_model_pixels, to_uint8_numpy
from biaslens.audit.reconstruct import resolve_group_columns
from biaslens.errors import BiasLensError, DataError
from biaslens.names import canonical_name
from biaslens.options import OPEN_UNIT, POSITIVE, CheckedOptions, Range, resolve_options
from biaslens.stats import bootstrap_ci, wilson_ci

__all__ = ["VARIANTS", "AttributeShift", "CounterfactualOptions", "CounterfactualResult",
           "counterfactual_audit",
           "counterfactual_images", "resolve_condition"]

#: Output variants, in the column order of the picture (after the original).
VARIANTS = ("recon", "decoder_flip", "encoder_flip", "scaled")


@torch.no_grad()
def counterfactual_images(cvae: nn.Module, images: np.ndarray | torch.Tensor,
                          condition: np.ndarray, column: int, *, scale: float = 2.0,
                          batch_size: int = 256, device: str | torch.device = "cpu",
                          precision: str = "fp32") -> dict[str, torch.Tensor]:
    """The four variants of :data:`VARIANTS` as float32 NCHW CPU tensors in [-1, 1].

    ``condition`` is the true 0/1 condition ``(n, C)``; ``column`` the one to flip.
    Deterministic: ``z = μ`` (no sampling). ``precision`` (``fp32 | auto | bf16``) runs
    the CVAE under bf16 autocast.
    """
    device = torch.device(device)
    was = cvae.training
    cvae.eval()
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in VARIANTS}
    try:
        for s in range(0, len(images), batch_size):
            x = to_model_pixels(images[s:s + batch_size]).to(device)
            c = torch.as_tensor(condition[s:s + batch_size], dtype=torch.float32, device=device)
            cf = c.clone()
            cf[:, column] = 1 - c[:, column]
            cs = c + scale * (cf - c)
            with autocast(device, precision):
                mu, _ = cvae.encode(x, c)
                mu_f, _ = cvae.encode(x, cf)
                for k, (z, cc) in zip(VARIANTS, ((mu, c), (mu, cf), (mu_f, c), (mu, cs))):
                    parts[k].append(cvae.decode(z, cc).float().cpu())
    finally:
        cvae.train(was)
    return {k: torch.cat(v) for k, v in parts.items()}


@dataclass
class AttributeShift:
    """Mean change of one attribute between the decoder flip and the recon."""

    name: str
    logit_shift: float
    ci_low: float
    ci_high: float
    prevalence_shift: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (json_float(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class CounterfactualResult:
    """Result of :func:`counterfactual_audit`.

    ``flip_rate[v]`` / ``to_target[v]`` per variant ``v`` (overall, with ``*_ci``);
    ``flip_rate_by_group[v]`` is ``(G,)`` indexed like ``group_labels``. ``shifts`` maps a
    direction (``"Male 0→1"``, ``"Male 1→0"``) to the ranked other attributes.
    ``pairs`` is ``(n_show, 5, H, W, 3)`` uint8: original | recon | decoder flip |
    encoder flip | scaled.
    """

    condition: str
    scale: float
    n: int
    flip_rate: dict[str, float]
    flip_rate_ci: dict[str, tuple[float, float]]
    flip_vs_recon: dict[str, float]
    flip_vs_recon_ci: dict[str, tuple[float, float]]
    to_target: dict[str, float]
    to_target_ci: dict[str, tuple[float, float]]
    groups: list[str]
    group_labels: list[str]
    group_n: np.ndarray
    flip_rate_by_group: dict[str, np.ndarray]
    flip_rate_by_group_ci: dict[str, tuple[np.ndarray, np.ndarray]]
    shifts: dict[str, list[AttributeShift]]
    direction_n: dict[str, int]
    pairs: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    #: ``to_target`` per variant and direction (``"Male 0→1"``): (rate, ci_low, ci_high)
    to_target_by_direction: dict[str, dict[str, tuple[float, float, float]]] = field(
        default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no images)."""
        return {
            "audit": "counterfactual", "condition": self.condition, "scale": self.scale,
            "n": self.n,
            "variants": {v: {"flip_rate": json_float(self.flip_rate[v]),
                             "flip_rate_ci": json_floats(self.flip_rate_ci[v]),
                             "flip_vs_recon": json_float(self.flip_vs_recon[v]),
                             "flip_vs_recon_ci": json_floats(self.flip_vs_recon_ci[v]),
                             "to_target": json_float(self.to_target[v]),
                             "to_target_ci": json_floats(self.to_target_ci[v]),
                             "to_target_by_direction": {
                                 d: json_floats(r)
                                 for d, r in self.to_target_by_direction.get(v, {}).items()},
                             "flip_rate_by_group": json_floats(self.flip_rate_by_group[v]),
                             "flip_rate_by_group_ci": [
                                 json_floats(self.flip_rate_by_group_ci[v][0]),
                                 json_floats(self.flip_rate_by_group_ci[v][1])]}
                         for v in VARIANTS},
            "groups": list(self.groups), "group_labels": list(self.group_labels),
            "group_n": [int(v) for v in self.group_n],
            "what_else_changes": {d: [s.to_dict() for s in rows]
                                  for d, rows in self.shifts.items()},
            "direction_n": dict(self.direction_n),
            "settings": dict(self.settings),
        }


def _shifts(delta_logit: np.ndarray, delta_label: np.ndarray, names: Sequence[str],
            skip: int, n_boot: int, level: float, seed: int, top_k: int) -> list[AttributeShift]:
    """Ranked mean shifts (paired over images) with bootstrap CIs; ``skip`` = condition."""
    mean = delta_logit.mean(0)
    lo = hi = np.full(len(names), np.nan)
    if n_boot > 0 and len(delta_logit) > 1:
        lo, hi, _ = bootstrap_ci(lambda ix: delta_logit[ix].mean(1), len(delta_logit),
                                 n_boot=n_boot, level=level, seed=seed)
    order = [int(j) for j in np.argsort(-np.abs(mean), kind="stable") if j != skip][:top_k]
    prev = delta_label.mean(0)
    return [AttributeShift(names[j], float(mean[j]), float(lo[j]), float(hi[j]),
                           float(prev[j])) for j in order]


def resolve_condition(cvae: nn.Module, condition: str) -> tuple[str, int]:
    """``(canonical name, column)`` of ``condition`` among the CVAE's conditions (aliases
    and case accepted); a :class:`BiasLensError` when the model is not a conditional VAE, an
    :class:`~biaslens.errors.UnknownNameError` when it is not conditioned on ``condition``."""
    cond_names = list(getattr(cvae, "condition_names", None) or [])
    if not cond_names or not (hasattr(cvae, "encode") and hasattr(cvae, "decode")):
        raise BiasLensError("the model is not a conditional VAE (needs condition_names, "
                            "encode(x, c) and decode(z, c))")
    cond = canonical_name(condition, cond_names)
    return cond, cond_names.index(cond)


@dataclass(frozen=True)
class CounterfactualOptions(CheckedOptions):
    """Options of :func:`counterfactual_audit` (its ``**overrides`` name these fields)."""

    RANGES = {"n": Range(1), "scale": POSITIVE, "batch_size": Range(1),
              "n_boot": Range(0), "level": OPEN_UNIT, "top_k": Range(1),
              "n_show": Range(0), "seed": Range(0)}

    condition: str = "Male"               # the condition column to flip
    groups: Sequence[str] = ("Male",)     # group columns of the per-group flip rates
    n: int = 512                          # images audited (seeded subset; all if fewer)
    scale: float = 2.0                    # the scaled variant decodes c + scale·(c' − c)
    batch_size: int = 256                 # encoding / decoding / labelling batch
    n_boot: int = 1000                    # bootstrap resamples of the shift CIs
    level: float = 0.95                   # confidence level of every interval
    top_k: int = 10                       # attributes in each "what else changes" ranking
    n_show: int = 8                       # before/after rows kept for the picture
    seed: int = 0                         # sampling and bootstrap
    device: str | torch.device = "cpu"    # where the CVAE and classifier run
    precision: Precision = "auto"         # model passes: auto | fp32 | bf16 (biaslens.precision)


def counterfactual_audit(cvae: nn.Module, classifier: nn.Module, images: np.ndarray,
                         attrs: np.ndarray, attribute_names: Sequence[str],
                         options: CounterfactualOptions | None = None, *,
                         group_columns: Mapping[str, np.ndarray] | None = None,
                         **overrides: Any) -> CounterfactualResult:
    """Flip a conditional VAE's condition at the decoder and the encoder; measure the effect.

    Parameters
    ----------
    cvae : ``condition_names``, ``encode(x, c)``, ``decode(z, c)`` (0/1 condition coding,
        as the trainer uses).
    classifier : ``attribute_names`` and ``forward(x) -> (n, A)`` logits.
    images, attrs, attribute_names : the pool (uint8 ``(N, H, W, 3)``, bool ``(N, A)``).
    options : :class:`CounterfactualOptions`; ``**overrides`` name its fields.
        ``condition`` must be one of ``cvae.condition_names`` and a classifier attribute;
        ``groups`` are attributes or keys of ``group_columns`` (extra integer columns,
        e.g. ``skin_type``); ``n`` images are audited (a seeded random subset without
        replacement; all if fewer).
    """
    opts = resolve_options(CounterfactualOptions, options, overrides,
                           where="counterfactual_audit")
    condition, groups, n, scale, seed, device = (opts.condition, opts.groups, opts.n,
                                                 opts.scale, opts.seed, opts.device)
    batch_size, n_boot, level, top_k = opts.batch_size, opts.n_boot, opts.level, opts.top_k
    n_show = opts.n_show
    precision = resolve_precision(opts.precision, device)
    cond, column = resolve_condition(cvae, condition)
    cond_names = list(cvae.condition_names)
    attrs = np.asarray(attrs).astype(bool)
    if len(attrs) != len(images):
        raise DataError(f"{len(images)} images but {len(attrs)} attribute rows", field="attrs")
    clf_names = list(getattr(classifier, "attribute_names", None) or [])
    if cond not in clf_names:
        raise BiasLensError(f"the classifier has no attribute {cond!r} to classify the "
                            "condition with")
    t = clf_names.index(cond)
    cidx = [list(attribute_names).index(canonical_name(c, attribute_names)) for c in cond_names]

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(len(attrs))[:min(n, len(attrs))])
    m = len(rows)
    if m < 2:
        raise BiasLensError(f"need at least 2 images; got {m}")
    imgs = np.asarray(images[rows])
    a = attrs[rows]
    cvals = a[:, cidx].astype(np.float32)
    outs = counterfactual_images(cvae, imgs, cvals, column, scale=scale,
                                 batch_size=batch_size, device=device, precision=precision)
    logits = {v: predict_logits(classifier, x, batch_size=batch_size, device=device,
                                precision=precision)
              for v, x in (("original", imgs), *outs.items())}
    orig_label = logits["original"][:, t] > 0
    target = cvals[:, column] < 0.5  # the flipped 0/1 label each image is pushed to

    gnames, gcols, _ = resolve_group_columns(groups, attrs, attribute_names, group_columns)
    gcols = gcols[rows]
    cells, member = np.unique(gcols, axis=0, return_inverse=True)
    member = member.reshape(-1)
    onehot = np.eye(len(cells))[member]  # (m, G)
    group_n = onehot.sum(0)

    flip, flip_ci, to_t, to_t_ci, by_g, by_g_ci, vs_r, vs_r_ci = ({} for _ in range(8))
    to_t_dir: dict[str, dict[str, tuple[float, float, float]]] = {}
    recon_label = logits["recon"][:, t] > 0
    from_one = cvals[:, column] > 0.5  # each image's true condition (direction of its flip)
    for v in VARIANTS:
        lab = logits[v][:, t] > 0
        flipped = lab != orig_label
        # the decoder/scaled variants ask for c'; recon and the encoder flip decode with c
        want = target if v in ("decoder_flip", "scaled") else ~target
        hit = lab == want
        flip[v] = float(flipped.mean())
        flip_ci[v] = tuple(float(x) for x in wilson_ci(flipped.sum(), m, level))
        changed = lab != recon_label  # isolates the condition from reconstruction loss
        vs_r[v] = float(changed.mean())
        vs_r_ci[v] = tuple(float(x) for x in wilson_ci(changed.sum(), m, level))
        to_t[v] = float(hit.mean())
        to_t_ci[v] = tuple(float(x) for x in wilson_ci(hit.sum(), m, level))
        to_t_dir[v] = {}
        for frm in (0, 1):
            sel = from_one == bool(frm)
            if sel.any():
                lo_, hi_ = wilson_ci(hit[sel].sum(), sel.sum(), level)
                to_t_dir[v][f"{cond} {frm}→{1 - frm}"] = (float(hit[sel].mean()), float(lo_),
                                                          float(hi_))
        k = onehot.T @ flipped
        by_g[v] = k / group_n
        by_g_ci[v] = wilson_ci(k, group_n, level)

    names = list(clf_names)
    d_logit = logits["decoder_flip"] - logits["recon"]
    d_label = (logits["decoder_flip"] > 0).astype(float) - (logits["recon"] > 0)
    shifts, dir_n = {}, {}
    for frm in (0, 1):  # each direction of the flip separately
        sel = (cvals[:, column] > 0.5) == bool(frm)  # images whose true condition is frm
        key = f"{cond} {frm}→{1 - frm}"
        dir_n[key] = int(sel.sum())
        if sel.any():
            shifts[key] = _shifts(d_logit[sel], d_label[sel], names, t, n_boot, level,
                                  seed + frm, top_k)

    k_show = min(n_show, m)
    pairs = np.stack([imgs[:k_show]] + [to_uint8_numpy(outs[v][:k_show]) for v in VARIANTS], 1)
    return CounterfactualResult(
        condition=cond, scale=float(scale), n=m, flip_rate=flip, flip_rate_ci=flip_ci,
        flip_vs_recon=vs_r, flip_vs_recon_ci=vs_r_ci,
        to_target=to_t, to_target_ci=to_t_ci, groups=gnames,
        group_labels=[",".join(f"{g}={int(v)}" for g, v in zip(gnames, c)) for c in cells],
        group_n=group_n.astype(int), flip_rate_by_group=by_g, flip_rate_by_group_ci=by_g_ci,
        shifts=shifts, direction_n=dir_n, pairs=pairs, to_target_by_direction=to_t_dir,
        settings={"n": n, "scale": scale, "groups": gnames, "seed": seed, "n_boot": n_boot,
                  "level": level, "top_k": top_k, "condition_coding": "0/1",
                  "device": str(device), "precision": precision})
