"""Score an audit against the synthetic world's known truth.

The synthetic world knows exactly how every attribute co-varies with a target
(:meth:`biaslens.world.World.truth`). A steering audit on models trained on that world
should recover it: the attributes that move with the target when the generator is
pushed are the ones the data tied to it. :func:`score_steering` measures how well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

#: Acceptance bars (issue: "scored against the truth").
MIN_SPEARMAN = 0.7
TOP_TRUE = 5
TOP_MEASURED = 10


@dataclass
class TruthRow:
    """One attribute: measured correlation with the target vs the world's true phi."""

    attribute: str
    measured: float
    ci_low: float
    ci_high: float
    significant: bool
    true_phi: float
    sign_ok: bool
    beyond_data: bool | None = None


@dataclass
class TruthScore:
    """How well a steering audit recovered the world's truth.

    ``spearman`` is the rank correlation between the measured (signed) correlations and
    the true phi over ``attributes``; ``top_true_in_measured`` says whether every one of
    the true top-5 (by |phi|) is in the measured top-10 by |correlation|, and
    ``top_true_in_table`` whether they are in the audit's own top-10 table, which ranks by
    |covariance| of the logits (the course's ranking; ``None`` without a covariance row);
    ``wrong_signs`` lists significant entries whose sign disagrees with the truth;
    ``beyond_data`` lists the entries the audit's data comparison marks as added or
    weakened by the model and ``wrong_signs_data_backed`` the wrong signs among the
    significant entries it does *not* mark — the co-movements the audit attributes to the
    data (both ``None`` when the audit had no reference data).
    """

    target: str
    attributes: list[str]
    spearman: float
    true_top: list[str]
    measured_top: list[str]
    top_true_in_measured: bool
    n_significant: int
    wrong_signs: list[str]
    rows: list[TruthRow]
    beyond_data: list[str] | None = None
    wrong_signs_data_backed: list[str] | None = None
    table_top: list[str] | None = None
    top_true_in_table: bool | None = None

    @property
    def passed(self) -> dict[str, bool]:
        checks = {
            f"spearman>={MIN_SPEARMAN}": bool(self.spearman >= MIN_SPEARMAN),
            f"true_top{TOP_TRUE}_in_measured_top{TOP_MEASURED}": self.top_true_in_measured,
        }
        if self.top_true_in_table is not None:
            checks[f"true_top{TOP_TRUE}_in_table_top{TOP_MEASURED}"] = self.top_true_in_table
        checks["signs_right_for_significant"] = not self.wrong_signs
        if self.wrong_signs_data_backed is not None:
            checks["signs_right_for_data_backed"] = not self.wrong_signs_data_backed
        return checks

    @property
    def details(self) -> dict[str, str]:
        """What each check in :attr:`passed` rests on (same keys): the Spearman value, the
        ranking used and the true top-5 missing from it, or the wrong signs."""
        def top(ranking: list[str], by: str) -> str:
            missing = [a for a in self.true_top if a not in ranking]
            return f"(ranked by {by}" + (f"; missing: {', '.join(missing)})" if missing
                                          else ")")

        def wrong(names: list[str] | None) -> str:
            return f"(wrong: {', '.join(names)})" if names else ""

        out = {f"spearman>={MIN_SPEARMAN}": f"(Spearman {self.spearman:.2f})",
               f"true_top{TOP_TRUE}_in_measured_top{TOP_MEASURED}":
                   top(self.measured_top, "|correlation|")}
        if self.table_top is not None:
            out[f"true_top{TOP_TRUE}_in_table_top{TOP_MEASURED}"] = top(self.table_top,
                                                                         "|covariance|")
        out["signs_right_for_significant"] = wrong(self.wrong_signs)
        if self.wrong_signs_data_backed is not None:
            out["signs_right_for_data_backed"] = wrong(self.wrong_signs_data_backed)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def score_steering(result: Any, truth: Any, *, attributes: Sequence[str] | None = None
                   ) -> TruthScore:
    """Compare a :class:`~biaslens.audit.steer.SteerResult` with a world's ``TruthTable``.

    Parameters
    ----------
    result : SteerResult
        Steering audit of a (possibly negated) target; its ``correlation`` row is used
        (scale-free, unlike the covariance of logits).
    truth : TruthTable
        ``World.truth(target)`` for the *same* signed target.
    attributes : sequence of str, optional
        The attributes to compare; default: every attribute the renderer draws
        (label-only ones such as Attractive cannot move in pixels), minus the target.
    """
    if attributes is None:
        from biaslens.world.render import RENDERED_ATTRIBUTES

        attributes = RENDERED_ATTRIBUTES
    target_name = result.attribute_names[result.target_index]
    names = [a for a in attributes if a != target_name and a in result.attribute_names
             and a in truth.names]
    mi = np.array([result.attribute_names.index(a) for a in names])
    ti = np.array([list(truth.names).index(a) for a in names])
    measured = np.asarray(result.correlation, dtype=float)[mi]
    true_phi = np.asarray(truth.phi, dtype=float)[ti]
    sig = np.asarray(result.significant, dtype=bool)[mi]
    lo = np.asarray(result.corr_ci_low, dtype=float)[mi]
    hi = np.asarray(result.corr_ci_high, dtype=float)[mi]

    rho = float(spearmanr(measured, true_phi).statistic) if len(names) > 2 else float("nan")
    order_true = np.argsort(-np.abs(true_phi), kind="stable")[:TOP_TRUE]
    order_meas = np.argsort(-np.abs(np.nan_to_num(measured)), kind="stable")[:TOP_MEASURED]
    true_top = [names[i] for i in order_true]
    measured_top = [names[i] for i in order_meas]
    cov = getattr(result, "covariance", None)
    table_top = None
    if cov is not None:  # the audit table's ranking: |covariance| of the logits
        cov = np.asarray(cov, dtype=float)[mi]
        table_top = [names[i] for i in
                     np.argsort(-np.abs(np.nan_to_num(cov)), kind="stable")[:TOP_MEASURED]]
    sign_ok = np.sign(measured) == np.sign(true_phi)
    data = getattr(result, "data", None)
    beyond = (np.asarray(data.beyond_data, dtype=bool)[mi] if data is not None
              else [None] * len(names))
    rows = [TruthRow(a, float(m), float(lo_), float(hi_), bool(s), float(t), bool(ok),
                     None if b is None else bool(b))
            for a, m, lo_, hi_, s, t, ok, b in zip(names, measured, lo, hi, sig, true_phi,
                                                   sign_ok, beyond)]
    rows.sort(key=lambda r: -abs(r.true_phi))
    return TruthScore(
        target=result.target,
        attributes=list(names),
        spearman=rho,
        true_top=true_top,
        measured_top=measured_top,
        top_true_in_measured=set(true_top) <= set(measured_top),
        n_significant=int(sig.sum()),
        wrong_signs=[a for a, s, ok in zip(names, sig, sign_ok) if s and not ok],
        rows=rows,
        beyond_data=None if data is None else [a for a, b in zip(names, beyond) if b],
        wrong_signs_data_backed=None if data is None else [
            a for a, s, ok, b in zip(names, sig, sign_ok, beyond) if s and not ok and not b],
        table_top=table_top,
        top_true_in_table=None if table_top is None else set(true_top) <= set(table_top),
    )
