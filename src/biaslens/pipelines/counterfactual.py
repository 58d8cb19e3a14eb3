"""Counterfactual use case: flip a conditional VAE's condition, see what else changes.

:func:`counterfactual_on_cache` is the job for a loaded CVAE and classifier and a cache
(the app calls it with its sidebar's models); :func:`plan_counterfactual` starts from
checkpoint paths (the CLI) and :meth:`CounterfactualPlan.run` loads them, checks the
condition before any data is read or synthesized, and calls the same function.

Example
-------
>>> from biaslens.pipelines.counterfactual import plan_counterfactual
>>> plan = plan_counterfactual(condition="Male", n=20, device="cpu")  # the shipped CVAE
>>> run = plan.run()                                                 # doctest: +SKIP
>>> run.result.flip_rate["decoder_flip"]                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from biaslens.audit.counterfactual import (
    CounterfactualOptions,
    CounterfactualResult,
    counterfactual_audit,
    resolve_condition,
)
from biaslens.errors import BiasLensError, UnknownNameError
from biaslens.options import resolve_options
from biaslens.pipelines.audit_setup import AuditRun, AuditSetup, audit_split, image_size
from biaslens.precision import resolve_precision

__all__ = ["CounterfactualPlan", "counterfactual_on_cache", "plan_counterfactual"]


def counterfactual_on_cache(cvae: nn.Module, classifier: nn.Module, cache: Any,
                            options: CounterfactualOptions | None = None, *,
                            split: str | None = "test", **overrides: Any
                            ) -> AuditRun[CounterfactualResult]:
    """:func:`~biaslens.audit.counterfactual.counterfactual_audit` on the rows of ``split``
    of ``cache`` (``None``: the test split, or all rows without one), with the cache's
    group columns (e.g. ``skin_type``) available as groups."""
    opts = resolve_options(CounterfactualOptions, options, overrides,
                           where="counterfactual_on_cache")
    return audit_split(counterfactual_audit, (cvae, classifier), cache, split, "test", opts)


@dataclass(frozen=True)
class CounterfactualPlan:
    """A counterfactual audit from checkpoint paths, resolved but not yet run."""

    setup: AuditSetup                # cvae and classifier checkpoints, cache, device
    options: CounterfactualOptions   # the audit's options (device = the setup's)
    split: str = "test"              # rows sampled from (train/val/test/all)

    @property
    def settings(self) -> dict[str, Any]:
        """What the run records of itself (printed by ``--dry-run``)."""
        o = self.options
        return self.setup.settings(condition=o.condition, groups=list(o.groups), n=o.n,
                                   scale=o.scale, split=self.split, n_boot=o.n_boot,
                                   seed=o.seed,
                                   precision=resolve_precision(o.precision, self.setup.device))

    def run(self, note: Callable[[str], None] | None = None
            ) -> AuditRun[CounterfactualResult]:
        """Load the models, check the condition, open the cache and run
        :func:`counterfactual_on_cache`."""
        setup = self.setup
        model, clf = setup.load("cvae"), setup.load("classifier")
        condition = self.options.condition
        try:  # before any data is read or synthesized
            resolve_condition(model, condition)
        except UnknownNameError:
            raise BiasLensError(f"--condition {condition!r}: {setup.paths['cvae']} is "
                                f"conditioned on {', '.join(model.condition_names)}; flip "
                                "one of those") from None
        with setup.open_cache(image_size(model), note=note) as cache:
            run = counterfactual_on_cache(model, clf, cache, self.options, split=self.split)
        run.inputs = {"cache": setup.cache_name(cache)}
        return run


def plan_counterfactual(cvae: str | Path | None = None, classifier: str | Path | None = None,
                        cache: str | Path | None = None,
                        options: CounterfactualOptions | None = None, *, device: str = "auto",
                        split: str = "test", **overrides: Any) -> CounterfactualPlan:
    """Resolve the checkpoints (``None``: the shipped defaults) and the device for a
    counterfactual audit. ``options``/``overrides`` are :class:`CounterfactualOptions`."""
    setup = AuditSetup.resolve({"cvae": cvae, "classifier": classifier}, cache, device)
    opts = resolve_options(CounterfactualOptions, options,
                           {**overrides, "device": setup.device}, where="plan_counterfactual")
    return CounterfactualPlan(setup, opts, split=split)
