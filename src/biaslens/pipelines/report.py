"""The audit report's use case: run every audit that applies to a cache and given models.

:func:`build_report` runs, on a loaded cache, the dataset statistics, steering per
target and the population audit (with a generator and a classifier) and classifier
fairness per target against the protected attributes (with a classifier), and returns
the results as a :class:`ReportData`; with a generator, the independent judges of
:attr:`ReportOptions.judges` label the generated faces too (raw and judge-error-corrected
shares). :func:`report_for_path` does the same from the
command line's inputs: a cache or run folder, checkpoints or the shipped defaults.
Rendering (figures, HTML, ``report.json``) is the report layer's job:
``biaslens.report.write_report(biaslens.report.Report.of(data), "out/report.html")``
(docs/report.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import biaslens
from biaslens.errors import BiasLensError
from biaslens.options import CheckedOptions, Range, resolve_options

if TYPE_CHECKING:
    from torch import nn

    from biaslens.audit.dataset import DatasetStats
    from biaslens.audit.fairness import FairnessReport
    from biaslens.audit.population import PopulationResult
    from biaslens.audit.steer import SteerResult

__all__ = ["ReportData", "ReportOptions", "build_report", "report_for_path"]

#: Training images of the cache the steering and population audits compare with.
N_REFERENCE = 2000


@dataclass(frozen=True)
class ReportOptions(CheckedOptions):
    """Sizes and seed of the report's audits."""

    RANGES = {"steer_n": Range(2), "steer_steps": Range(1), "population_n": Range(1),
              "n_boot": Range(0), "seed": Range(0)}

    steer_n: int = 64           # faces steered per target
    steer_steps: int = 20       # steering steps
    steer_step_size: float | str = "calibrated"  # w, "course" (1/steps) or "calibrated"
    population_n: int = 1000    # generated faces for the population audit
    n_boot: int = 300           # bootstrap resamples for every CI (>= 50: data comparison)
    seed: int = 0               # seeds every audit
    precision: str = "auto"     # model passes: auto | fp32 | bf16 (biaslens.precision)
    # independent judges of the generated faces (skin_tone | gender | age | a classifier
    # checkpoint); () for none. skin_tone has no weights and takes ~2 s for 1000 faces
    judges: tuple[str, ...] = ("skin_tone",)

    def __post_init__(self) -> None:
        super().__post_init__()
        from biaslens.pipelines.judges import check_judges

        object.__setattr__(self, "judges", check_judges(self.judges))  # names --judge


