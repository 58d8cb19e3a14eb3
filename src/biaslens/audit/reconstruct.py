"""Reconstruction audit: does a VAE reconstruct some intersectional groups worse?

On an audit set balanced over intersectional groups (gender × skin type by default),
every image is encoded and decoded (``z = μ``, deterministic) and each group gets:

- reconstruction error per image in [0, 1] pixel units — ``MSE = mean((x̂ − x)²)`` and
  ``L1 = mean|x̂ − x|`` over pixels and channels with ``x = (x_model + 1)/2`` — averaged
  over the group with a percentile-bootstrap CI;
- *label preservation*: for each group column that is a classifier attribute, the
  fraction of reconstructions the classifier labels like the original's **true**
  label (Wilson CI), next to the same rate on the originals (the classifier's own
  accuracy, so reconstruction loss and classifier error can be told apart).

The worst group (largest mean MSE) is flagged. The **gaps** say whether the groups
differ at all: the worst minus the best group's mean MSE (bootstrap over each group's
images) and, per attribute column, the best minus the worst group's preservation rate
(Newcombe interval of the two Wilson intervals). Worst and best are picked from the same
data, so both intervals are simultaneous over all ``G(G−1)/2`` pairs of groups
(Bonferroni: each at level ``1 − (1 − level)/pairs``): a gap whose interval excludes 0 is
decided whatever pair turned out extreme. A conditional VAE is reconstructed with
its true condition at both ends.

Example
-------
>>> import torch
>>> class V(torch.nn.Module):          # identity "VAE"
...     def encode(self, x): return x.flatten(1), x.flatten(1)
...     def decode(self, z): return z.view(-1, 3, 2, 2)
>>> class C(torch.nn.Module):
...     attribute_names = ["Male"]
...     def forward(self, x): return x[:, :1, 0, 0]
>>> imgs = np.zeros((8, 2, 2, 3), np.uint8); attrs = np.array([[0], [1]] * 4, bool)
>>> res = reconstruct_audit(V(), C(), imgs, attrs, ["Male"], groups=["Male"], per_group=4,
...                         n_boot=20)
>>> res.group_labels, [float(m) for m in res.mse]
(['Male=0', 'Male=1'], [0.0, 0.0])
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from biaslens.io import json_float, json_floats
from biaslens.precision import Precision, autocast, resolve_precision
from biaslens.tensors import predict_logits, to_model_pixels, to_uint8_numpy
from biaslens.errors import BiasLensError, DataError
from biaslens.names import canonical_name
from biaslens.options import OPEN_UNIT, CheckedOptions, Range, resolve_options
from biaslens.stats import bootstrap_ci, newcombe_diff_ci, wilson_ci

__all__ = ["ReconstructOptions", "ReconstructResult", "balanced_sample", "reconstruct_audit",
           "reconstruct_images", "resolve_group_columns"]


def resolve_group_columns(groups: Sequence[str], attrs: np.ndarray,
                          attribute_names: Sequence[str],
                          group_columns: Mapping[str, np.ndarray] | None = None
                          ) -> tuple[list[str], np.ndarray, list[bool]]:
    """Resolve group names to integer columns ``(n, g)``.

    Each name is an attribute (aliases accepted) or a key of ``group_columns`` (e.g.
    ``{"skin_type": cache.groups[:, 0]}``). Returns ``(names, columns, is_attribute)``.
    """
    extra = dict(group_columns or {})
    valid = list(attribute_names) + [k for k in extra if k not in attribute_names]
    names, cols, is_attr = [], [], []
    for g in groups:
        canon = canonical_name(g, valid)  # UnknownNameError lists attributes and groups
        if canon in extra:
            col = np.asarray(extra[canon]).reshape(-1).astype(np.int64)
            if len(col) != len(attrs):
                raise DataError(f"group column has {len(col)} rows, attributes have "
                                f"{len(attrs)}", field=canon)
            is_attr.append(False)
        else:
            col = np.asarray(attrs)[:, list(attribute_names).index(canon)].astype(np.int64)
            is_attr.append(True)
        names.append(canon)
        cols.append(col)
    if not names:
        raise BiasLensError("at least one group column is needed")
    return names, np.stack(cols, 1), is_attr


def balanced_sample(columns: np.ndarray, per_group: int, seed: int = 0
                    ) -> tuple[list[tuple[int, ...]], list[np.ndarray], list[tuple[int, ...]]]:
    """Up to ``per_group`` row indices of each observed group (seeded, without replacement).

    Rows with a negative value in any column (e.g. ``skin_type = -1`` for non-faces) are
    left out. Returns ``(cells, index arrays, missing cells)``; the missing cells are the
    combinations of observed column values with no row at all.
    """
    cols = np.asarray(columns, dtype=np.int64)
    ok = (cols >= 0).all(1)
    rows = np.flatnonzero(ok)
    cells, inverse = np.unique(cols[rows], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))  # one shuffle; groups take their first rows in it
    picked = []
    for c in range(len(cells)):  # loop over groups (few), not samples
        mine = order[inverse[order] == c]
        picked.append(np.sort(rows[mine[:per_group]]))
    values = [np.unique(cols[rows, k]) for k in range(cols.shape[1])]
    present = {tuple(int(v) for v in c) for c in cells}
    missing = [t for t in itertools.product(*[[int(v) for v in vs] for vs in values])
               if t not in present]
    return [tuple(int(v) for v in c) for c in cells], picked, missing


@torch.no_grad()
def reconstruct_images(vae: nn.Module, images: np.ndarray | torch.Tensor,
                       condition: np.ndarray | None = None, *, batch_size: int = 256,
                       device: str | torch.device = "cpu", precision: str = "fp32"
                       ) -> torch.Tensor:
    """Deterministic reconstructions ``decode(μ)`` as float32 NCHW in [-1, 1] (CPU).

    ``condition`` ``(n, C)`` is passed to both ends of a conditional VAE; ``precision``
    (``fp32 | auto | bf16``) runs encoder and decoder under bf16 autocast.
    """
    if not (hasattr(vae, "encode") and hasattr(vae, "decode")):
        raise BiasLensError("the model is not a VAE (protocol: encode(x) -> (mu, logvar), "
                            "decode(z) -> x)")
    device = torch.device(device)
    was = vae.training
    vae.eval()
    out = []
    try:
        for s in range(0, len(images), batch_size):
            x = to_model_pixels(images[s:s + batch_size]).to(device)
            with autocast(device, precision):
                if condition is not None:
                    c = torch.as_tensor(condition[s:s + batch_size], dtype=torch.float32,
                                        device=device)
                    mu, _ = vae.encode(x, c)
                    out.append(vae.decode(mu, c).float().cpu())
                else:
                    mu, _ = vae.encode(x)
                    out.append(vae.decode(mu).float().cpu())
    finally:
        vae.train(was)
    return torch.cat(out)


def _condition_of(model: nn.Module, attrs: np.ndarray, attribute_names: Sequence[str]
                  ) -> np.ndarray | None:
    """The true condition rows ``(n, C)`` of a conditional VAE (0/1 floats), else None."""
    names = list(getattr(model, "condition_names", None) or [])
    if not names:
        return None
    idx = [list(attribute_names).index(canonical_name(c, attribute_names)) for c in names]
    return np.asarray(attrs)[:, idx].astype(np.float32)


@dataclass
class ReconstructResult:
    """Result of :func:`reconstruct_audit`; arrays ``(G,)`` are indexed like ``group_labels``.

    ``preserved`` / ``original_accuracy`` map each attribute group column to ``(G,)``
    arrays (with ``*_ci`` pairs).
    """

    groups: list[str]
    group_labels: list[str]
    cells: list[tuple[int, ...]]
    n: np.ndarray
    mse: np.ndarray
    mse_ci: tuple[np.ndarray, np.ndarray]
    l1: np.ndarray
    l1_ci: tuple[np.ndarray, np.ndarray]
    preserved: dict[str, np.ndarray]
    preserved_ci: dict[str, tuple[np.ndarray, np.ndarray]]
    original_accuracy: dict[str, np.ndarray]
    worst_group: str
    worst_preservation: dict[str, str]
    missing_groups: list[str]
    per_group: int
    examples: np.ndarray | None = None  # (G, 2, k, H, W, 3) uint8: originals, recons
    settings: dict[str, Any] = field(default_factory=dict)
    #: worst − best group mean MSE: simultaneous CI (module docstring), best group's label
    mse_gap_ci: tuple[float, float] = (float("nan"), float("nan"))
    best_group: str = ""
    #: per attribute column: best − worst preservation rate, its simultaneous CI, and the
    #: (best, worst) group labels
    preservation_gap: dict[str, float] = field(default_factory=dict)
    preservation_gap_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    preservation_gap_groups: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def decided(self) -> dict[str, bool]:
        """Whether each gap's interval excludes 0 (``"mse"`` and each attribute column)."""
        out = {"mse": bool(self.mse_gap_ci[0] > 0)}
        out.update({k: bool(v[0] > 0) for k, v in self.preservation_gap_ci.items()})
        return out

    @property
    def mse_gap(self) -> float:
        """Worst minus best group mean MSE."""
        return float(np.nanmax(self.mse) - np.nanmin(self.mse))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no images)."""
        rows = []
        for g, label in enumerate(self.group_labels):
            row = {"group": label, "cell": list(self.cells[g]), "n": int(self.n[g]),
                   "mse": json_float(self.mse[g]),
                   "mse_ci": [json_float(self.mse_ci[0][g]), json_float(self.mse_ci[1][g])],
                   "l1": json_float(self.l1[g]),
                   "l1_ci": [json_float(self.l1_ci[0][g]), json_float(self.l1_ci[1][g])],
                   "preserved": {k: json_float(v[g]) for k, v in self.preserved.items()},
                   "preserved_ci": {k: [json_float(v[0][g]), json_float(v[1][g])]
                                    for k, v in self.preserved_ci.items()},
                   "original_accuracy": {k: json_float(v[g])
                                         for k, v in self.original_accuracy.items()}}
            rows.append(row)
        return {"audit": "reconstruct", "groups": list(self.groups), "per_group": self.per_group,
                "by_group": rows, "worst_group": self.worst_group,
                "worst_preservation": dict(self.worst_preservation),
                "mse_gap": json_float(self.mse_gap), "mse_gap_ci": json_floats(self.mse_gap_ci),
                "best_group": self.best_group,
                "preservation_gap": {k: json_float(v) for k, v in self.preservation_gap.items()},
                "preservation_gap_ci": {k: json_floats(v)
                                        for k, v in self.preservation_gap_ci.items()},
                "preservation_gap_groups": {k: list(v)
                                            for k, v in self.preservation_gap_groups.items()},
                "decided": self.decided, "missing_groups": list(self.missing_groups),
                "mse": json_floats(self.mse), "l1": json_floats(self.l1),
                "settings": dict(self.settings)}


def _label(names: Sequence[str], cell: Sequence[int]) -> str:
    return ",".join(f"{n}={v}" for n, v in zip(names, cell))


@dataclass(frozen=True)
class ReconstructOptions(CheckedOptions):
    """Options of :func:`reconstruct_audit` (its ``**overrides`` name these fields)."""

    RANGES = {"per_group": Range(1), "batch_size": Range(1), "n_boot": Range(0),
              "level": OPEN_UNIT, "n_show": Range(0), "seed": Range(0)}

    groups: Sequence[str] = ("Male", "skin_type")  # group columns crossed into groups
    per_group: int = 500                  # images per group (fewer if it is smaller)
    batch_size: int = 256                 # encoding / decoding / labelling batch
    n_boot: int = 1000                    # bootstrap resamples of the error CIs
    level: float = 0.95                   # confidence level of every interval
    n_show: int = 4                       # example pairs kept per group for the picture
    seed: int = 0                         # sampling and bootstrap
    device: str | torch.device = "cpu"    # where the VAE and classifier run
    precision: Precision = "auto"         # model passes: auto | fp32 | bf16 (biaslens.precision)


def reconstruct_audit(vae: nn.Module, classifier: nn.Module | None,
                      images_uint8: np.ndarray, attrs: np.ndarray,
                      attribute_names: Sequence[str],
                      options: ReconstructOptions | None = None, *,
                      group_columns: Mapping[str, np.ndarray] | None = None,
                      **overrides: Any) -> ReconstructResult:
    """Per-group reconstruction error and label preservation of a VAE.

    Parameters
    ----------
    vae : ``encode``/``decode`` (a conditional VAE gets the true condition at both ends).
    classifier : attribute classifier for label preservation (``None`` skips it).
    images_uint8, attrs, attribute_names : the pool to sample the audit set from
        (uint8 ``(N, H, W, 3)``, bool ``(N, A)``).
    options : :class:`ReconstructOptions`; ``**overrides`` name its fields. ``groups``
        are attribute names or keys of ``group_columns`` (e.g.
        ``{"skin_type": cache.groups[:, 0]}``); ``per_group`` images per group (``n``
        says how many each got); ``n_show`` example pairs per group; ``seed`` seeds the
        sampling and the bootstrap.
    """
    opts = resolve_options(ReconstructOptions, options, overrides, where="reconstruct_audit")
    groups, per_group, batch_size, seed, device = (opts.groups, opts.per_group,
                                                   opts.batch_size, opts.seed, opts.device)
    n_boot, level, n_show = opts.n_boot, opts.level, opts.n_show
    precision = resolve_precision(opts.precision, device)
    attrs = np.asarray(attrs).astype(bool)
    if len(attrs) != len(images_uint8):
        raise DataError(f"{len(images_uint8)} images but {len(attrs)} attribute rows",
                        field="attrs")
    if per_group < 1:
        raise BiasLensError(f"per_group must be >= 1; got {per_group}")
    gnames, cols, is_attr = resolve_group_columns(groups, attrs, attribute_names,
                                                  group_columns)
    cells, picked, missing = balanced_sample(cols, per_group, seed)
    if not cells:
        raise DataError("no rows with non-negative group labels to audit", field="groups")
    idx = np.concatenate(picked)
    sizes = np.array([len(p) for p in picked])
    member = np.repeat(np.arange(len(cells)), sizes)  # group of each audited row
    imgs = np.asarray(images_uint8[idx])  # (m, H, W, 3), sorted within groups
    cond = _condition_of(vae, attrs[idx], attribute_names)
    recon = reconstruct_images(vae, imgs, cond, batch_size=batch_size, device=device,
                               precision=precision)
    x = to_model_pixels(imgs)
    if recon.shape != x.shape:
        raise BiasLensError(f"reconstructions have shape {tuple(recon.shape)} but the images "
                            f"{tuple(x.shape)}; image size must match the VAE")
    diff = (recon - x).div(2).flatten(1)  # [0, 1] pixel units
    mse_i = diff.pow(2).mean(1).double().numpy()
    l1_i = diff.abs().mean(1).double().numpy()

    g_count = len(cells)
    pairs = max(1, g_count * (g_count - 1) // 2)
    level_pair = 1 - (1 - level) / pairs   # simultaneous over every pair of groups
    mse, l1 = np.zeros(g_count), np.zeros(g_count)
    mse_lo, mse_hi, l1_lo, l1_hi = (np.full(g_count, np.nan) for _ in range(4))
    boot_mse = np.full((g_count, max(n_boot, 0)), np.nan)  # per group, for the gap
    for g in range(g_count):  # groups are few; each bootstrap is vectorized
        e = np.stack([mse_i[member == g], l1_i[member == g]], 1)  # (n_g, 2)
        mse[g], l1[g] = e.mean(0)
        if n_boot > 0 and len(e) > 1:
            lo, hi, samples = bootstrap_ci(lambda ix, e=e: e[ix].mean(1), len(e),
                                           n_boot=n_boot, level=level, seed=seed + g)
            mse_lo[g], l1_lo[g] = lo
            mse_hi[g], l1_hi[g] = hi
            boot_mse[g] = samples[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g_worst, g_best = int(np.nanargmax(mse)), int(np.nanargmin(mse))
    gap_ci = (float("nan"), float("nan"))
    d = boot_mse[g_worst] - boot_mse[g_best]  # independent resamples of the two groups
    if n_boot > 0 and np.isfinite(d).all():
        a = (1 - level_pair) / 2
        gap_ci = tuple(float(v) for v in np.quantile(d, [a, 1 - a]))

    preserved, preserved_ci, orig_acc, worst_pres = {}, {}, {}, {}
    pres_gap, pres_gap_ci, pres_gap_groups = {}, {}, {}
    if classifier is not None:
        clf_names = list(getattr(classifier, "attribute_names", None) or [])
        attr_groups = [(k, n) for k, (n, a) in enumerate(zip(gnames, is_attr))
                       if a and n in clf_names]
        if attr_groups:
            lr = predict_logits(classifier, recon, batch_size=batch_size, device=device,
                                precision=precision)
            lo_ = predict_logits(classifier, x, batch_size=batch_size, device=device,
                                 precision=precision)
            onehot = np.eye(g_count)[member]  # (m, G)
            for k, name in attr_groups:
                j = clf_names.index(name)
                truth = cols[idx, k] > 0
                keep = (lr[:, j] > 0) == truth
                hits = onehot.T @ keep
                preserved[name] = hits / sizes
                preserved_ci[name] = wilson_ci(hits, sizes, level)
                orig_acc[name] = (onehot.T @ ((lo_[:, j] > 0) == truth)) / sizes
                lo_w, hi_w = wilson_ci(hits, sizes, level_pair)
                b, w = int(np.argmax(preserved[name])), int(np.argmin(preserved[name]))
                worst_pres[name] = _label(gnames, cells[w])
                p = preserved[name]
                lo_d, hi_d = newcombe_diff_ci(p[b], lo_w[b], hi_w[b], p[w], lo_w[w], hi_w[w])
                pres_gap[name] = float(p[b] - p[w])
                pres_gap_ci[name] = (float(lo_d), float(hi_d))
                pres_gap_groups[name] = (_label(gnames, cells[b]), _label(gnames, cells[w]))

    k_show = max(0, min(n_show, int(sizes.min())))
    examples = None
    if k_show:
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rows = (starts[:, None] + np.arange(k_show)[None]).ravel()
        rec_u8 = to_uint8_numpy(recon[rows])
        examples = np.stack([imgs[rows], rec_u8], 1).reshape(
            g_count, k_show, 2, *imgs.shape[1:]).transpose(0, 2, 1, 3, 4, 5)

    labels = [_label(gnames, c) for c in cells]
    worst = labels[g_worst]
    return ReconstructResult(
        groups=gnames, group_labels=labels, cells=cells, n=sizes, mse=mse,
        mse_ci=(mse_lo, mse_hi), l1=l1, l1_ci=(l1_lo, l1_hi), preserved=preserved,
        preserved_ci=preserved_ci, original_accuracy=orig_acc, worst_group=worst,
        worst_preservation=worst_pres, missing_groups=[_label(gnames, c) for c in missing],
        per_group=per_group, examples=examples, mse_gap_ci=gap_ci, best_group=labels[g_best],
        preservation_gap=pres_gap, preservation_gap_ci=pres_gap_ci,
        preservation_gap_groups=pres_gap_groups,
        settings={"per_group": per_group, "groups": gnames, "seed": seed, "n_boot": n_boot,
                  "level": level, "conditional": cond is not None, "device": str(device),
                  "precision": precision, "gap_level_per_pair": level_pair})
