"""Run an attribute classifier on a cache (``biaslens predict``), and check its heads
against the cache's labels (``biaslens models check``).

:func:`predict_cache` labels the rows of a split and returns the
:class:`~biaslens.data.predictions.PredictionTable` (the file ``audit fairness`` reads)
with, where the cache has the classifier's attributes, their
:func:`~biaslens.audit.classifier.classifier_metrics`. :func:`check_classifier` reads
those metrics head by head (:func:`~biaslens.audit.classifier.check_heads`). ``audit
fairness CACHE --classifier CKPT`` goes through :func:`predict_cache` too, then reads the
table's columns as it reads a predictions file::

    result = predict_cache(classifier, cache, split="test")
    result.table.write("preds.csv")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from biaslens.audit.classifier import ClassifierMetrics, HeadCheck, check_heads, classifier_metrics
from biaslens.data.predictions import PredictionTable, check_format
from biaslens.errors import BiasLensError
from biaslens.pipelines.audit_setup import SPLITS, split_view
from biaslens.pipelines.fairness import check_image_size
from biaslens.pipelines.inputs import group_columns

if TYPE_CHECKING:
    from torch import nn

__all__ = ["ClassifierCheck", "PredictPlan", "PredictResult", "check_classifier",
           "matched_attributes", "plan_predict", "predict_cache", "predict_table",
           "table_metrics"]

#: Images per progress report (a multiple of the batch size is used).
_PROGRESS_ROWS = 4096


def matched_attributes(classifier_names: list[str], cache_names: list[str]
                       ) -> dict[str, tuple[str, int]]:
    """``{classifier output: (cache attribute, sign)}`` for the outputs the cache labels:
    CelebA's spelling or a course alias (sign 1), or a negated name such as ``Female`` or
    ``-Male`` (sign -1: the output predicts the attribute's absence)."""
    from biaslens.names import resolve_attribute

    out = {}
    for name in classifier_names:
        try:
            idx, sign = resolve_attribute(name, cache_names)
        except BiasLensError:
            continue
        out[name] = (cache_names[idx], sign)
    return out


def predict_table(classifier: nn.Module, cache: Any, *, split: str | None = "all",
                  batch_size: int = 512, device: Any = "cpu", precision: str = "fp32",
                  progress: Callable[[int, int], None] | None = None) -> PredictionTable:
    """The classifier's logits on the rows of ``split`` (``train | val | test | all``;
    None: the test split, every row without one), with every attribute label and group
    column of the cache (outputs the cache labels take its spelling of the name).
    ``progress(done, total)`` after each chunk of images."""
    import torch

    from biaslens.models.inference import inference_copy
    from biaslens.tensors import pick_device, predict_logits

    check_image_size(classifier, cache, "classifier")
    view = split_view(cache, split, usual="test")
    names = [str(n) for n in getattr(classifier, "attribute_names", None) or []]
    if not names:
        raise BiasLensError("the classifier has no attribute_names; it cannot label a cache")
    dev = pick_device(device)
    model = inference_copy(classifier, dev)
    n = len(view)
    step = max(batch_size, (_PROGRESS_ROWS // batch_size) * batch_size)
    parts = []
    with torch.no_grad():
        for start in range(0, n, step):
            parts.append(predict_logits(model, view.images[np.arange(start, min(n, start + step))],
                                        batch_size=batch_size, device=dev, precision=precision))
            if progress is not None:
                progress(min(n, start + step), n)
    logits = np.concatenate(parts) if parts else np.zeros((0, len(names)), np.float32)
    if logits.shape[1] != len(names):
        raise BiasLensError(f"the classifier returned {logits.shape[1]} logits per image but "
                            f"names {len(names)} attributes")
    cache_names = list(cache.attribute_names)
    matched = matched_attributes(names, cache_names)
    # the cache's spelling where an output predicts an attribute; a negated one keeps its
    # name and gets the complement as its truth (a "Female" column scored against not-Male)
    names = [matched[n][0] if n in matched and matched[n][1] > 0 else n for n in names]
    labels = {a: np.asarray(view.attrs[:, j]) for j, a in enumerate(cache_names)}
    for n, (attr, sign) in matched.items():
        if sign < 0 and n not in labels:
            labels[n] = ~labels[attr]
    return PredictionTable(index=np.asarray(view.indices), split=np.asarray(view.split),
                           attribute_names=names, logits=logits, labels=labels,
                           groups=group_columns(view),
                           image_names=getattr(view, "image_names", None))


@dataclass
class PredictResult:
    """A classifier's predictions on a cache and, where the cache labels its attributes,
    their quality (``metrics`` None when it labels none)."""

    table: PredictionTable
    metrics: ClassifierMetrics | None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        names = list(self.table.attribute_names)
        return {"settings": self.settings, "n": len(self.table), "attributes": names,
                "labelled": [a for a in names if a in self.table.labels],
                "unlabelled": [a for a in names if a not in self.table.labels],
                "groups": list(self.table.groups),
                "metrics": None if self.metrics is None else self.metrics.to_dict()}


def table_metrics(table: PredictionTable, *, n_boot: int = 200, seed: int = 0,
                  level: float = 0.95) -> ClassifierMetrics | None:
    """:func:`classifier_metrics` of the labelled attributes of ``table``."""
    cols = [j for j, a in enumerate(table.attribute_names) if a in table.labels]
    if not cols or not len(table):
        return None
    names = [table.attribute_names[j] for j in cols]
    y = np.stack([table.labels[a] for a in names], axis=1).astype(bool)
    return classifier_metrics(y, table.logits[:, cols], names, n_boot=n_boot, seed=seed,
                              level=level)


def predict_cache(classifier: nn.Module, cache: Any, *, split: str | None = "all",
                  batch_size: int = 512, device: Any = "cpu", precision: str = "fp32",
                  n_boot: int = 200, seed: int = 0, level: float = 0.95,
                  progress: Callable[[int, int], None] | None = None) -> PredictResult:
    """:func:`predict_table`, then per-attribute metrics with CIs where labels exist.

    Parameters
    ----------
    classifier : attribute classifier of the cache's image size.
    cache : a loaded cache; ``split`` picks its rows (``all`` by default).
    n_boot, seed, level : bootstrap resamples of the rows, their seed, CI coverage.
    progress : ``progress(done, total)`` while the images are classified.
    """
    from biaslens.precision import resolve_precision
    from biaslens.tensors import pick_device

    dev = pick_device(device)
    table = predict_table(classifier, cache, split=split, batch_size=batch_size, device=dev,
                          precision=precision, progress=progress)
    settings = {"cache": str(cache.path), "split": split or "test (all rows without one)",
                "n": len(table), "batch_size": batch_size, "device": str(dev),
                "precision": resolve_precision(precision, dev), "n_boot": n_boot,
                "seed": seed, "level": level}
    return PredictResult(table, table_metrics(table, n_boot=n_boot, seed=seed, level=level),
                         settings)


@dataclass(frozen=True)
class PredictPlan:
    """``biaslens predict`` resolved and checked, nothing loaded: run with :meth:`run`."""

    cache: Path
    classifier: Path
    out: Path
    json_out: Path
    split: str
    batch_size: int
    device: Any
    precision: str
    n_boot: int
    seed: int

    def settings(self) -> dict[str, Any]:
        return {"cache": str(self.cache), "classifier": str(self.classifier),
                "out": str(self.out), "json": str(self.json_out), "split": self.split,
                "batch_size": self.batch_size, "device": str(self.device),
                "precision": self.precision, "n_boot": self.n_boot, "seed": self.seed}

    def run(self, progress: Callable[[int, int], None] | None = None) -> PredictResult:
        """Load, predict, write the table; the caller writes the JSON of the result."""
        from biaslens.pipelines.inputs import model_for_role, open_cache

        cache = open_cache(self.cache)
        classifier, _ = model_for_role(self.classifier, "classifier", device=self.device)
        result = predict_cache(classifier, cache, split=self.split, batch_size=self.batch_size,
                               device=self.device, precision=self.precision,
                               n_boot=self.n_boot, seed=self.seed, progress=progress)
        result.settings.update(classifier=str(self.classifier), out=str(self.out))
        result.table.write(self.out)
        return result


def plan_predict(cache: str | Path, *, out: str | Path, classifier: str | Path | None = None,
                 json_out: str | Path | None = None, split: str = "all",
                 batch_size: int = 512, device: str = "auto", precision: str = "auto",
                 n_boot: int = 200, seed: int = 0) -> PredictPlan:
    """Check every input of ``biaslens predict`` before anything loads: the output format
    (``.csv | .parquet | .npz``), the split, the cache folder, the classifier (the shipped
    default when None), the device and precision. ``json_out`` defaults to
    ``OUT`` with ``.metrics.json`` in place of its suffix."""
    from biaslens.pipelines.inputs import model_path
    from biaslens.precision import resolve_precision
    from biaslens.tensors import pick_device

    out = Path(out)
    check_format(out)
    if split not in SPLITS:
        raise BiasLensError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    if batch_size < 1:
        raise BiasLensError(f"--batch-size must be at least 1, got {batch_size}")
    if n_boot < 0:
        raise BiasLensError(f"--n-boot must be 0 or more, got {n_boot}")
    cache = Path(cache).expanduser()
    if not cache.is_dir():
        raise BiasLensError(f"{cache}: no such cache folder (make one with `biaslens data "
                            "ingest` or `biaslens data synth`)")
    dev = pick_device(device)
    resolve_precision(precision, dev)
    jpath = Path(json_out) if json_out is not None else out.with_suffix(".metrics.json")
    return PredictPlan(cache, model_path(classifier, "classifier"), out, jpath, split,
                       batch_size, dev, precision, n_boot, seed)


# --------------------------------------------------------------------------- models check


@dataclass
class ClassifierCheck:
    """Each classifier head read against a cache's labels (``biaslens models check``)."""

    heads: list[HeadCheck]
    metrics: ClassifierMetrics | None
    unchecked: list[str]                   # outputs the cache has no labels for
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[HeadCheck]:
        """The inverted and at-chance heads."""
        return [h for h in self.heads if h.status in ("inverted", "chance")]

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "heads": [h.to_dict() for h in self.heads],
                "problems": [h.attribute for h in self.problems], "unchecked": self.unchecked,
                "metrics": None if self.metrics is None else self.metrics.to_dict()}


def check_classifier(classifier: nn.Module, cache: Any, *, split: str | None = None,
                     batch_size: int = 512, device: Any = "cpu", precision: str = "fp32",
                     n_boot: int = 200, seed: int = 0,
                     progress: Callable[[int, int], None] | None = None) -> ClassifierCheck:
    """Per-head AUC (with bootstrap CI) of ``classifier`` on ``cache``'s labels: which heads
    are inverted (CI below 0.5: the output means the opposite of its name) or at chance,
    on the rows of ``split`` (None: the test split, every row without one). A cache that
    labels none of the classifier's outputs is an error."""
    result = predict_cache(classifier, cache, split=split, batch_size=batch_size,
                           device=device, precision=precision, n_boot=n_boot, seed=seed,
                           progress=progress)
    names = list(result.table.attribute_names)
    if result.metrics is None:
        raise BiasLensError(f"{cache.path}: the cache labels none of the classifier's "
                            f"outputs ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''}"
                            f"); check it on a cache with those attributes")
    unchecked = [a for a in names if a not in result.table.labels]
    return ClassifierCheck(check_heads(result.metrics), result.metrics, unchecked,
                           result.settings)
