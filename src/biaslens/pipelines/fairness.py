"""Fairness of an attribute classifier: on a cache (the report's, the app's and the
library's one way to audit it) or from a CSV of predictions (``biaslens audit fairness``).

:func:`cache_fairness`: the classifier labels the cache's test split (every row when it
has none); for each target attribute that it predicts and that is not itself
protected, :func:`biaslens.audit.fairness.fairness_report` compares its predictions
(score = sigmoid of the logit, positive above 0.5) with the cache's labels across the
protected attributes or cache group columns (intersectional when several). With two
groups the report carries the Ramaswamy et al. metrics (AP, DEO, BA, KL) too::

    [(target, report)] = cache_fairness(classifier, cache, ["Smiling"], ["Male"])

:func:`predictions_fairness` reads the labels, predictions, sensitive columns (and
optional scores and weights) from a predictions file (CSV, parquet or npz; the format of
:mod:`biaslens.data.predictions`), naming the line and column of a bad value.
:func:`classifier_fairness` labels a cache with :func:`biaslens.pipelines.predict.predict_table`
and reads the same columns from the table (``audit fairness CACHE --classifier CKPT``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from biaslens.audit.fairness import FairnessReport, fairness_report
from biaslens.data.predictions import parse_binary, parse_float, read_predictions, target_columns
from biaslens.errors import BiasLensError, DataError
from biaslens.names import canonical_name, resolve_attribute

if TYPE_CHECKING:
    from torch import nn

__all__ = ["cache_fairness", "check_image_size", "classifier_fairness", "columns_fairness",
           "fairness_logits", "fairness_view", "judged_column", "parse_binary", "parse_float",
           "predictions_fairness", "read_predictions", "sensitive_columns"]


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
                    progress: Callable[[str], None] | None = None, precision: str = "fp32"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, logits)``: the cache rows of :func:`fairness_view` and the classifier's
    logits ``(n, A)`` on them (worth caching: the app keeps them per model and data).
    ``precision`` (``fp32 | auto | bf16``) of the classifier pass."""
    from biaslens.tensors import predict_logits

    view = fairness_view(cache)
    if progress is not None:
        progress(f"classifying {len(view)} test images")
    return view.indices, predict_logits(classifier, view.images, batch_size=batch_size,
                                        precision=precision)


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


def judged_column(judge: nn.Module, images: Any, batch_size: int = 256
                  ) -> tuple[str, np.ndarray]:
    """``(column name, category names (n,))``: the judge's categories of uint8 images
    ``(n, H, W, 3)``, a sensitive column that no label supplies (e.g. ITA skin-tone bins
    of CelebA, which has no skin-tone label). The name says which judge labelled it."""
    from biaslens.tensors import to_model_pixels

    cats = np.concatenate([np.asarray(judge.categorize(to_model_pixels(images[i:i + batch_size])))
                           for i in range(0, len(images), batch_size)])
    return f"{judge.judge_name} (judged)", np.asarray(judge.category_names)[cats]


