"""Classifier fairness audit: fairlearn-compatible disparity metrics and one report.

The named metrics (``demographic_parity_difference``, ``equalized_odds_ratio``, ...) have
fairlearn's signatures and definitions and are thin wrappers over
:class:`biaslens.audit.frame.GroupFrame`. :func:`fairness_report` computes everything
at once (per-group rates, the three criteria as difference and ratio with both
methods, bootstrap CIs, and the Ramaswamy et al. metrics when scores are given) and
returns a :class:`FairnessReport`. Pure compute: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from biaslens.audit.frame import (
    DEFAULT_METRICS,
    GroupFrame,
    _difference,
    _quantiles,
    _ratio,
    nanmean,
)
from biaslens.audit.ramaswamy import RamaswamyReport, ramaswamy_metrics
from biaslens.errors import BiasLensError

__all__ = [
    "DISPARITIES",
    "FairnessReport",
    "degenerate_predictions",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "fairness_report",
]

Method = Literal["between_groups", "to_overall"]
Agg = Literal["worst_case", "mean"]
METHODS: tuple[str, ...] = ("between_groups", "to_overall")

_SR, _TPR, _FPR = "selection_rate", "true_positive_rate", "false_positive_rate"


def _check_agg(agg: str) -> None:
    if agg not in ("worst_case", "mean"):
        raise BiasLensError(f"agg must be one of 'worst_case' or 'mean', got {agg!r}")


def _combine(tpr: np.ndarray, fpr: np.ndarray, agg: str, worst: str) -> np.ndarray:
    """fairlearn's equalized-odds aggregation of the (TPR, FPR) pair.

    ``worst_case`` is Python's builtin ``max``/``min`` over ``[tpr, fpr]``, which
    fairlearn uses: a NaN in first place propagates, a NaN in second place is skipped.
    ``mean`` skips NaNs (pandas ``Series.mean``).
    """
    if agg == "mean":
        return nanmean(np.stack([tpr, fpr], axis=-1), axis=-1)
    return np.where(fpr > tpr, fpr, tpr) if worst == "max" else np.where(fpr < tpr, fpr, tpr)


# -- named metrics: thin wrappers over GroupFrame, derived from one table ----------------


def _frame(y_true, y_pred, sensitive_features, sample_weight, metrics) -> GroupFrame:
    return GroupFrame(y_true, y_pred, sensitive_features=sensitive_features,
                      metrics=metrics, sample_weight=sample_weight)


def _derived(name: str, metric: str, kind: str, doc: str) -> Callable[..., float]:
    """A fairlearn-style named metric: the ``difference``/``ratio`` of one rate."""
    def fn(y_true: Any, y_pred: Any, *, sensitive_features: Any,
           method: Method = "between_groups", sample_weight: Any = None) -> float:
        f = _frame(y_true, y_pred, sensitive_features, sample_weight, [metric])
        return getattr(f, kind)(method)[metric]

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _odds(name: str, kind: str, worst: str, doc: str) -> Callable[..., float]:
    """An equalized-odds metric: the TPR and FPR ``difference``/``ratio`` combined."""
    def fn(y_true: Any, y_pred: Any, *, sensitive_features: Any,
           method: Method = "between_groups", sample_weight: Any = None,
           agg: Agg = "worst_case") -> float:
        _check_agg(agg)
        f = _frame(y_true, y_pred, sensitive_features, sample_weight, [_TPR, _FPR])
        v = getattr(f, kind)(method)
        return float(_combine(np.float64(v[_TPR]), np.float64(v[_FPR]), agg, worst))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


demographic_parity_difference = _derived(
    "demographic_parity_difference", _SR, "difference",
    "Largest difference in selection rate ``P(ŷ=1 | A=a)`` (fairlearn's definition).")
demographic_parity_ratio = _derived(
    "demographic_parity_ratio", _SR, "ratio", "Smallest ratio of selection rates (1 = parity).")
equal_opportunity_difference = _derived(
    "equal_opportunity_difference", _TPR, "difference",
    "Largest difference in TPR ``P(ŷ=1 | Y=1, A=a)``.")
equal_opportunity_ratio = _derived(
    "equal_opportunity_ratio", _TPR, "ratio", "Smallest ratio of TPRs.")
equalized_odds_difference = _odds(
    "equalized_odds_difference", "difference", "max",
    "``max`` (``agg='worst_case'``) or mean of the TPR and FPR differences.")
equalized_odds_ratio = _odds(
    "equalized_odds_ratio", "ratio", "min",
    "``min`` (``agg='worst_case'``) or mean of the TPR and FPR ratios.")


# -- all disparities at once, vectorized over bootstrap resamples ----------------------

#: The disparity metrics in a report, in display order.
DISPARITIES: tuple[str, ...] = (
    "demographic_parity_difference", "demographic_parity_ratio",
    "equalized_odds_difference", "equalized_odds_ratio",
    "equalized_odds_difference_mean", "equalized_odds_ratio_mean",
    "equal_opportunity_difference", "equal_opportunity_ratio",
)


def _disparities(by: dict[str, np.ndarray], ov: dict[str, np.ndarray], method: str
                 ) -> dict[str, np.ndarray]:
    """Every disparity of :data:`DISPARITIES` from per-group rates ``(..., G)``."""
    d = {m: _difference(by[m], ov[m], method) for m in (_SR, _TPR, _FPR)}
    r = {m: _ratio(by[m], ov[m], method) for m in (_SR, _TPR, _FPR)}
    return {
        "demographic_parity_difference": d[_SR],
        "demographic_parity_ratio": r[_SR],
        "equalized_odds_difference": _combine(d[_TPR], d[_FPR], "worst_case", "max"),
        "equalized_odds_ratio": _combine(r[_TPR], r[_FPR], "worst_case", "min"),
        "equalized_odds_difference_mean": _combine(d[_TPR], d[_FPR], "mean", "max"),
        "equalized_odds_ratio_mean": _combine(r[_TPR], r[_FPR], "mean", "min"),
        "equal_opportunity_difference": d[_TPR],
        "equal_opportunity_ratio": r[_TPR],
    }


@dataclass
class FairnessReport:
    """Result of :func:`fairness_report`; every number JSON-able through :meth:`to_dict`.

    ``by_group[metric]`` lists one value per group (aligned with ``groups``);
    ``disparities[method][name] = {"value": v, "ci": [lo, hi]}``. ``verdict`` is a
    sentence when the predictions cannot show a disparity at all (one predicted class for
    every row, or one true class), so zeros are not read as "fair"; it is also the first
    of ``notes``.
    """

    groups: list[str]
    feature_names: list[str]
    counts: list[int]
    overall: dict[str, float]
    overall_ci: dict[str, list[float]]
    by_group: dict[str, list[float]]
    by_group_ci: dict[str, list[list[float]]]
    disparities: dict[str, dict[str, dict[str, Any]]]
    n: int
    n_boot: int
    ci_level: float
    seed: int | None
    weighted: bool
    ramaswamy: RamaswamyReport | None = None
    notes: list[str] = field(default_factory=list)
    verdict: str | None = None
    #: what every CI resampled: ``{"unit": "images" | "identities", "n_units", "n_rows",
    #: "text"}`` (:func:`biaslens.stats.resample_unit`)
    resampling: dict[str, Any] = field(default_factory=dict)
    #: rows with y_true 1 / 0 per group (unweighted): a group without positives has an
    #: undefined TPR (0 by fairlearn's convention), one without negatives an undefined FPR
    positives: list[int] = field(default_factory=list)
    negatives: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "ramaswamy"}
        out["ramaswamy"] = None if self.ramaswamy is None else self.ramaswamy.to_dict()
        return out


def degenerate_predictions(y_true: Any, y_pred: Any) -> str | None:
    """Why these predictions cannot show a group disparity, or ``None``.

    A classifier that predicts one class for every row has equal selection rates in every
    group by construction (demographic-parity difference 0, ratio 1): that is no evidence
    of fairness. One true class makes TPR or FPR undefined in every group.

    >>> degenerate_predictions([0, 1, 1], [1, 1, 1])  # doctest: +ELLIPSIS
    'the classifier predicts 1 for all 3 rows: ...'
    >>> degenerate_predictions([0, 1], [0, 1]) is None
    True
    """
    pred = np.asarray(y_pred).ravel()
    true = np.asarray(y_true).ravel()
    if len(pred) and (pred == pred[0]).all():
        return (f"the classifier predicts {pred.tolist()[0]!r} for all {len(pred)} rows: every group "
                f"gets the same selection rate by construction, so a zero demographic-parity "
                f"difference (and any equal rate) does not mean the classifier is fair; it "
                f"does not discriminate at all (untrained or constant?)")
    if len(true) and (true == true[0]).all():
        return (f"y_true holds one class ({true.tolist()[0]!r}) in all {len(true)} rows: "
                f"{'FPR' if true[0] else 'TPR'} and the equalized-odds / equal-opportunity "
                f"metrics that need it are undefined (NaN), not zero")
    return None


def fairness_report(y_true: Any, y_pred: Any, *, sensitive_features: Any,
                    y_score: Any = None, sample_weight: Any = None, n_boot: int = 500,
                    ci_level: float = 0.95, seed: int | None = 0,
                    kl_variant: Literal["reference", "fixed"] = "reference",
                    clusters: Any = None) -> FairnessReport:
    """Audit a binary classifier's predictions for group fairness.

    Parameters
    ----------
    y_true, y_pred : binary labels and hard predictions, shape (n,).
    sensitive_features : one or more columns (see
        :func:`biaslens.audit.frame.encode_groups`); several → intersectional groups.
    y_score : optional scores in [0, 1]; with exactly two groups adds AP, DEO, BA, KL
        (Ramaswamy et al.; the second group in sorted order is the protected ``g = 1``).
    sample_weight : optional per-row weights (not used by the Ramaswamy metrics).
    n_boot : bootstrap resamples for every CI (0 = no CIs).
    ci_level, seed : CI coverage and bootstrap seed.
    clusters : the identity (person) of every row, or a :class:`biaslens.stats.Clusters`:
        every CI (the Ramaswamy metrics' too) then resamples identities, not rows.

    Examples
    --------
    >>> r = fairness_report([1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=[0, 0, 1, 1],
    ...                     n_boot=0)
    >>> r.disparities["between_groups"]["equal_opportunity_difference"]["value"]
    0.5
    """
    frame = GroupFrame(y_true, y_pred, sensitive_features=sensitive_features,
                       metrics=DEFAULT_METRICS, sample_weight=sample_weight,
                       n_boot=n_boot, ci_level=ci_level, seed=seed, clusters=clusters)
    by_pt = {m: v[None] for m, v in frame.by_group.items()}
    ov_pt = {m: np.asarray([v]) for m, v in frame.overall.items()}
    nan2 = [float("nan"), float("nan")]
    G = len(frame.groups)
    overall_ci = {m: nan2 for m in frame.metrics}
    by_group_ci = {m: [[float("nan")] * G, [float("nan")] * G] for m in frame.metrics}
    disp: dict[str, dict[str, dict[str, Any]]] = {}
    boot = None
    if n_boot > 0:
        overall_ci = {m: list(v) for m, v in frame.overall_ci().items()}
        by_group_ci = {m: [lo.tolist(), hi.tolist()] for m, (lo, hi) in
                       frame.by_group_ci().items()}
        boot = frame._boot_eval()
    for method in METHODS:
        point = _disparities(by_pt, ov_pt, method)
        samples = _disparities(*boot, method) if boot is not None else None
        disp[method] = {}
        for name in DISPARITIES:
            ci = nan2
            if samples is not None:
                lo, hi = _quantiles(samples[name], ci_level)
                ci = [float(lo), float(hi)]
            disp[method][name] = {"value": float(point[name][0]), "ci": ci}
    verdict = degenerate_predictions(y_true, y_pred)
    notes: list[str] = [verdict] if verdict else []
    for rows, kind, rates in ((frame.positives, "positive", "true-positive rate (and FNR)"),
                              (frame.negatives, "negative", "false-positive rate (and TNR)")):
        empty = [g for g, k in zip(frame.groups, rows) if k == 0]
        if empty and not verdict:
            notes.append(f"{', '.join(empty)}: no {kind} rows, so the {rates} there is "
                         "undefined (0 by fairlearn's convention) and the disparities built "
                         "on it are no evidence of a gap")
    ram = None
    if y_score is not None:
        if G == 2:
            g = frame.encoding.codes == 1
            ram = ramaswamy_metrics(y_true, y_pred, y_score, g, n_boot=n_boot,
                                    seed=seed, kl_variant=kl_variant,
                                    clusters=frame.clusters)
            notes.append(f"Ramaswamy metrics: protected g=1 is group {frame.groups[1]!r}")
        else:
            notes.append(f"Ramaswamy metrics (AP, DEO, BA, KL) need exactly 2 groups; "
                         f"got {G}, skipped")
    return FairnessReport(
        groups=frame.groups, feature_names=frame.encoding.names,
        counts=[int(c) for c in frame.counts], overall=frame.overall, overall_ci=overall_ci,
        by_group={m: v.tolist() for m, v in frame.by_group.items()}, by_group_ci=by_group_ci,
        disparities=disp, n=int(frame.counts.sum()), n_boot=n_boot, ci_level=ci_level,
        seed=seed, weighted=sample_weight is not None, ramaswamy=ram, notes=notes,
        verdict=verdict,
        resampling=dict(frame.resampling),
        positives=[int(k) for k in frame.positives], negatives=[int(k) for k in frame.negatives])
