"""Fairness of an attribute classifier on a cache: the report's, the app's and the
library's one way to audit it.

The classifier labels the cache's test split (every row when it has none); for each
target attribute that it predicts and that is not itself protected,
:func:`biaslens.audit.fairness.fairness_report` compares its predictions (score =
sigmoid of the logit, positive above 0.5) with the cache's labels across the protected
attributes or cache group columns (intersectional when several). With two groups the
report carries the Ramaswamy et al. metrics (AP, DEO, BA, KL) too.

>>> from biaslens.pipelines.fairness import cache_fairness      # doctest: +SKIP
>>> [(target, report)] = cache_fairness(classifier, cache, ["Smiling"], ["Male"])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from biaslens.audit.fairness import FairnessReport, fairness_report
from biaslens.errors import BiasLensError
from biaslens.names import canonical_name, resolve_attribute

if TYPE_CHECKING:
    from torch import nn

__all__ = ["cache_fairness", "check_image_size", "fairness_logits", "fairness_view",
           "sensitive_columns"]


def check_image_size(model: nn.Module, cache: Any, role: str) -> None:
    """Refuse a model whose ``image_size`` differs from the cache's images."""
    size = getattr(model, "image_size", None)
    h, w = int(cache.manifest["height"]), int(cache.manifest["width"])
    if isinstance(size, int) and (size, size) != (h, w):
        raise BiasLensError(f"the {role} works on {size}×{size} images but the cache "
                            f"{cache.path} holds {h}×{w}; use a cache of the model's size")


def fairness_view(cache: Any) -> Any:
    """The cache's test split, or all of it when it has no test rows."""
    view = cache.subset("test")
    return view if len(view) else cache.subset(None)


def fairness_logits(classifier: nn.Module, cache: Any, *, batch_size: int = 512,
                progress: Callable[[str], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, logits)``: the cache rows of :func:`fairness_view` and the classifier's
    logits ``(n, A)`` on them (worth caching: the app keeps them per model and data)."""
    from biaslens.tensors import predict_logits

    view = fairness_view(cache)
    if progress is not None:
        progress(f"classifying {len(view)} test images")
    return view.indices, predict_logits(classifier, view.images, batch_size=batch_size)


def sensitive_columns(cache: Any, protected: Sequence[str], rows: np.ndarray
                      ) -> dict[str, np.ndarray]:
    """The protected columns at ``rows``, by name: a cache group column as it is, an
    attribute (aliases accepted) as 0/1."""
    names = list(cache.attribute_names)
    group_names = list(cache.group_names) if cache.groups is not None else []
    sens = {}
    for p in protected:
        if p in group_names:
            sens[p] = np.asarray(cache.groups[:, group_names.index(p)])[rows]
        else:
            name = canonical_name(p, names)
            sens[name] = np.asarray(cache.attrs[rows, names.index(name)]).astype(int)
    return sens


def cache_fairness(classifier: nn.Module, cache: Any, targets: Sequence[str],
                   protected: Sequence[str], *, n_boot: int = 300, seed: int = 0,
                   logits: tuple[np.ndarray, np.ndarray] | None = None, batch_size: int = 512,
                   progress: Callable[[str], None] | None = None
                   ) -> list[tuple[str, FairnessReport]]:
    """Fairness of ``classifier`` on ``cache`` per target, across ``protected``.

    Parameters
    ----------
    classifier : attribute classifier (``attribute_names``; logits ``(N, A)``) of the
        cache's image size.
    cache : a loaded dataset cache; its test split is used (every row without one).
    targets : attributes whose predictions are audited (``-Male`` means ``Male``);
        those that are protected or that the classifier does not predict are skipped.
    protected : attributes or cache group columns (several: intersectional groups).
    n_boot, seed : bootstrap resamples for every CI, and their seed.
    logits : ``(rows, logits)`` from :func:`fairness_logits`, when already computed.
    batch_size : classifier batch size when ``logits`` is not given.
    progress : called with a short message before each step.

    Returns
    -------
    ``[(target name, FairnessReport), ...]`` in the order of ``targets``.
    """
    say = progress or (lambda msg: None)
    check_image_size(classifier, cache, "classifier")
    names = list(cache.attribute_names)
    clf_names = list(getattr(classifier, "attribute_names", None) or [])
    if logits is None:
        logits = fairness_logits(classifier, cache, batch_size=batch_size, progress=say)
    rows, z = logits
    sens = sensitive_columns(cache, protected, rows)
    out = []
    for t in targets:
        idx, _ = resolve_attribute(t, names)
        name = names[idx]
        if name in sens or name not in clf_names:
            continue  # a protected attribute, or one the classifier does not predict
        say(f"fairness of the {name} classifier")
        y_true = np.asarray(cache.attrs[rows, idx])
        score = 1 / (1 + np.exp(-z[:, clf_names.index(name)].astype(np.float64)))
        out.append((name, fairness_report(y_true, score > 0.5, sensitive_features=sens,
                                          y_score=score, n_boot=n_boot, seed=seed)))
    return out
