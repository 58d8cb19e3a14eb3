"""What the generator audits (population, reconstruct, counterfactual) resolve alike.

Each use case is one ``*_on_cache`` function taking loaded models and a cache (the app
calls it with the models of its sidebar), and a plan that starts from checkpoint paths
(the CLI): :class:`AuditSetup` resolves the checkpoints for their roles, the cache (or
the default world) and the device *before* anything loads, so ``--dry-run`` can print
:meth:`AuditSetup.settings` and a missing checkpoint stops the run at once;
:meth:`AuditSetup.load` and :meth:`AuditSetup.open_cache` then give the models and the
cache the ``*_on_cache`` function takes. :class:`AuditRun` is what both return: the
audit's result and what the run resolved on the way (recorded as the JSON's ``inputs``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs
from biaslens.pipelines.inputs import group_columns

if TYPE_CHECKING:  # torch loads lazily: `biaslens --help` stays fast
    from contextlib import AbstractContextManager

    from torch import nn

__all__ = ["SPLITS", "AuditRun", "AuditSetup", "audit_split", "image_size",
           "split_view"]

#: The row sets an audit can read from a cache.
SPLITS = ("train", "val", "test", "all")

R = TypeVar("R")


def split_view(cache: Any, split: str | None, usual: str = "train") -> Any:
    """The rows of ``split`` (train/val/test/all) as a lazy :class:`CacheView` (images
    read on indexing); an empty split is an error.

    ``split=None`` is the app's and the report's rule: the ``usual`` split, or all rows
    when the cache has none.
    """
    if split is None:
        view = cache.subset(usual)
        return view if len(view) else cache.subset(None)
    if split not in SPLITS:
        raise BiasLensError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    view = cache.subset(None if split == "all" else split)
    if len(view) == 0:
        raise BiasLensError(f"{cache.path}: the cache has no {split!r} rows (try --split all)")
    return view


def image_size(model: nn.Module, default: int = 64) -> int:
    """The image side a model declares (``image_size``), else ``default``."""
    size = getattr(model, "image_size", None)
    return int(size) if isinstance(size, int) else default


@dataclass(frozen=True)
class AuditSetup:
    """Checkpoints resolved for their roles, a cache folder and a device, nothing loaded."""

    paths: dict[str, Path]  # role -> checkpoint (a shipped default where none was given)
    cache: Path | None      # None: a default-world cache is synthesized by open_cache
    device: Any             # torch.device

    @classmethod
    def resolve(cls, models: Mapping[str, str | Path | None], cache: str | Path | None = None,
                device: str = "auto") -> AuditSetup:
        """Resolve ``{role: given path or None}`` (:func:`inputs.model_path`) and the
        device (:func:`biaslens.tensors.pick_device`)."""
        from biaslens.tensors import pick_device

        paths = {role: inputs.model_path(given, role) for role, given in models.items()}
        return cls(paths, None if cache is None else Path(cache), pick_device(device))

    def settings(self, **options: Any) -> dict[str, Any]:
        """What a run records of itself: the checkpoints, the cache, ``options``, the device."""
        return {**{role: str(p) for role, p in self.paths.items()},
                "cache": None if self.cache is None else str(self.cache), **options,
                "device": str(self.device)}

    def load(self, role: str, accept: tuple[str, ...] | None = None) -> nn.Module:
        """The checkpoint of ``role``, checked to be able to play it."""
        return inputs.load_for_role(self.paths[role], role, accept=accept)

    def open_cache(self, size: int, world: str = "celeba",
                   note: Callable[[str], None] | None = None) -> AbstractContextManager[Any]:
        """The cache, or a default ``world`` cache of ``size`` pixels in a temp folder
        (:func:`inputs.cache_or_default`; ``note`` is told it was made)."""
        return inputs.cache_or_default(self.cache, size=size, world=world, note=note)

    def cache_name(self, cache: Any, synthesized: str = "synthesized") -> str:
        """How the run's ``inputs`` name the cache: its path, or ``synthesized``."""
        return str(cache.path) if self.cache is not None else synthesized


@dataclass
class AuditRun(Generic[R]):
    """An audit's result and what the run resolved beyond its settings."""

    result: R
    inputs: dict[str, Any] = field(default_factory=dict)  # e.g. the cache, classifier rates

    def to_dict(self, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The result's ``to_dict()`` with ``inputs``: ``settings`` updated with
        :attr:`inputs`."""
        return {**self.result.to_dict(), "inputs": {**(settings or {}), **self.inputs}}


def audit_split(audit: Callable[..., R], models: tuple[nn.Module | None, ...], cache: Any,
                split: str | None, usual: str, options: Any) -> AuditRun[R]:
    """``audit(*models, images, attrs, attribute_names, options, group_columns=...)`` on
    the rows of ``split`` (:func:`split_view`), the cache's group columns offered as groups:
    the call shape of the reconstruction and counterfactual audits."""
    view = split_view(cache, split, usual)
    return AuditRun(audit(*models, view.images, view.attrs, cache.attribute_names, options,
                          group_columns=group_columns(view)))
