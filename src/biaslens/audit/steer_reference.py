"""Steering against the data: is a co-movement learned from the data or added by the model?

A steering audit (:mod:`biaslens.audit.steer`) flags every attribute whose logit moves with
the target's when the generator is pushed. Some of that co-movement is in the classifier,
not in the generator or the data: heads that share one feature extractor couple their
logits, so the same classifier already shows the coupling on *real* training images.
On the `independent` synthetic world (no label correlations at all) the shipped recipes'
classifier has a Male-logit regression slope of +0.39 for Gray_Hair and +0.49 for Chubby
on real faces, and the steering audit flags exactly those (docs/validation.md).

The comparison here separates the two. Along the steering path each attribute's logit
moves with slope ``b_j = Cov(Δℓ_j, Δℓ_t) / Var(Δℓ_t)`` per unit of target logit. If the
generator reproduced the training distribution as the classifier sees it, the same slope
would hold across the data: ``d_j = Cov(ℓ_j, ℓ_t) / Var(ℓ_t)`` over reference images
(for a locally linear generator with Gaussian noise the two coincide exactly:
``Cov_z(Az, Bz) = A Bᵀ = E[∇ℓ_t · ∇ℓ_j]``). The *excess* ``b_j − d_j`` is what the
generator adds (> 0 in the direction of the co-movement: amplified) or drops; it is tested
with bootstrap standard errors (images of the path and reference images resampled
independently) and Benjamini–Hochberg. ``beyond_data`` marks the entries whose excess is
significant — the associations the model did not get from the data.

Pure numpy; :func:`biaslens.audit.steer.steer_audit` computes the reference logits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

from biaslens.errors import BiasLensError
from biaslens.stats import benjamini_hochberg, row_bincount

__all__ = ["DataComparison", "compare_with_data", "data_slopes", "path_slopes"]


def _boot_slopes(units: np.ndarray, t: int, n_boot: int, rng: np.random.Generator,
                 chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Point slopes and ``(n_boot, A)`` bootstrap replicates over the rows of ``units``.

    ``units`` is ``(m, k, A)``: ``m`` independent units (images) with ``k`` dependent
    observations each (steps; ``k = 1`` for reference images). Sufficient statistics are
    summed per unit once, so each resample is a few matrix products.
    """
    u = np.asarray(units, dtype=np.float64)
    u = u - u.reshape(-1, u.shape[-1]).mean(axis=0)       # centring: well-conditioned sums
    x = u.sum(axis=1)                                     # (m, A)
    xt = np.einsum("mk,mka->ma", u[:, :, t], u)           # (m, A)
    yy = (u[:, :, t] ** 2).sum(axis=1)                    # (m,)
    m, k = u.shape[0], u.shape[1]

    def rows(w: np.ndarray) -> np.ndarray:
        # weights count units; each unit holds k observations
        big_n = w.sum(axis=1, keepdims=True) * k
        sx, sxt, syy = w @ x, w @ xt, w @ yy
        cov = sxt - sx[:, [t]] * sx / big_n
        var = syy[:, None] - sx[:, [t]] ** 2 / big_n
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(var > 0, cov / np.where(var > 0, var, 1.0), np.nan)

    point = rows(np.ones((1, m)))[0]
    reps = [rows(row_bincount(rng.integers(0, m, size=(min(chunk, n_boot - s), m)), m))
            for s in range(0, n_boot, chunk)]
    return point, (np.concatenate(reps) if reps else np.empty((0, point.shape[0])))


def path_slopes(deltas: np.ndarray, target_index: int) -> np.ndarray:
    """Slopes ``b_j`` of every logit change on the target's along the steering path.

    ``deltas`` is ``D = H − L0`` of shape ``(T, n, A)``; steps and images are pooled.
    """
    d = np.asarray(deltas, dtype=np.float64)
    point, _ = _boot_slopes(d.transpose(1, 0, 2), target_index, 0, np.random.default_rng(0))
    return point


def data_slopes(logits: np.ndarray, target_index: int) -> np.ndarray:
    """Slopes ``d_j`` of every logit on the target's across reference images ``(m, A)``."""
    x = np.asarray(logits, dtype=np.float64)
    point, _ = _boot_slopes(x[:, None, :], target_index, 0, np.random.default_rng(0))
    return point


