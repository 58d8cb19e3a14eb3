"""Population audit: does a generator reproduce the attribute and group mix of its data?

Generate ``N`` faces, label them with an attribute classifier, and compare with the
training labels: per-attribute prevalence (difference, ratio, bias amplification),
the share of each intersectional group (fairness discrepancy, Choi et al. 2020), and
per-group prevalence. Classifier error is corrected with the Rogan–Gladen estimator
when the classifier's held-out rates are given (:func:`classifier_rates`).

Formulas (``p̂`` generated, ``p`` data, ``q`` group-share vectors, ``u`` uniform):

- Rogan–Gladen: ``p_true = (p_obs − FPR) / (TPR − FPR)``, clipped to [0, 1];
  undefined (NaN) when ``TPR ≤ FPR``. For intersectional groups the per-attribute
  confusion matrices are combined by a Kronecker product (errors assumed independent
  across attributes given the true cell) and ``q_true = M⁻¹ q_obs`` is clipped and
  renormalized; with one group attribute this *is* Rogan–Gladen.
- difference ``p̂ − p`` (Newcombe hybrid-score CI from the two Wilson intervals),
  ratio ``p̂ / p`` (Katz log CI on the counts; on ``p̂·N`` when corrected).
- bias amplification ``s · (p̂ − p)`` with ``s = sign(p − ½)``: positive when the
  generator pushes further toward the side the data already favours.
- fairness discrepancy ``‖q̂ − r‖₂`` and total variation ``½‖q̂ − r‖₁`` for the
  reference ``r = q`` (data) and ``r = u`` (uniform), with bootstrap CIs over the
  generated samples (the data shares are treated as fixed).
- the reference side: the data prevalences have Wilson intervals and the data group
  shares bootstrap intervals over the data rows; with ``data_clusters`` (the person in
  each training image: CelebA has about 30 photos per person) both are cluster
  bootstraps over people instead (``settings["data_resampling"]`` says which), and the
  difference interval (Newcombe, built from the two sides' intervals) widens with them.
- associations (with ``reference_images``): for every attribute, the slope of its logit
  on the association target's logit across the generated faces against the same slope
  across real training faces, both read by the same classifier (so its own coupling of
  heads is on both sides), with bootstrap CIs and a Benjamini–Hochberg test of the
  excess (:func:`biaslens.audit.steer_reference.compare_with_data`): which associations
  with e.g. Male the generator added or weakened.

Example
-------
>>> import torch
>>> class G(torch.nn.Module):
...     z_dim = 2
...     def forward(self, z):
...         return z[:, :1, None, None].expand(-1, 3, 4, 4).clamp(-1, 1)
>>> class C(torch.nn.Module):
...     attribute_names = ["Male"]
...     def forward(self, x):
...         return x[:, :1, 0, 0] * 10
>>> data = np.array([[1], [0], [0], [0]], bool)
>>> res = population_audit(G(), C(), data, ["Male"], n=400, n_boot=50)
>>> round(float(res.generated[0]), 1), float(res.data[0])
(0.5, 0.25)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from biaslens.audit.dataset import ratio_intervals
from biaslens.audit.steer_reference import DataComparison, compare_with_data
from biaslens.errors import BiasLensError, DataError
from biaslens.names import canonical_name
from biaslens.io import json_float, json_floats
from biaslens.options import OPEN_UNIT, CheckedOptions, Range, resolve_options
from biaslens.precision import Precision, autocast, resolve_precision
from biaslens.stats import (Clusters, as_clusters, bootstrap_ci, katz_ratio_ci,
                            newcombe_diff_ci, resample_unit, rogan_gladen, row_bincount,
                            share_correction, wilson_ci)
from biaslens.tensors import generate_images, is_decoder, predict_logits

__all__ = [
    "ClassifierRates",
    "PopulationOptions",
    "PopulationResult",
    "classifier_rates",
    "generate_images",
    "group_cells",
    "newcombe_diff_ci",
    "population_audit",
    "predict_logits",
    "rogan_gladen",
    "share_correction",
]

CORRECTION_NOTE = ("generated prevalences are corrected for classifier error with the "
                   "Rogan–Gladen estimator p_true = (p_obs − FPR)/(TPR − FPR), clipped to "
                   "[0, 1], using the classifier's TPR/FPR on held-out labelled data")
NO_CORRECTION_NOTE = ("generated prevalences are the classifier's raw labels (no "
                      "classifier_rates given): they include the classifier's own error")


# --------------------------------------------------------------------------- helpers


def _classifier_names(classifier: nn.Module) -> list[str]:
    names = list(getattr(classifier, "attribute_names", None) or [])
    if not names:
        raise BiasLensError("the classifier has no 'attribute_names' (protocol: "
                            "classifier.attribute_names, classifier(x) -> (n, A) logits)")
    return names


def _column_map(clf_names: Sequence[str], data_names: Sequence[str]) -> tuple[list[int], list[int]]:
    """Indices ``(clf_cols, data_cols)`` of the attributes both sides share, by name."""
    clf_cols, data_cols = [], []
    for j, name in enumerate(data_names):
        if name in clf_names:
            clf_cols.append(list(clf_names).index(name))
            data_cols.append(j)
    if not clf_cols:
        raise BiasLensError(f"the classifier's attributes {list(clf_names)[:5]}… share no name "
                            f"with the data's {list(data_names)[:5]}…")
    return clf_cols, data_cols


# --------------------------------------------------------------------------- correction


@dataclass
class ClassifierRates:
    """Per-attribute true/false positive rates of a classifier on labelled data."""

    attribute_names: list[str]
    tpr: np.ndarray
    fpr: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray

    def rates_for(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(tpr, fpr)`` aligned to ``names`` (NaN for attributes not measured)."""
        idx = {n: i for i, n in enumerate(self.attribute_names)}
        tpr = np.array([self.tpr[idx[n]] if n in idx else np.nan for n in names])
        fpr = np.array([self.fpr[idx[n]] if n in idx else np.nan for n in names])
        return tpr, fpr

    def to_dict(self) -> dict[str, Any]:
        return {"attribute_names": list(self.attribute_names), "tpr": json_floats(self.tpr),
                "fpr": json_floats(self.fpr), "n_pos": [int(v) for v in self.n_pos],
                "n_neg": [int(v) for v in self.n_neg]}


