"""Population use case: generate N faces, label them, compare with the training data.

:func:`population_on_cache` is the job for loaded models and a cache (the app calls it
with its sidebar's models); :func:`plan_population` starts from checkpoint paths, a cache
path and a device (the CLI): its :attr:`PopulationPlan.settings` are known before
anything loads (``--dry-run``), and :meth:`PopulationPlan.run` loads the models, opens the
cache or synthesizes the default world, and calls the same function.

Example
-------
>>> from biaslens.pipelines.population import plan_population
>>> plan = plan_population(n=300, n_boot=100, device="cpu")   # the shipped models
>>> run = plan.run()           # no cache: 2000 faces of the default world  # doctest: +SKIP
>>> run.result.discrepancy["l2_to_data"], run.to_dict(plan.settings)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from biaslens.audit.population import (
    PopulationOptions,
    PopulationResult,
    classifier_rates,
    population_audit,
)
from biaslens.errors import BiasLensError
from biaslens.options import resolve_options
from biaslens.pipelines.audit_setup import AuditRun, AuditSetup, image_size, split_view
from biaslens.precision import resolve_precision

__all__ = ["PopulationPlan", "plan_population", "population_on_cache", "val_classifier_rates"]


def val_classifier_rates(classifier: nn.Module, cache: Any, *, device: Any = "cpu",
                         precision: str = "fp32") -> Any:
    """The classifier's TPR/FPR on the val split of ``cache`` (the Rogan–Gladen
    correction's input), or None when the cache has no val rows."""
    val = cache.subset("val")
    if len(val) == 0:
        return None
    return classifier_rates(classifier, val.images, val.attrs, cache.attribute_names,
                            device=device, precision=precision)


def population_on_cache(generator: nn.Module, classifier: nn.Module, cache: Any,
                        options: PopulationOptions | None = None, *,
                        split: str | None = "train", correct: bool = True,
                        associations: str = "auto", reference_n: int = 2000,
                        reference_seed: int | None = None, reference_name: str | None = None,
                        **overrides: Any) -> AuditRun[PopulationResult]:
    """:func:`~biaslens.audit.population.population_audit` of ``generator`` against the
    labels of ``split`` of ``cache`` (``None``: the train split, or all rows without one).

    Parameters
    ----------
    options, overrides : :class:`PopulationOptions` (``n``, ``groups``, ``seed``, ...).
    correct : Rogan–Gladen correction with the classifier's TPR/FPR on the val split
        (recorded as ``inputs["classifier_rates"]``).
    associations : compare every attribute's association with this attribute in generated
        vs real faces of the split; ``"auto"``: with the first group column, skipped when
        ``n_boot < 50`` or the split has fewer than 10 faces; ``"none"``: skip.
    reference_n, reference_seed : real faces sampled for that comparison, and the seed of
        the sample (default ``seed + 1``).
    reference_name : what those faces are, for the report (default: the split and cache).
    """
    opts = resolve_options(PopulationOptions, options, overrides, where="population_on_cache")
    view = split_view(cache, split, usual="train")
    rates = None
    if correct:
        rates = val_classifier_rates(classifier, cache, device=opts.device,
                                     precision=opts.precision)
        if rates is None:
            raise BiasLensError(f"{cache.path}: no val rows to measure the classifier's "
                                "TPR/FPR; pass --no-correct")
    reference = None
    auto = associations.lower() == "auto"
    if associations.lower() != "none" and not (auto and (opts.n_boot < 50 or len(view) < 10)):
        if opts.n_boot < 50:
            raise BiasLensError(f"the association comparison needs --n-boot >= 50 "
                                f"(got {opts.n_boot}); or pass --associations none")
        if reference_n < 10:
            raise BiasLensError(f"--reference-n must be >= 10; got {reference_n}")
        from biaslens.data.reference import sample_images

        seed = opts.seed + 1 if reference_seed is None else reference_seed
        reference = sample_images(view.images, reference_n, seed)
        opts = dataclasses.replace(
            opts, association_target=None if auto else associations,
            reference_name=reference_name or f"the {split or 'train'} split of {cache.path}")
    result = population_audit(generator, classifier, view.attrs, cache.attribute_names, opts,
                              classifier_rates=rates, reference_images=reference,
                              data_clusters=getattr(view, "identities", None))
    return AuditRun(result, {"classifier_rates": None if rates is None else rates.to_dict()})


