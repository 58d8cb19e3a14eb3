"""Reconstruction use case: per-group reconstruction error and label preservation of a VAE.

:func:`reconstruct_on_cache` is the job for a loaded VAE and classifier and a cache;
:func:`plan_reconstruct` starts from checkpoint paths (the CLI) and
:meth:`ReconstructPlan.run` loads them and calls the same function. Without a cache the
audit set is synthesized from the ``balanced`` world (Male and skin type 50/50 and
independent) and all its rows are used: about 500 faces per gender × skin-type cell.

Example
-------
>>> from biaslens.pipelines.reconstruct import plan_reconstruct
>>> plan = plan_reconstruct(per_group=20, device="cpu")   # the shipped VAE and classifier
>>> run = plan.run()                                      # doctest: +SKIP
>>> run.result.worst_group, run.result.mse_gap            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from biaslens.audit.reconstruct import (
    ReconstructOptions,
    ReconstructResult,
    reconstruct_audit,
)
from biaslens.options import resolve_options
from biaslens.pipelines.audit_setup import AuditRun, AuditSetup, audit_split, image_size
from biaslens.precision import resolve_precision

__all__ = ["ReconstructPlan", "plan_reconstruct", "reconstruct_on_cache"]


def reconstruct_on_cache(vae: nn.Module, classifier: nn.Module | None, cache: Any,
                         options: ReconstructOptions | None = None, *,
                         split: str | None = "test", **overrides: Any
                         ) -> AuditRun[ReconstructResult]:
    """:func:`~biaslens.audit.reconstruct.reconstruct_audit` on the rows of ``split`` of
    ``cache`` (``None``: the test split, or all rows without one), with the cache's group
    columns (e.g. ``skin_type``) available as groups."""
    opts = resolve_options(ReconstructOptions, options, overrides, where="reconstruct_on_cache")
    return audit_split(reconstruct_audit, (vae, classifier), cache, split, "test", opts)


@dataclass(frozen=True)
class ReconstructPlan:
    """A reconstruction audit from checkpoint paths, resolved but not yet run."""

    setup: AuditSetup              # vae and classifier checkpoints, cache, device
    options: ReconstructOptions    # the audit's options (device = the setup's)
    split: str = "test"            # rows sampled from; all rows of a synthesized cache

    @property
    def settings(self) -> dict[str, Any]:
        """What the run records of itself (printed by ``--dry-run``)."""
        o = self.options
        return self.setup.settings(groups=list(o.groups), per_group=o.per_group,
                                   split=self.split, n_boot=o.n_boot, seed=o.seed,
                                   precision=resolve_precision(o.precision, self.setup.device))

    def run(self, note: Callable[[str], None] | None = None) -> AuditRun[ReconstructResult]:
        """Load the models, open the cache or synthesize a balanced one, and run
        :func:`reconstruct_on_cache`."""
        setup = self.setup
        model, clf = setup.load("vae"), setup.load("classifier")
        given = setup.cache is not None
        with setup.open_cache(image_size(model), world="celeba" if given else "balanced",
                              note=note) as cache:
            run = reconstruct_on_cache(model, clf, cache, self.options,
                                       split=self.split if given else "all")
        run.inputs = {"cache": setup.cache_name(cache, "synthesized (balanced world, all rows)")}
        return run


def plan_reconstruct(vae: str | Path | None = None, classifier: str | Path | None = None,
                     cache: str | Path | None = None, options: ReconstructOptions | None = None,
                     *, device: str = "auto", split: str = "test",
                     **overrides: Any) -> ReconstructPlan:
    """Resolve the checkpoints (``None``: the shipped defaults) and the device for a
    reconstruction audit. ``options``/``overrides`` are :class:`ReconstructOptions`."""
    setup = AuditSetup.resolve({"vae": vae, "classifier": classifier}, cache, device)
    opts = resolve_options(ReconstructOptions, options, {**overrides, "device": setup.device},
                           where="plan_reconstruct")
    return ReconstructPlan(setup, opts, split=split)