def classifier_rates(classifier: nn.Module, images: np.ndarray | torch.Tensor,
                     attrs: np.ndarray, attribute_names: Sequence[str] | None = None, *,
                     batch_size: int = 512, device: str | torch.device = "cpu",
                     precision: str = "fp32") -> ClassifierRates:
    """TPR and FPR of each attribute (logit > 0) on labelled held-out images.

    Parameters
    ----------
    images : uint8 (n, H, W, 3), e.g. the val split of the training cache.
    attrs : bool (n, A') true labels with names ``attribute_names`` (default: the
        classifier's own names, in its order). Attributes are matched by name.
    precision : of the classifier pass (``fp32 | auto | bf16``; pass the audit's).
    """
    clf_names = _classifier_names(classifier)
    data_names = list(attribute_names) if attribute_names is not None else clf_names
    y = np.asarray(attrs).astype(bool)
    if y.ndim != 2 or y.shape[1] != len(data_names) or y.shape[0] != len(images):
        raise DataError(f"attrs must be ({len(images)}, {len(data_names)}); got {y.shape}",
                        field="attrs")
    clf_cols, data_cols = _column_map(clf_names, data_names)
    pred = predict_logits(classifier, images, batch_size=batch_size, device=device,
                          precision=precision)[:, clf_cols] > 0
    y = y[:, data_cols]
    n_pos, n_neg = y.sum(0), (~y).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (pred & y).sum(0) / n_pos
        fpr = (pred & ~y).sum(0) / n_neg
    return ClassifierRates([data_names[j] for j in data_cols], tpr.astype(float),
                           fpr.astype(float), n_pos, n_neg)


# --------------------------------------------------------------------------- groups