@dataclass
class ReportData:
    """The results a report shows. Result objects keep their own ``to_dict()``.

    ``judges`` are the judge blocks of the generated faces
    (:func:`biaslens.pipelines.judges.judge_blocks`: which judge labelled what, raw and,
    where the cache calibrates it, corrected shares); ``fairness`` is a list of
    ``(target, FairnessReport)``; ``mitigation`` maps a file
    name to the JSON it held (from a run folder); ``notes`` say what was skipped;
    ``created`` is when the audits ran (UTC).
    """

    title: str
    inputs: dict[str, Any]
    dataset: DatasetStats | None = None
    steer: list[SteerResult] = field(default_factory=list)
    population: PopulationResult | None = None
    judges: list[dict[str, Any]] = field(default_factory=list)
    fairness: list[tuple[str, FairnessReport]] = field(default_factory=list)
    mitigation: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content of the results (the report adds its figures and summary)."""
        return {
            "format": "biaslens-report", "version": 1, "title": self.title,
            "created": self.created,
            "biaslens": biaslens.__version__, "inputs": dict(self.inputs),
            "dataset": None if self.dataset is None else self.dataset.to_dict(),
            "steer": [s.to_dict() for s in self.steer],
            "population": None if self.population is None else self.population.to_dict(),
            "judges": [dict(b) for b in self.judges],
            "fairness": [{"target": t, "report": r.to_dict()} for t, r in self.fairness],
            "mitigation": self.mitigation, "notes": list(self.notes),
        }


def build_report(cache: Any, *, generator: nn.Module | None = None,
                 classifier: nn.Module | None = None, targets: Sequence[str] = ("Male",),
                 protected: Sequence[str] = ("Male",), mitigation: Mapping[str, Any] | None = None,
                 options: ReportOptions | None = None, inputs: Mapping[str, Any] | None = None,
                 progress: Callable[[str], None] | None = None, **overrides: Any) -> ReportData:
    """Run the audits that apply and collect their results.

    Parameters
    ----------
    cache : a loaded dataset cache (:func:`biaslens.data.cache.load_cache`).
    generator, classifier : optional models; steering and population need both,
        fairness needs the classifier. Audits whose models are missing are skipped
        with a note.
    targets : steering targets (``-Male`` allowed) and the attributes whose classifier
        fairness is measured.
    protected : sensitive attributes (or cache group columns such as ``skin_type``)
        for fairness and dataset groups.
    mitigation : JSON results of mitigation runs (file name -> content), shown as tables.
    options : :class:`ReportOptions` (audit sizes, seed, judges); ``**overrides`` set its
        fields by name (``steer_n=8, n_boot=50, judges=("skin_tone", "gender")``).
    inputs : extra entries for the report's inputs table (model paths, the run).
    progress : called with a short message before each audit.
    """
    from biaslens.names import resolve_attribute
    from biaslens.pipelines.dataset import cache_stats
    from biaslens.pipelines.inputs import group_columns
    from biaslens.precision import resolve_precision

    opts = resolve_options(ReportOptions, options, overrides, where="build_report")
    say = progress or (lambda msg: None)
    names = list(cache.attribute_names)
    targets = [t.strip() for t in targets if t.strip()]
    if not targets:
        raise BiasLensError("no targets given (e.g. --targets Male,Smiling)")
    for t in targets:
        resolve_attribute(t, names)  # unknown names fail before any long work
    group_cols = group_columns(cache)
    data = ReportData(title=f"biaslens audit report: {Path(str(cache.path)).name}",
                      inputs={"cache": str(cache.path), "content_hash": cache.content_hash,
                              "targets": targets, "protected": list(protected),
                              "seed": opts.seed, "n_boot": opts.n_boot,
                              "precision": resolve_precision(opts.precision, "cpu"),
                              "judges": list(opts.judges),
                              **dict(inputs or {})},
                      mitigation=dict(mitigation or {}))

    say("dataset statistics")
    groups = [g for g in protected] + [g for g in group_cols if g not in protected]
    data.dataset = cache_stats(cache, target=targets[0], groups=groups, n_boot=opts.n_boot,
                               seed=opts.seed)

    if generator is None or classifier is None:
        data.notes.append("steering and population audits skipped: they need a generator "
                          "and an attribute classifier")
    else:
        _generator_audits(data, cache, generator, classifier, targets, protected, opts, say)

    if classifier is None:
        data.notes.append("fairness audit skipped: it needs an attribute classifier")
    else:
        from biaslens.pipelines.fairness import cache_fairness

        data.fairness = cache_fairness(classifier, cache, targets, protected,
                                       n_boot=opts.n_boot, seed=opts.seed, progress=say,
                                       precision=opts.precision)
    return data


def _generator_audits(data: ReportData, cache: Any, generator: nn.Module,
                      classifier: nn.Module, targets: Sequence[str], protected: Sequence[str],
                      opts: ReportOptions, say: Callable[[str], None]) -> None:
    """Steering per target, then the population audit and its judges, into ``data``."""
    from biaslens.audit.population import population_audit
    from biaslens.audit.steer import steer_audit
    from biaslens.data.reference import sample_training_images
    from biaslens.pipelines.population import val_classifier_rates

    names = list(cache.attribute_names)
    reference_name = "training images of the report's data"
    # reference for the data comparison: up to 2,000 training images of the cache
    ref = sample_training_images(cache, N_REFERENCE, opts.seed) if opts.n_boot >= 50 else None
    ref = ref if ref is not None and len(ref) >= 10 else None
    for t in targets:
        say(f"steering toward {t}")
        data.steer.append(steer_audit(generator, classifier, t, n_samples=opts.steer_n,
                                      steps=opts.steer_steps,
                                      step_size=opts.steer_step_size, direction="+",
                                      n_boot=opts.n_boot, seed=opts.seed, n_show=6,
                                      keep_history=False, reference=ref,
                                      reference_name=reference_name,
                                      precision=opts.precision))
    say("population")
    train = cache.subset("train")
    base = train if len(train) else cache
    pop_groups = [g for g in protected if g in names] or ["Male"]
    # corrected for the classifier's TPR/FPR on the val split, as `audit population` does
    rates = val_classifier_rates(classifier, cache, precision=opts.precision)
    data.population = population_audit(generator, classifier, np.asarray(base.attrs), names,
                                       n=opts.population_n, groups=pop_groups, seed=opts.seed,
                                       n_boot=opts.n_boot, reference_images=ref,
                                       reference_name=reference_name, classifier_rates=rates,
                                       precision=opts.precision)
    if opts.judges:
        from biaslens.pipelines.judges import judge_blocks

        say(f"judging the generated faces ({', '.join(opts.judges)})")
        data.judges = judge_blocks(generator, cache, opts.judges, n=opts.population_n,
                                   seed=opts.seed, n_boot=opts.n_boot,
                                   attribute=pop_groups[0])


def report_for_path(run_or_cache: str | Path | None, *, cache: str | Path | None = None,
                    generator: str | Path | None = None, classifier: str | Path | None = None,
                    note: Callable[[str], None] | None = None,
                    **kwargs: Any) -> ReportData:
    """:func:`build_report` from a cache or run folder and checkpoint paths.

    ``run_or_cache`` is resolved by :func:`biaslens.pipelines.runs.resolve_report_input`
    (``cache`` overrides a run's own); ``None`` (and no ``cache``) audits a fresh
    synthetic default world (:func:`~biaslens.pipelines.inputs.cache_or_default`, ``note``
    is told), as the other commands do without a cache; a run folder's result JSON files
    become the
    mitigation tables. A model not given is the shipped
    default; when that is not installed, ``note`` is told and the audits needing it are
    skipped. A checkpoint of the wrong kind, or a bad :class:`ReportOptions` value (an
    unknown judge), is refused before any audit runs. Other keyword arguments go to
    :func:`build_report`.
    """
    import dataclasses

    from biaslens.pipelines.inputs import (DEFAULT_CACHE_N, cache_or_default,
                                           default_model_path, load_for_role, open_cache)
    from biaslens.pipelines.runs import read_run_results, resolve_report_input

    # the options first: a bad value (an unknown --judge) fails before anything loads
    names = {f.name for f in dataclasses.fields(ReportOptions)}
    kwargs["options"] = resolve_options(
        ReportOptions, kwargs.pop("options", None),
        {k: kwargs.pop(k) for k in list(kwargs) if k in names}, where="report_for_path")
    if run_or_cache is None and cache is None:
        cache_path, run = None, None
    elif run_or_cache is None:
        cache_path, run = Path(cache), None
    else:
        cache_path, run = resolve_report_input(Path(run_or_cache),
                                               None if cache is None else Path(cache))
    if cache_path is not None:
        open_cache(cache_path)   # a bad cache fails before any model loads
    models: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for role, given in (("generator", generator), ("classifier", classifier)):
        try:
            path = Path(given) if given is not None else default_model_path(role)
        except BiasLensError as exc:
            if note is not None:
                note(str(exc))
            continue
        models[role] = load_for_role(path, role)
        inputs[role] = str(path)
    results = read_run_results(run) if run is not None else {}
    if run is not None:
        inputs["run"] = str(run)
    with cache_or_default(cache_path, note=note) as data_cache:
        if cache_path is None:   # not the temp folder's name, which is gone afterwards
            inputs["cache"] = f"synthetic default world ({DEFAULT_CACHE_N:,} faces, seed 0)"
        data = build_report(data_cache, generator=models.get("generator"),
                            classifier=models.get("classifier"), mitigation=results,
                            inputs=inputs, **kwargs)
    if cache_path is None:
        data.title = "biaslens audit report: synthetic default world"
    return data