@dataclass(frozen=True)
class PopulationPlan:
    """A population audit from checkpoint paths, resolved but not yet run."""

    setup: AuditSetup             # generator and classifier checkpoints, cache, device
    options: PopulationOptions    # the audit's options (device = the setup's)
    split: str = "train"          # data rows compared with (train/val/test/all)
    correct: bool = True          # Rogan–Gladen correction (val-split TPR/FPR)
    associations: str = "auto"    # association comparison: attribute, "auto" or "none"
    reference_n: int = 2000       # real faces sampled for the association comparison
    judge: str | None = None      # independent judge: its corrected shares are added

    @property
    def settings(self) -> dict[str, Any]:
        """What the run records of itself (printed by ``--dry-run``)."""
        o = self.options
        return self.setup.settings(n=o.n, batch_size=o.batch_size, groups=list(o.groups),
                                   split=self.split, correct=self.correct, n_boot=o.n_boot,
                                   seed=o.seed, associations=self.associations,
                                   reference_n=self.reference_n,
                                   precision=resolve_precision(o.precision, self.setup.device),
                                   **({} if self.judge is None else {"judge": self.judge}))

    def run(self, note: Callable[[str], None] | None = None) -> AuditRun[PopulationResult]:
        """Load the models, open the cache (``note`` is told when one is synthesized) and
        run :func:`population_on_cache`."""
        setup = self.setup
        gen = setup.load("generator", accept=("generator", "vae"))
        clf = setup.load("classifier")
        with setup.open_cache(image_size(clf, image_size(gen)), note=note) as cache:
            data = cache.path if setup.cache is not None else "the synthesized cache"
            run = population_on_cache(gen, clf, cache, self.options, split=self.split,
                                      correct=self.correct, associations=self.associations,
                                      reference_n=self.reference_n,
                                      reference_name=f"the {self.split} split of {data}")
            if self.judge is not None:  # which judge labelled what; raw and corrected shares
                from biaslens.pipelines.judges import judge_shares, resolve_judge

                o = self.options
                judge = resolve_judge(self.judge, attribute=(list(o.groups) or ["Male"])[0],
                                      device=setup.device)
                run.inputs["judge"] = judge_shares(gen, judge, cache, n=o.n, seed=o.seed,
                                                   n_boot=o.n_boot, level=o.level,
                                                   device=setup.device)
        run.inputs = {"cache": setup.cache_name(cache), **run.inputs}
        return run


def plan_population(generator: str | Path | None = None, classifier: str | Path | None = None,
                    cache: str | Path | None = None, options: PopulationOptions | None = None,
                    *, device: str = "auto", split: str = "train", correct: bool = True,
                    associations: str = "auto", reference_n: int = 2000,
                    judge: str | None = None, **overrides: Any) -> PopulationPlan:
    """Resolve the checkpoints (``None``: the shipped defaults) and the device for a
    population audit; ``cache=None`` synthesizes the default world when it runs.
    ``options``/``overrides`` are :class:`PopulationOptions` (its device is ``device``).
    ``judge`` (``skin_tone | gender | age`` or a classifier checkpoint): an independent judge
    whose judge-error-corrected shares (calibrated on the val split) join the result."""
    if judge is not None:
        from biaslens.models.judges import check_judge_spec

        check_judge_spec(judge)
    setup = AuditSetup.resolve({"generator": generator, "classifier": classifier}, cache,
                               device)
    opts = resolve_options(PopulationOptions, options, {**overrides, "device": setup.device},
                           where="plan_population")
    return PopulationPlan(setup, opts, split=split, correct=correct,
                          associations=associations, reference_n=reference_n, judge=judge)