def cache_fairness(classifier: nn.Module, cache: Any, targets: Sequence[str],
                   protected: Sequence[str], *, n_boot: int = 300, seed: int = 0,
                   judge: nn.Module | None = None,
                   logits: tuple[np.ndarray, np.ndarray] | None = None, batch_size: int = 512,
                   progress: Callable[[str], None] | None = None, precision: str = "fp32"
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
    judge : an independent judge whose categories of the images join ``protected`` as the
        column ``"<judge> (judged)"`` (:func:`judged_column`).
    n_boot, seed : bootstrap resamples for every CI, and their seed.
    logits : ``(rows, logits)`` from :func:`fairness_logits`, when already computed.
    batch_size : classifier batch size when ``logits`` is not given.
    progress : called with a short message before each step.
    precision : of the classifier pass when ``logits`` is not given (``fp32 | auto | bf16``).

    Returns
    -------
    ``[(target name, FairnessReport), ...]`` in the order of ``targets``; when the cache
    knows who is in each image every CI resamples people (``report.resampling``).
    """
    say = progress or (lambda msg: None)
    check_image_size(classifier, cache, "classifier")
    names = list(cache.attribute_names)
    clf_names = list(getattr(classifier, "attribute_names", None) or [])
    if logits is None:
        logits = fairness_logits(classifier, cache, batch_size=batch_size, progress=say,
                                 precision=precision)
    rows, z = logits
    sens = sensitive_columns(cache, protected, rows)
    ids = getattr(cache, "identities", None)      # known identities: resample people
    clusters = None if ids is None else ids[rows]
    if judge is not None:
        say(f"judging {len(rows)} images with the {judge.judge_name} judge")
        name, col = judged_column(judge, np.asarray(cache.images[np.sort(rows)])[
            np.argsort(np.argsort(rows))], batch_size=batch_size)
        sens[name] = col
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
                                          y_score=score, n_boot=n_boot, seed=seed,
                                          clusters=clusters)))
    return out


# --------------------------------------------------------------------------- predictions


def columns_fairness(data: Mapping[str, np.ndarray], *, source: str | Path, y_true: str,
                     y_pred: str, sensitive: Sequence[str], score: str | None = None,
                     weight: str | None = None, n_boot: int = 500, seed: int = 0,
                     kl_variant: str = "reference", identity: str | None = None,
                     judge: nn.Module | None = None, image_column: str | None = None,
                     image_size: int = 64) -> FairnessReport:
    """Fairness from the columns of a predictions table (a file read by
    :func:`~biaslens.data.predictions.read_predictions`, or the columns of a
    :class:`~biaslens.data.predictions.PredictionTable`); ``source`` names it in errors.
    Sensitive values are compared as text, so a file and the table it was written from
    give the same groups. ``identity``: a column naming the person in each row (every CI
    then resamples people). ``judge`` with ``image_column`` (image paths, relative to the
    source's folder): the judge's categories of those images (aligned faces, resized to
    ``image_size``) join the sensitive columns as ``"<judge> (judged)"``."""
    path = Path(source)
    lines = data["__line__"] if "__line__" in data else np.arange(
        2, 2 + len(data[y_true]), dtype=np.int64)
    yt = parse_binary(data[y_true], lines, path=path, column=y_true)
    yp = parse_binary(data[y_pred], lines, path=path, column=y_pred)
    s = parse_float(data[score], lines, path=path, column=score) if score else None
    w = parse_float(data[weight], lines, path=path, column=weight) if weight else None
    if w is not None and (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise DataError("negative weight", path=path, line=int(lines[i]), field=weight)
    sens = {c: np.asarray(data[c]).astype(str) for c in sensitive}
    if judge is not None:
        from biaslens.data.images import BadImage, load_image

        images = np.empty((len(lines), image_size, image_size, 3), np.uint8)
        for i, rel in enumerate(data[image_column]):  # one file per row: I/O bound
            try:
                images[i] = load_image(path.parent / str(rel), size=image_size, crop=None)
            except (BadImage, FileNotFoundError) as exc:
                raise DataError(f"image {rel!r}: {exc}", path=path, line=int(lines[i]),
                                field=image_column) from None
        name, col = judged_column(judge, images)
        sens[name] = col
    return fairness_report(yt, yp, sensitive_features=sens, y_score=s, sample_weight=w,
                           n_boot=n_boot, seed=seed, kl_variant=kl_variant,
                           clusters=None if identity is None else np.asarray(data[identity]))


def predictions_fairness(path: str | Path, *, y_true: str | None = None,
                         y_pred: str | None = None, sensitive: Sequence[str],
                         score: str | None = None, weight: str | None = None,
                         target: str | None = None, n_boot: int = 500, seed: int = 0,
                         kl_variant: str = "reference", identity: str | None = None,
                         judge: nn.Module | None = None, image_column: str | None = None,
                         image_size: int = 64) -> FairnessReport:
    """Fairness of the predictions in a file (``.csv``, ``.parquet`` or ``.npz``;
    ``biaslens audit fairness --predictions``).

    ``y_true``, ``y_pred``: columns of binary labels and predictions (0/1, -1/1,
    true/false); or ``target``: an attribute of a ``biaslens predict`` file, whose
    ``T``, ``T_pred`` and ``T_prob`` columns are read (:func:`target_columns`).
    ``sensitive``: the sensitive column(s) (several: intersectional groups); ``score``: a
    score column in [0, 1] (adds AP/DEO/BA/KL); ``weight``: a non-negative sample-weight
    column; ``identity``: a column naming the person in each row (every CI then resamples
    people). A bad file, column or value is a :class:`DataError` naming the line and column.
    ``judge``, ``image_column``, ``image_size``: see :func:`columns_fairness`.
    """
    path = Path(path)
    if (judge is None) != (image_column is None):
        raise DataError("a judge needs --image-column (the column of image paths), and "
                        "--image-column needs a --judge", field="--image-column")
    y_true, y_pred, score = _target_or_columns(target, y_true, y_pred, score)
    extra = [c for c in (score, weight, identity, image_column) if c]
    cols = list(dict.fromkeys([y_true, y_pred, *sensitive, *extra]))
    return columns_fairness(read_predictions(path, cols), source=path, y_true=y_true,
                            y_pred=y_pred, sensitive=sensitive, score=score, weight=weight,
                            n_boot=n_boot, seed=seed, kl_variant=kl_variant, identity=identity,
                            judge=judge, image_column=image_column, image_size=image_size)


def _target_or_columns(target: str | None, y_true: str | None, y_pred: str | None,
                       score: str | None) -> tuple[str, str, str | None]:
    if target is not None:
        if y_true is not None or y_pred is not None:
            raise BiasLensError("give either target= (a biaslens predict file) or "
                                "y_true= and y_pred=, not both")
        t_true, t_pred, t_score = target_columns(target)
        return t_true, t_pred, score or t_score
    if y_true is None or y_pred is None:
        raise BiasLensError("name the label columns: y_true= and y_pred= (or target= for a "
                            "file written by biaslens predict)")
    return y_true, y_pred, score


def classifier_fairness(classifier: nn.Module, cache: Any, *, target: str,
                        sensitive: Sequence[str], split: str | None = None,
                        batch_size: int = 512, device: Any = "cpu", precision: str = "fp32",
                        n_boot: int = 500, seed: int = 0, kl_variant: str = "reference",
                        progress: Callable[[int, int], None] | None = None) -> FairnessReport:
    """Fairness of ``classifier``'s ``target`` predictions on ``cache`` across ``sensitive``
    (cache attributes or group columns): the rows of ``split`` (None: the test split,
    every row without one) labelled by :func:`biaslens.pipelines.predict.predict_table`,
    then read as the columns of the predictions file it would write
    (``biaslens audit fairness CACHE --classifier CKPT``)."""
    from biaslens.pipelines.predict import predict_table

    table = predict_table(classifier, cache, split=split, batch_size=batch_size,
                          device=device, precision=precision, progress=progress)
    names = list(cache.attribute_names)
    idx, _ = resolve_attribute(target, names)
    name = names[idx]
    if name not in table.attribute_names:
        raise BiasLensError(f"the classifier does not predict {name!r}; it predicts "
                            f"{', '.join(table.attribute_names[:8])}"
                            f"{', ...' if len(table.attribute_names) > 8 else ''}")
    columns = table.columns()
    sens = []
    for p in sensitive:
        col = p if p in table.groups else canonical_name(p, names)
        if col == name:
            raise BiasLensError(f"{name!r} is both the target and a sensitive attribute")
        sens.append(col)
    y_true, y_pred, score = target_columns(name)
    ids = getattr(cache, "identities", None)     # known identities: CIs resample people
    identity = None
    if ids is not None:
        identity = "__identity__"
        columns = {**columns, identity: np.asarray(ids)[np.asarray(columns["index"], int)]}
    return columns_fairness(columns, source=cache.path, y_true=y_true, y_pred=y_pred,
                            sensitive=sens, score=score, n_boot=n_boot, seed=seed,
                            kl_variant=kl_variant, identity=identity)