def group_cells(labels: np.ndarray) -> np.ndarray:
    """Intersectional cell of each row of a bool ``(n, g)`` matrix: ``Σ_k b_k 2^(g−1−k)``.

    The first column is the most significant bit, so cell order is lexicographic.
    """
    b = np.asarray(labels, dtype=np.int64)
    return b @ (1 << np.arange(b.shape[1])[::-1]) if b.shape[1] else np.zeros(len(b), np.int64)


def _cell_labels(names: Sequence[str]) -> list[str]:
    g = len(names)
    return [",".join(f"{nm}={(c >> (g - 1 - k)) & 1}" for k, nm in enumerate(names))
            for c in range(2 ** g)]


# --------------------------------------------------------------------------- result


@dataclass
class PopulationResult:
    """Result of :func:`population_audit`.

    Arrays ``(A,)`` are indexed like ``attribute_names`` (the attributes both the data
    and the classifier know). ``generated`` is the corrected prevalence when rates were
    given (``corrected`` is True), else the observed one; ``observed`` is always the
    raw classifier rate. Group arrays ``(C,)`` / ``(C, A)`` are indexed like
    ``group_labels`` (cells of ``groups``, first column most significant).
    """

    attribute_names: list[str]
    n_generated: int
    n_data: int
    corrected: bool
    correction_note: str
    observed: np.ndarray                          # (A,) raw classifier prevalence
    observed_ci: tuple[np.ndarray, np.ndarray]    # its Wilson interval
    generated: np.ndarray                         # (A,) corrected if rates were given
    generated_ci: tuple[np.ndarray, np.ndarray]   # Wilson bounds, corrected the same way
    data: np.ndarray                              # (A,) training-label prevalence
    data_ci: tuple[np.ndarray, np.ndarray]        # Wilson, or cluster bootstrap over people
    difference: np.ndarray                        # generated − data
    difference_ci: tuple[np.ndarray, np.ndarray]  # Newcombe hybrid score
    ratio: np.ndarray                             # generated / data
    ratio_ci: tuple[np.ndarray, np.ndarray]       # Katz log interval
    amplification: np.ndarray                     # sign(data − ½) · difference
    amplification_ci: tuple[np.ndarray, np.ndarray]  # the difference's, signed
    tpr: np.ndarray                               # (A,) classifier rates used (NaN: none)
    fpr: np.ndarray
    groups: list[str]
    group_labels: list[str]
    group_share_data: np.ndarray
    group_share_observed: np.ndarray
    group_share_generated: np.ndarray
    group_share_ci: tuple[np.ndarray, np.ndarray]
    discrepancy: dict[str, float]
    discrepancy_ci: dict[str, tuple[float, float]]
    group_prevalence_generated: np.ndarray
    group_prevalence_data: np.ndarray
    condition_agreement: dict[str, dict[str, float]] = field(default_factory=dict)
    association_target: str | None = None
    #: slopes across generated faces (``path_*`` fields; ``generated_*`` in ``to_dict``)
    #: against slopes across the reference images (``data_*``); None without a reference
    associations: DataComparison | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: sentences saying when the labels cannot support the comparison (one label vector
    #: for every face, a group column with one value), so 0/1 shares are not read as facts
    warnings: list[str] = field(default_factory=list)
    #: bootstrap interval of the data (reference) shares: over the data rows, or over
    #: people with ``data_clusters`` (NaN with ``n_boot = 0``)
    group_share_data_ci: tuple[np.ndarray, np.ndarray] | None = None

    def ranked_associations(self, k: int | None = None) -> list[int]:
        """Non-target attribute indices by |excess| of the association comparison, largest
        first (empty without one)."""
        if self.associations is None:
            return []
        e = np.nan_to_num(np.abs(self.associations.excess), nan=-1.0)
        order = [int(i) for i in np.argsort(-e, kind="stable") if e[i] >= 0]
        return order[:k]

    def ranked_amplification(self, k: int | None = None) -> list[int]:
        """Attribute indices by |amplification|, largest first (NaN last)."""
        a = np.nan_to_num(np.abs(self.amplification), nan=-1.0)
        order = np.argsort(-a, kind="stable")
        return [int(i) for i in order[:k]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (undefined numbers as ``None``)."""
        def ci(pair):
            return {"low": json_floats(pair[0]), "high": json_floats(pair[1])}

        def at(pair, j):
            return [json_float(pair[0][j]), json_float(pair[1][j])]

        attrs = [{
            "name": nm, "generated": json_float(self.generated[j]),
            "generated_ci": at(self.generated_ci, j),
            "observed": json_float(self.observed[j]), "data": json_float(self.data[j]),
            "data_ci": at(self.data_ci, j),
            "difference": json_float(self.difference[j]),
            "difference_ci": at(self.difference_ci, j),
            "ratio": json_float(self.ratio[j]), "ratio_ci": at(self.ratio_ci, j),
            "amplification": json_float(self.amplification[j]),
            "amplification_ci": at(self.amplification_ci, j),
            "tpr": json_float(self.tpr[j]), "fpr": json_float(self.fpr[j]),
        } for j, nm in enumerate(self.attribute_names)]
        return {
            "audit": "population",
            "n_generated": self.n_generated, "n_data": self.n_data,
            "corrected": self.corrected, "correction": self.correction_note,
            "attribute_names": list(self.attribute_names),
            "attributes": attrs,
            "groups": {
                "columns": list(self.groups), "labels": list(self.group_labels),
                "share_data": json_floats(self.group_share_data),
                "share_data_ci": (None if self.group_share_data_ci is None
                                  else ci(self.group_share_data_ci)),
                "share_observed": json_floats(self.group_share_observed),
                "share_generated": json_floats(self.group_share_generated),
                "share_generated_ci": ci(self.group_share_ci),
                "prevalence_generated_observed": json_floats(self.group_prevalence_generated),
                "prevalence_data": json_floats(self.group_prevalence_data),
            },
            "fairness_discrepancy": {k: json_float(v) for k, v in self.discrepancy.items()},
            "fairness_discrepancy_ci": {k: [json_float(v[0]), json_float(v[1])]
                                        for k, v in self.discrepancy_ci.items()},
            "condition_agreement": self.condition_agreement,
            "association_target": self.association_target,
            "associations": None if self.associations is None else {
                k.replace("path_", "generated_"): v
                for k, v in self.associations.to_dict().items()},
            "settings": dict(self.settings),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PopulationOptions(CheckedOptions):
    """Options of :func:`population_audit` (its ``**overrides`` name these fields)."""

    RANGES = {"n": Range(2), "batch_size": Range(1), "seed": Range(0), "n_boot": Range(0),
              "level": OPEN_UNIT, "fdr": OPEN_UNIT}

    n: int = 10000                        # generated samples
    batch_size: int = 512                 # generation and labelling batch
    groups: Sequence[str] = ("Male",)     # attributes crossed into groups (2^g cells)
    seed: int = 0                         # noise, condition draw and bootstrap
    device: str | torch.device = "cpu"    # where the generator and classifier run
    n_boot: int = 1000                    # bootstrap resamples (shares, discrepancies)
    level: float = 0.95                   # confidence level of every interval
    association_target: str | None = None  # associations with this (None: first group)
    reference_name: str = "reference"     # what the reference images are, for the report
    fdr: float = 0.05                     # Benjamini–Hochberg rate of the association test
    precision: Precision = "auto"         # model passes: auto | fp32 | bf16 (biaslens.precision)


def label_warnings(pred: np.ndarray, names: Sequence[str], groups: Sequence[str]
                   ) -> list[str]:
    """Sentences for degenerate classifier labels of generated faces ``pred`` ``(n, A)``.

    >>> label_warnings(np.zeros((5, 2), bool), ["Male", "Young"], ["Male"])[0][:58]
    'the classifier gives all 5 generated faces the same labels'
    """
    n = len(pred)
    if n and (pred == pred[0]).all():
        return [f"the classifier gives all {n} generated faces the same labels (constant "
                f"output?): every share is 0 or 1 by construction, and the ratios, "
                f"differences and discrepancies say nothing about the generator"]
    out = []
    for g in groups:
        col = pred[:, list(names).index(g)]
        if n and (col == col[0]).all():
            out.append(f"every generated face is labelled {'' if col[0] else 'not '}{g}: "
                       f"the groups of {g} cannot be compared (a collapsed generator or a "
                       f"classifier that outputs one class)")
    return out


def _discrepancies(q: np.ndarray, q_data: np.ndarray) -> dict[str, np.ndarray]:
    """L2 and TV of share vectors ``q`` (..., C) to the data and to uniform."""
    u = np.full(q.shape[-1], 1.0 / q.shape[-1])
    return {"l2_to_data": np.linalg.norm(q - q_data, axis=-1),
            "tv_to_data": 0.5 * np.abs(q - q_data).sum(-1),
            "l2_to_uniform": np.linalg.norm(q - u, axis=-1),
            "tv_to_uniform": 0.5 * np.abs(q - u).sum(-1)}


def population_audit(generator: nn.Module, classifier: nn.Module, data_attrs: np.ndarray,
                     attribute_names: Sequence[str], options: PopulationOptions | None = None,
                     *, classifier_rates: ClassifierRates | None = None,
                     reference_images: np.ndarray | torch.Tensor | None = None,
                     data_clusters: Clusters | np.ndarray | None = None,
                     **overrides: Any) -> PopulationResult:
    """Compare the attributes of ``n`` generated faces with the training data's labels.

    Parameters
    ----------
    generator : GAN generator (``z_dim``, ``forward(z)``) or (conditional) VAE
        (``decode(z)`` / ``decode(z, c)``); a conditional model gets conditions drawn
        (seeded) from the rows of ``data_attrs``, and ``condition_agreement`` reports how
        often the classifier agrees with the requested condition.
    classifier : ``attribute_names`` and ``forward(x) -> (n, A)`` logits (label = logit > 0).
    data_attrs, attribute_names : the training labels ``(N, A')`` and their names.
    options : :class:`PopulationOptions` (``n``, ``groups``, ``seed``, ``n_boot``, ...);
        ``**overrides`` name its fields (``population_audit(G, C, y, names, n=500)``).
    classifier_rates : from :func:`classifier_rates` on held-out labelled data; enables
        the Rogan–Gladen correction (stated in ``correction_note``).
    reference_images : real training images (uint8 NHWC or float NCHW); enables the
        association comparison against ``association_target`` (default: the first group
        column), tested at Benjamini–Hochberg rate ``fdr`` (needs ``n_boot >= 50``).
    data_clusters : the person in each row of ``data_attrs`` (or a
        :class:`biaslens.stats.Clusters`): the data-side intervals resample people.
    """
    opts = resolve_options(PopulationOptions, options, overrides, where="population_audit")
    n, batch_size, groups, seed, device = (opts.n, opts.batch_size, opts.groups, opts.seed,
                                           opts.device)
    n_boot, level, association_target = opts.n_boot, opts.level, opts.association_target
    data = np.asarray(data_attrs).astype(bool)
    data_names = list(attribute_names)
    if data.ndim != 2 or data.shape[1] != len(data_names) or len(data) == 0:
        raise DataError(f"data_attrs must be (N > 0, {len(data_names)}); got {data.shape}",
                        field="data_attrs")
    clusters = as_clusters(data_clusters, len(data), field="data_clusters")
    clf_names = _classifier_names(classifier)
    clf_cols, data_cols = _column_map(clf_names, data_names)
    names = [data_names[j] for j in data_cols]
    group_names = [canonical_name(g, names) for g in groups]
    gcols = [names.index(g) for g in group_names]
    assoc_name = None
    if reference_images is not None:
        if not group_names and association_target is None:
            raise BiasLensError("the association comparison needs association_target "
                                "(or a group column)")
        assoc_name = canonical_name(association_target or group_names[0], names)
        if n_boot < 50:
            raise BiasLensError(f"the association comparison needs n_boot >= 50; got {n_boot}")
        if len(reference_images) < 10:
            raise BiasLensError("the association comparison needs at least 10 reference "
                                f"images; got {len(reference_images)}")

    # conditional generators: conditions resampled from the data rows (seeded)
    cond_names = list(getattr(generator, "condition_names", None) or [])
    condition = None
    if cond_names and is_decoder(generator):
        cidx = [data_names.index(canonical_name(c, data_names)) for c in cond_names]
        rows = np.random.default_rng(seed).integers(0, len(data), n)
        condition = data[rows][:, cidx].astype(np.float32)

    logits = np.empty((n, len(clf_names)), np.float32)

    precision = resolve_precision(opts.precision, device)

    def keep(x: torch.Tensor, rows: slice) -> None:
        with autocast(device, precision):
            logits[rows] = classifier(x).float().cpu().numpy()

    was = classifier.training
    classifier.eval()
    try:
        with torch.no_grad():
            generate_images(generator, n, batch_size=batch_size, seed=seed, device=device,
                            condition=condition, consumer=keep, precision=precision)
    finally:
        classifier.train(was)
    pred = logits[:, clf_cols] > 0  # (n, A)
    associations = None
    if assoc_name is not None:
        ref_logits = predict_logits(classifier, reference_images, batch_size=batch_size,
                                    device=device, precision=precision)[:, clf_cols]
        associations = compare_with_data(logits[None, :, clf_cols], ref_logits,
                                         names.index(assoc_name), n_boot=n_boot, fdr=opts.fdr,
                                         seed=seed, level=level,
                                         reference=opts.reference_name)
    data = data[:, data_cols]
    n_data = len(data)

    # per-attribute prevalence
    k_gen, k_data = pred.sum(0), data.sum(0)
    p_obs, p_data = k_gen / n, k_data / n_data
    obs_lo, obs_hi = wilson_ci(k_gen, n, level)
    if clusters is not None and n_boot > 0:       # photos of one person are not independent
        dat_lo, dat_hi = ratio_intervals(data.astype(np.float64), np.ones(n_data), clusters,
                                         n_boot=n_boot, level=level, seed=seed)
    else:
        dat_lo, dat_hi = wilson_ci(k_data, n_data, level)
    if classifier_rates is not None:
        tpr, fpr = classifier_rates.rates_for(names)
        p_gen = rogan_gladen(p_obs, tpr, fpr)
        gen_lo, gen_hi = rogan_gladen(obs_lo, tpr, fpr), rogan_gladen(obs_hi, tpr, fpr)
        note = CORRECTION_NOTE
    else:
        tpr = fpr = np.full(len(names), np.nan)
        p_gen, gen_lo, gen_hi = p_obs, obs_lo, obs_hi
        note = NO_CORRECTION_NOTE
    diff = p_gen - p_data
    d_lo, d_hi = newcombe_diff_ci(p_gen, gen_lo, gen_hi, p_data, dat_lo, dat_hi)
    if classifier_rates is not None:  # Katz CI on the corrected count p̂·n (rates taken as exact)
        ratio = np.where(p_data > 0, p_gen / np.where(p_data > 0, p_data, 1), np.nan)
        _, r_lo, r_hi = katz_ratio_ci(np.round(p_gen * n), n, k_data, n_data, level)
    else:
        ratio, r_lo, r_hi = katz_ratio_ci(k_gen, n, k_data, n_data, level)
    side = np.sign(p_data - 0.5)
    amp = side * diff
    a_lo = np.where(side >= 0, side * d_lo, side * d_hi)
    a_hi = np.where(side >= 0, side * d_hi, side * d_lo)

    # intersectional group shares
    g = len(gcols)
    n_cells = 2 ** g
    cell_gen = group_cells(pred[:, gcols])
    cell_data = group_cells(data[:, gcols])
    q_obs = np.bincount(cell_gen, minlength=n_cells) / n
    q_data = np.bincount(cell_data, minlength=n_cells) / n_data
    g_tpr, g_fpr = tpr[gcols], fpr[gcols]

    def shares(idx: np.ndarray) -> np.ndarray:  # (b, n) resamples -> (b, C) shares
        q = row_bincount(cell_gen[idx], n_cells) / n
        return share_correction(q, g_tpr, g_fpr) if classifier_rates is not None else q

    q_gen = shares(np.arange(n)[None])[0]
    disc = {k: float(v) for k, v in _discrepancies(q_gen, q_data).items()}
    keys = list(disc)

    def stat(idx: np.ndarray) -> np.ndarray:
        q = shares(idx)
        d = _discrepancies(q, q_data)
        return np.concatenate([q, np.stack([d[k] for k in keys], 1)], axis=1)

    nan_pair = (np.full(n_cells, np.nan), np.full(n_cells, np.nan))
    share_ci, disc_ci = nan_pair, {k: (math.nan, math.nan) for k in keys}
    share_data_ci = nan_pair
    if n_boot > 0:                               # the reference shares: rows or people
        onehot = np.zeros((n_data, n_cells))
        onehot[np.arange(n_data), cell_data] = 1.0
        share_data_ci = ratio_intervals(onehot, np.ones(n_data),
                                        clusters or Clusters.rows(n_data), n_boot=n_boot,
                                        level=level, seed=seed)
    if n_boot > 0:
        with warnings.catch_warnings():  # undefined corrections stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi, _ = bootstrap_ci(stat, n, n_boot=n_boot, level=level, seed=seed)
        share_ci = (lo[:n_cells], hi[:n_cells])
        disc_ci = {k: (float(lo[n_cells + i]), float(hi[n_cells + i]))
                   for i, k in enumerate(keys)}

    # per-group prevalence (observed classifier labels vs data labels), (C, A)
    def by_cell(cells: np.ndarray, labels: np.ndarray) -> np.ndarray:
        sums = np.zeros((n_cells, labels.shape[1]))
        np.add.at(sums, cells, labels)  # unbuffered scatter-add: one pass, no one-hot
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums / np.bincount(cells, minlength=n_cells)[:, None]

    gp_gen, gp_data = by_cell(cell_gen, pred), by_cell(cell_data, data)

    agreement: dict[str, dict[str, float]] = {}
    if condition is not None:
        for k, cname in enumerate(cond_names):
            cn = canonical_name(cname, data_names)
            if cn in clf_names:
                agree = (logits[:, clf_names.index(cn)] > 0) == condition[:, k].astype(bool)
                lo_, hi_ = wilson_ci(agree.sum(), n, level)
                agreement[cn] = {"rate": float(agree.mean()), "ci_low": float(lo_),
                                 "ci_high": float(hi_)}

    return PopulationResult(
        attribute_names=names, n_generated=n, n_data=n_data,
        corrected=classifier_rates is not None, correction_note=note,
        observed=p_obs, observed_ci=(obs_lo, obs_hi), generated=p_gen,
        generated_ci=(gen_lo, gen_hi), data=p_data, data_ci=(dat_lo, dat_hi),
        difference=diff, difference_ci=(d_lo, d_hi), ratio=ratio, ratio_ci=(r_lo, r_hi),
        amplification=amp, amplification_ci=(a_lo, a_hi), tpr=tpr, fpr=fpr,
        groups=group_names, group_labels=_cell_labels(group_names),
        group_share_data=q_data, group_share_observed=q_obs, group_share_generated=q_gen,
        group_share_ci=share_ci, discrepancy=disc, discrepancy_ci=disc_ci,
        group_prevalence_generated=gp_gen, group_prevalence_data=gp_data,
        condition_agreement=agreement, association_target=assoc_name,
        associations=associations, warnings=label_warnings(pred, names, group_names),
        group_share_data_ci=share_data_ci,
        settings={"n": n, "batch_size": batch_size, "groups": group_names, "seed": seed,
                  "n_boot": n_boot, "level": level, "device": str(device),
                  "conditional": condition is not None, "precision": precision,
                  "data_resampling": resample_unit(n_data, clusters),
                  "data_interval_method": ("cluster_bootstrap" if clusters is not None
                                           and n_boot > 0 else "wilson")})
