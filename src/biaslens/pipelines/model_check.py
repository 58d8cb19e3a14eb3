"""Check an attribute classifier's heads against labelled data, on its own
(``biaslens models check CKPT CACHE``) or as part of an import
(``biaslens models import FILE --out DIR --check CACHE``).

An imported classifier's output columns are named by the import (CelebA's 40 names in
order, or ``--attribute-names``); a file whose columns are in another order or polarity
imports without error and then answers the wrong question. Its AUC per head on labelled
faces shows it: a head whose AUC interval lies below 0.5 scores the opposite of its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biaslens.pipelines.inputs import model_for_role, open_cache
from biaslens.pipelines.predict import ClassifierCheck, check_classifier

__all__ = ["ImportResult", "check_model", "import_model"]


def check_model(checkpoint: str | Path | None, cache: str | Path, *, split: str | None = None,
                batch_size: int = 512, device: str = "auto", precision: str = "auto",
                n_boot: int = 200, seed: int = 0,
                progress: Callable[[int, int], None] | None = None) -> ClassifierCheck:
    """:func:`~biaslens.pipelines.predict.check_classifier` of the classifier at
    ``checkpoint`` (folder or ``.pth``; None: the shipped one) on the cache at ``cache``:
    the rows of ``split`` (None: the test split, every row without one)."""
    from biaslens.tensors import pick_device

    dev = pick_device(device)
    data = open_cache(cache)
    model, path = model_for_role(checkpoint, "classifier", device=dev)
    result = check_classifier(model, data, split=split, batch_size=batch_size, device=dev,
                              precision=precision, n_boot=n_boot, seed=seed, progress=progress)
    result.settings["classifier"] = str(path)
    return result


@dataclass
class ImportResult:
    """An imported checkpoint (its ``config.json`` info) and its check, when asked for."""

    info: Any                              # biaslens.models.checkpoint.CheckpointInfo
    check: ClassifierCheck | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.info.to_dict(),
                "check": None if self.check is None else self.check.to_dict()}


def check_summary(check: ClassifierCheck, cache: Any) -> dict[str, Any]:
    """What an imported checkpoint remembers of its check (``imported_from["check"]``)."""
    d = check.metrics.to_dict() if check.metrics is not None else {}
    return {"cache": str(cache.path), "content_hash": cache.content_hash,
            "split": check.settings.get("split"), "n": d.get("n"),
            "mean_auc": d.get("mean_auc"), "n_boot": check.settings.get("n_boot"),
            "heads": {h.attribute: h.status for h in check.heads},
            "problems": [h.attribute for h in check.problems]}


def import_model(path: str | Path, out: str | Path, *, arch: str | None = None,
                 attribute_names: Sequence[str] | None = None, overwrite: bool = False,
                 check: str | Path | None = None, split: str | None = None,
                 batch_size: int = 512,
                 device: str = "auto", precision: str = "auto", n_boot: int = 200,
                 seed: int = 0, extra: dict[str, Any] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import a third-party ``.pth`` into a checkpoint folder ``out``; with ``check`` (a
    cache folder) also check the classifier's heads on it. The destination and the cache
    are checked before the file is read; nothing is written when the check cannot run
    (not a classifier, another image size, no shared attribute). The check's summary is
    recorded in ``extra["imported_from"]["check"]``, next to the import's options."""
    from biaslens.models.checkpoint import check_destination, read_checkpoint_info, save_checkpoint
    from biaslens.models.importers import import_with_provenance
    from biaslens.models.registry import check_role
    from biaslens.tensors import pick_device

    check_destination(out, overwrite=overwrite)
    cache = open_cache(check) if check is not None else None
    dev = pick_device(device)
    model, provenance = import_with_provenance(path, arch, attribute_names=attribute_names)
    result = None
    if cache is not None:
        check_role(model, "classifier", source=str(path))
        result = check_classifier(model, cache, split=split, batch_size=batch_size, device=dev,
                                  precision=precision, n_boot=n_boot, seed=seed,
                                  progress=progress)
        result.settings["classifier"] = str(path)
        provenance["check"] = check_summary(result, cache)
    save_checkpoint(model, out, extra={**(extra or {}), "imported_from": provenance})
    return ImportResult(read_checkpoint_info(out), result)
