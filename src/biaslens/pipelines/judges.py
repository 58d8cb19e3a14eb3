"""Judge use cases: the coverage study of judge-error-corrected shares, and the
judge-labelled, corrected shares of a generator (``--judge`` in population).

Example
-------
>>> from biaslens.pipelines.judges import coverage_study
>>> doc = coverage_study(n_pool=500, n_rep=5, judges=["label_noise"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from biaslens.errors import BiasLensError

__all__ = ["coverage_study", "judge_shares", "resolve_judge"]


def resolve_judge(spec: str, *, attribute: str | None = None, device: Any = "cpu") -> nn.Module:
    """A ``--judge`` value (``skin_tone | gender | age`` or a classifier checkpoint judging
    ``attribute``), loaded; one clear error when it cannot be."""
    from biaslens.models.judges import load_judge

    return load_judge(spec, attribute=attribute, device=device)


def coverage_study(classifier: str | Path | None = None, *,
                   log: Callable[[str], None] | None = None, **options: Any) -> dict[str, Any]:
    """:func:`~biaslens.experiments.judge_coverage.judge_coverage` with the classifier
    resolved like every command's ``--classifier`` (``None``: the shipped one, loaded only
    when a classifier-based judge is asked for); returns the result's JSON document."""
    from biaslens.experiments.judge_coverage import JudgeCoverageOptions, judge_coverage
    from biaslens.options import resolve_options
    from biaslens.pipelines.inputs import model_for_role

    o = resolve_options(JudgeCoverageOptions, None, options, where="coverage_study")
    clf, path = None, None
    if {"classifier", "noisy_classifier", "intersection"} & set(o.judges):
        clf, path = model_for_role(classifier, "classifier")
    doc = judge_coverage(o, classifier=clf, log=log).to_dict()
    doc["inputs"] = {"classifier": None if path is None else str(path)}
    return doc


def judge_shares(generator: nn.Module, judge: nn.Module, cache: Any, *, n: int,
                 seed: int = 0, n_boot: int = 1000, level: float = 0.95,
                 batch_size: int = 256, device: Any = "cpu") -> dict[str, Any]:
    """Judge ``n`` generated faces into the judge's categories and correct the shares of
    its true groups with its confusion on the val split of ``cache`` (the calibration
    set); the JSON block says which judge labelled what and that the shares are corrected.
    """
    import torch

    from biaslens.audit.judge_correction import confusion_counts, correct_shares
    from biaslens.pipelines.inputs import group_columns
    from biaslens.tensors import generate_images, to_model_pixels

    val = cache.subset("val")
    if len(val) == 0:
        raise BiasLensError(f"{cache.path}: no val rows to calibrate the judge on")
    column = judge.truth_column
    groups = group_columns(val)
    if column in groups:
        truth = np.asarray(groups[column], np.int64)
    elif column in list(cache.attribute_names):
        truth = np.asarray(val.attrs)[:, list(cache.attribute_names).index(column)].astype(
            np.int64)
    else:
        raise BiasLensError(f"{cache.path}: the cache has no {column!r} column to calibrate "
                            f"the {judge.judge_name} judge on")
    kt, kj = len(judge.truth_names), len(judge.category_names)
    judged_cal = np.concatenate([judge.categorize(to_model_pixels(val.images[i:i + batch_size],
                                                                  device=device))
                                 for i in range(0, len(val), batch_size)])
    conf = confusion_counts(truth, judged_cal, kt, kj)
    empty = [g for g, r in zip(judge.truth_names, conf.sum(1)) if r == 0]
    if empty:
        raise BiasLensError(f"{cache.path}: the val split has no face of {', '.join(empty)} "
                            f"({column!r}), so the {judge.judge_name} judge cannot be "
                            "calibrated on it; use a cache with both groups in val")
    parts: list[np.ndarray] = []

    def keep(x: torch.Tensor, rows: slice) -> None:
        parts.append(np.asarray(judge.categorize(x)))

    with torch.no_grad():
        generate_images(generator, n, batch_size=batch_size, seed=seed, device=device,
                        consumer=keep)
    counts = np.bincount(np.concatenate(parts), minlength=kj)
    res = correct_shares(conf, counts, group_names=judge.truth_names,
                         judged_names=judge.category_names, n_boot=n_boot, level=level,
                         seed=seed, judge=judge.judge_name)
    doc = res.to_dict()
    doc.update(labelled=f"{n} generated faces and {len(val)} val faces of the cache "
                        f"(calibration: true {column!r})",
               raw_shares="judged categories, as labelled (raw)",
               corrected_shares=f"true {column!r} groups, judge-error corrected")
    return doc
