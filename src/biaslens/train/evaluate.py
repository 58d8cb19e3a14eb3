"""Held-out metrics for attribute classifiers: per-attribute accuracy and ROC AUC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

__all__ = ["rank_auc", "ClassifierEval", "evaluate_scores"]


def rank_auc(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC per column by the Mann–Whitney rank formula (vectorized over columns).

    ``AUC = (R_pos − n_pos(n_pos+1)/2) / (n_pos·n_neg)`` with average ranks for ties,
    which equals sklearn's ``roc_auc_score``. NaN where a column has only one class.

    Parameters
    ----------
    y : bool (n, A) or (n,) labels.
    scores : float, same shape (logits or probabilities; only the order matters).
    """
    y = np.asarray(y, dtype=bool)
    s = np.asarray(scores, dtype=float)
    squeeze = y.ndim == 1
    y, s = np.atleast_2d(y.T).T, np.atleast_2d(s.T).T
    ranks = rankdata(s, axis=0)                                  # (n, A), ties averaged
    n_pos = y.sum(0).astype(float)
    n_neg = len(y) - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * y).sum(0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    auc = np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)
    return auc[0] if squeeze else auc


@dataclass
class ClassifierEval:
    """Per-attribute accuracy (threshold 0 on the logit) and AUC on a held-out split."""

    attribute_names: list[str]
    accuracy: np.ndarray
    auc: np.ndarray
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n,
                "mean_accuracy": float(np.mean(self.accuracy)) if self.n else float("nan"),
                "mean_auc": float(np.nanmean(self.auc)) if np.isfinite(self.auc).any()
                else float("nan"),
                "accuracy": dict(zip(self.attribute_names, map(float, self.accuracy))),
                "auc": dict(zip(self.attribute_names, map(float, self.auc)))}


def evaluate_scores(y: np.ndarray, logits: np.ndarray, attribute_names: list[str]
                    ) -> ClassifierEval:
    """Accuracy of ``logits > 0`` against ``y`` and rank AUC, per attribute column."""
    y = np.asarray(y, dtype=bool)
    logits = np.asarray(logits, dtype=float)
    acc = ((logits > 0) == y).mean(0) if len(y) else np.full(y.shape[1], np.nan)
    return ClassifierEval(list(attribute_names), acc, rank_auc(y, logits), len(y))
