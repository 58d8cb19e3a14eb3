"""Judge use cases: the coverage study of judge-error-corrected shares, and the
judge-labelled, corrected shares of a generator (``--judge`` in population, the report's
and the app's judge blocks).

Example
-------
>>> from biaslens.pipelines.judges import coverage_study
>>> doc = coverage_study(n_pool=500, n_rep=5, judges=["label_noise"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from biaslens.errors import BiasLensError
from biaslens.io import json_floats
from biaslens.tensors import generate_images

__all__ = ["check_judges", "coverage_study", "judge_blocks", "judge_shares", "resolve_judge"]


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


def _truth(cache: Any, column: str) -> np.ndarray | None:
    """The true group index of every face of ``cache`` in ``column`` (a group column or a
    0/1 attribute), or None when the cache has no such column."""
    from biaslens.pipelines.inputs import group_columns

    groups = group_columns(cache)
    if column in groups:
        return np.asarray(groups[column], np.int64)
    if column in list(cache.attribute_names):
        return np.asarray(cache.attrs)[:, list(cache.attribute_names).index(column)].astype(
            np.int64)
    return None


def _data_shares(cache: Any, column: str, k: int) -> list[float] | None:
    """Shares of the ``k`` true groups of ``column`` among the training faces of ``cache``
    (all faces when it has no train split); None without the column or faces."""
    train = cache.subset("train")
    truth = _truth(train if len(train) else cache, column)
    if truth is None or len(truth) == 0 or truth.min() < 0 or truth.max() >= k:
        return None
    return json_floats(np.bincount(truth, minlength=k) / len(truth))


def _calibration(judge: nn.Module, cache: Any, batch_size: int, device: Any
                 ) -> tuple[np.ndarray | None, str]:
    """The judge's confusion counts on the val split of ``cache`` (true ``truth_column``
    × judged category) and a description of that set; ``(None, why not)`` when the cache
    cannot calibrate it (no val rows, no such column, a group with no face)."""
    from biaslens.audit.judge_correction import confusion_counts
    from biaslens.tensors import to_model_pixels

    val = cache.subset("val")
    column = judge.truth_column
    if len(val) == 0:
        return None, f"{cache.path}: no val rows to calibrate the {judge.judge_name} judge on"
    truth = _truth(val, column)
    if truth is None:
        return None, (f"{cache.path}: the cache has no {column!r} column to calibrate "
                      f"the {judge.judge_name} judge on")
    kt, kj = len(judge.truth_names), len(judge.category_names)
    judged_cal = np.concatenate([judge.categorize(to_model_pixels(val.images[i:i + batch_size],
                                                                  device=device))
                                 for i in range(0, len(val), batch_size)])
    conf = confusion_counts(truth, judged_cal, kt, kj)
    empty = [g for g, r in zip(judge.truth_names, conf.sum(1)) if r == 0]
    if empty:
        return None, (f"{cache.path}: the val split has no face of {', '.join(empty)} "
                      f"({column!r}), so the {judge.judge_name} judge cannot be "
                      "calibrated on it; use a cache with both groups in val")
    return conf, f"{len(val)} val faces of the cache (calibration: true {column!r})"


def judge_shares(generator: nn.Module, judge: nn.Module, cache: Any, *, n: int,
                 seed: int = 0, n_boot: int = 1000, level: float = 0.95,
                 batch_size: int = 256, device: Any = "cpu",
                 require_calibration: bool = True) -> dict[str, Any]:
    """Judge ``n`` generated faces into the judge's categories and correct the shares of
    its true groups with its confusion on the val split of ``cache`` (the calibration
    set); the JSON block says which judge labelled what and whether the shares are
    corrected (``"shares": "corrected"``) or raw only (``"raw"``).

    ``require_calibration=False``: a cache that cannot calibrate the judge (no val rows,
    no ``truth_column``, a group without faces, a singular confusion) gives the raw shares
    alone, ``corrected`` None and the reason in ``not_corrected``, instead of an error.
    """
    import torch

    from biaslens.audit.judge_correction import correct_shares
    from biaslens.stats import wilson_ci

    conf, calibration = _calibration(judge, cache, batch_size, device)
    if conf is None and require_calibration:
        raise BiasLensError(calibration)
    parts: list[np.ndarray] = []

    def keep(x: torch.Tensor, rows: slice) -> None:
        parts.append(np.asarray(judge.categorize(x)))

    with torch.no_grad():
        generate_images(generator, n, batch_size=batch_size, seed=seed, device=device,
                        consumer=keep)
    kj = len(judge.category_names)
    counts = np.bincount(np.concatenate(parts), minlength=kj)
    column = judge.truth_column
    data_shares = _data_shares(cache, column, len(judge.truth_names))
    if conf is not None:
        try:
            res = correct_shares(conf, counts, group_names=judge.truth_names,
                                 judged_names=judge.category_names, n_boot=n_boot,
                                 level=level, seed=seed, judge=judge.judge_name)
        except BiasLensError as exc:  # e.g. a singular confusion: groups judged alike
            if require_calibration:
                raise
            conf, calibration = None, f"the correction failed on {calibration}: {exc}"
    if conf is None:  # raw only: the judge's reading, with Wilson intervals
        lo, hi = wilson_ci(counts, n, level)
        return {"judge": judge.judge_name, "shares": "raw",
                "group_names": list(judge.truth_names),
                "judged_names": list(judge.category_names),
                "judged_counts": counts.astype(int).tolist(), "n_calibration": 0,
                "n_generated": int(counts.sum()), "raw": json_floats(counts / n),
                "raw_ci": [json_floats(lo), json_floats(hi)], "corrected": None,
                "corrected_ci": None, "level": level, "n_boot": n_boot, "seed": seed,
                "labelled": f"{n} generated faces",
                "raw_shares": "judged categories, as labelled (raw)",
                "corrected_shares": None, "not_corrected": calibration,
                "data_shares": data_shares}
    doc = res.to_dict()
    doc.update(labelled=f"{n} generated faces and {calibration}",
               raw_shares="judged categories, as labelled (raw)",
               corrected_shares=f"true {column!r} groups, judge-error corrected",
               data_shares=data_shares)
    return doc


def judge_blocks(generator: nn.Module, cache: Any, judges: Sequence[str], *, n: int,
                 seed: int = 0, n_boot: int = 1000, level: float = 0.95,
                 attribute: str | None = None, batch_size: int = 256,
                 device: Any = "cpu") -> list[dict[str, Any]]:
    """:func:`judge_shares` of each named judge (``attribute``: what a classifier
    checkpoint judges), corrected where ``cache`` can calibrate it and raw otherwise:
    the judge blocks of the report and of the app's population page."""
    return [judge_shares(generator, resolve_judge(spec, attribute=attribute, device=device),
                         cache, n=n, seed=seed, n_boot=n_boot, level=level,
                         batch_size=batch_size, device=device, require_calibration=False)
            for spec in judges]


def check_judges(judges: Sequence[str]) -> tuple[str, ...]:
    """The judge specs (a sequence, or one comma-separated string) as a tuple, each checked
    (:func:`~biaslens.models.judges.check_judge_spec`: unknown name, missing extra, no such
    checkpoint) before any work; the error names ``--judge``."""
    from biaslens.models.judges import check_judge_spec

    if isinstance(judges, str):
        judges = judges.split(",")
    specs = tuple(str(j).strip() for j in judges if str(j).strip())
    for spec in specs:
        check_judge_spec(spec)
    return specs