@dataclass
class DataComparison:
    """Steering-path slopes against the same classifier's slopes on reference data.

    Arrays are ``(A,)`` in the audit's attribute order, for the *signed* target (a negated
    target flips every non-target slope). The target's own entries are 1 (slopes) and
    NaN (excess, tests) and never flagged.
    """

    reference: str
    n_reference: int
    path_slope: np.ndarray
    path_ci_low: np.ndarray
    path_ci_high: np.ndarray
    data_slope: np.ndarray
    data_ci_low: np.ndarray
    data_ci_high: np.ndarray
    excess: np.ndarray
    excess_ci_low: np.ndarray
    excess_ci_high: np.ndarray
    p_values: np.ndarray
    q_values: np.ndarray
    beyond_data: np.ndarray
    fdr: float
    n_boot: int

    def verdict(self, j: int) -> str:
        """``"added"`` (the path's slope is steeper than the data's: amplified, new or
        reversed), ``"weakened"`` (flatter: the model dropped part of the data's
        association) or ``"no"`` (not beyond the data) for attribute ``j``."""
        if not self.beyond_data[j]:
            return "no"
        return "added" if abs(self.path_slope[j]) > abs(self.data_slope[j]) else "weakened"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (undefined numbers as ``None``)."""
        out: dict[str, Any] = {"reference": self.reference, "n_reference": self.n_reference,
                               "fdr": self.fdr, "n_boot": self.n_boot}
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                out[k] = ([bool(x) for x in v] if v.dtype == bool
                          else [float(x) if np.isfinite(x) else None for x in v])
        return out


def compare_with_data(deltas: np.ndarray, reference_logits: np.ndarray, target_index: int,
                      sign: int = 1, *, n_boot: int = 1000, fdr: float = 0.05, seed: int = 0,
                      level: float = 0.95, reference: str = "reference") -> DataComparison:
    """Path slopes vs data slopes with bootstrap CIs and a BH-controlled excess test.

    Parameters
    ----------
    deltas : ``(T, n, A)`` logit changes along the steering path (steps × images × attrs).
    reference_logits : ``(m, A)`` logits of the *same* classifier on reference images
        (the generator's training data, or a sample of it).
    target_index, sign : the target column; ``sign = −1`` for a negated target.
    n_boot : bootstrap resamples (≥ 50: the test uses their standard deviations).
    fdr : Benjamini–Hochberg rate over the non-target entries.
    reference : a description of the reference set, recorded in the result.
    """
    d = np.asarray(deltas, dtype=np.float64)
    ref = np.asarray(reference_logits, dtype=np.float64)
    if d.ndim != 3:
        raise BiasLensError(f"deltas must have shape (steps, images, attributes); got {d.shape}")
    if ref.ndim != 2 or ref.shape[1] != d.shape[2]:
        raise BiasLensError(f"reference logits must have shape (m, {d.shape[2]}); "
                            f"got {ref.shape}")
    if ref.shape[0] < 10:
        raise BiasLensError(f"need at least 10 reference images; got {ref.shape[0]}")
    if n_boot < 50:
        raise BiasLensError(f"the data comparison needs n_boot >= 50; got {n_boot}")
    a = d.shape[2]
    rng = np.random.default_rng(seed + 7)
    b_pt, b_rep = _boot_slopes(d.transpose(1, 0, 2), target_index, n_boot, rng)
    d_pt, d_rep = _boot_slopes(ref[:, None, :], target_index, n_boot, rng)
    flip = np.full(a, float(sign))
    flip[target_index] = 1.0
    b_pt, b_rep, d_pt, d_rep = b_pt * flip, b_rep * flip, d_pt * flip, d_rep * flip
    diff_rep = b_rep - d_rep                              # independent resamples
    alpha = (1 - level) / 2
    def q(x: np.ndarray, level_: float) -> np.ndarray:
        return np.nanquantile(x, level_, axis=0)

    with warnings.catch_warnings():                       # all-NaN columns stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        b_lo, b_hi = q(b_rep, alpha), q(b_rep, 1 - alpha)
        d_lo, d_hi = q(d_rep, alpha), q(d_rep, 1 - alpha)
        e_lo, e_hi = q(diff_rep, alpha), q(diff_rep, 1 - alpha)
        se = np.nanstd(diff_rep, axis=0, ddof=1)
    excess = b_pt - d_pt
    with np.errstate(invalid="ignore", divide="ignore"):
        zstat = excess / se
    p = np.where(se > 0, 2 * _st.norm.sf(np.abs(zstat)), np.where(excess == 0, 1.0, 0.0))
    mask = np.arange(a) != target_index
    p = np.where(mask & np.isfinite(excess) & np.isfinite(p), p, np.nan)  # undefined: untested
    reject, qv = benjamini_hochberg(p, fdr)
    def nan_t(x: np.ndarray) -> np.ndarray:
        return np.where(mask, x, np.nan)

    return DataComparison(
        reference=reference, n_reference=int(ref.shape[0]),
        path_slope=b_pt, path_ci_low=b_lo, path_ci_high=b_hi,
        data_slope=d_pt, data_ci_low=d_lo, data_ci_high=d_hi,
        excess=nan_t(excess), excess_ci_low=nan_t(e_lo), excess_ci_high=nan_t(e_hi),
        p_values=p, q_values=qv, beyond_data=reject & mask, fdr=fdr, n_boot=n_boot)
