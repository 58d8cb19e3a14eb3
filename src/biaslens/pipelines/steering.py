"""The steering use case, shared by ``biaslens audit steer`` and the app's steering page.

Resolve the inputs — a generator and a classifier (and optionally a judge) for their
roles (:mod:`biaslens.pipelines.inputs`), the reference images of the training data
(:mod:`biaslens.data.reference`), the device — then run
:func:`biaslens.audit.steer.steer_audit` and record the inputs beside the result.

- :func:`plan_steering` resolves everything that needs no model (the CLI's
  ``--dry-run`` prints :meth:`SteeringPlan.settings`);
- :func:`run_steering` loads the models and the reference and runs the plan;
- :func:`steer_models` runs the audit on models already loaded (the app keeps its own
  cached models), with a reference from :func:`reference_for`.

Example
-------
>>> from biaslens.pipelines.steering import plan_steering, run_steering
>>> plan = plan_steering("-Male", n_samples=32, steps=5, n_boot=0, device="cpu")
>>> plan.reference  # the shipped models; no bootstrap, so no data comparison
'none'
>>> run = run_steering(plan)
>>> run.result.target, run.to_dict()["inputs"]["reference"]
('-Male', 'none')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from biaslens.audit.steer import SteerOptions, SteerResult, steer_audit
from biaslens.data.reference import ReferenceSet, load_reference
from biaslens.options import options_dict, resolve_options
from biaslens.pipelines import inputs
from biaslens.precision import resolve_precision
from biaslens.tensors import pick_device

__all__ = ["SHIPPED_REFERENCE", "SteeringPlan", "SteeringRun", "plan_steering",
           "reference_for", "run_steering", "steer_models"]

#: The data the shipped models were trained on: faces of the default world.
SHIPPED_REFERENCE = "world:celeba"


@dataclass(frozen=True)
class SteeringPlan:
    """A steering run with every input resolved, before any model is loaded."""

    target: str             # attribute name or alias; "-Male" / "Female" = less Male
    generator: Path         # checkpoint of the generator
    classifier: Path | str  # checkpoint of the guide classifier, or a judge name
    judge: Path | str | None  # an independent judge: checkpoint or name (skin_tone, gender, age)
    reference: str          # a cache folder, "world[:PRESET]" or "none" ("auto" resolved)
    reference_n: int        # reference images sampled (seeded with options.seed)
    options: SteerOptions   # the audit's options, device resolved

    def inputs(self) -> dict[str, Any]:
        """The inputs recorded beside the result (``"inputs"`` in ``steer.json``)."""
        return {"generator": str(self.generator), "classifier": str(self.classifier),
                "judge": str(self.judge) if self.judge else None, "reference": self.reference}

    def run(self, progress: Callable[[int, int], None] | None = None) -> SteeringRun:
        """Load the models and the reference and steer (:func:`run_steering`)."""
        return run_steering(self, progress=progress)

    def settings(self) -> dict[str, Any]:
        """Every resolved setting, JSON-able (what ``--dry-run`` prints)."""
        opts = options_dict(self.options)
        del opts["keep_history"]  # how the result is held, not how the run goes
        return {"target": self.target, **self.inputs(), "reference_n": self.reference_n,
                **opts, "device": str(self.options.device)}


@dataclass
class SteeringRun:
    """The result of a :class:`SteeringPlan` and the plan it ran."""

    plan: SteeringPlan
    result: SteerResult

    def to_dict(self) -> dict[str, Any]:
        """The result's JSON summary with the plan's :meth:`~SteeringPlan.inputs`."""
        return {**self.result.to_dict(), "inputs": self.plan.inputs()}


def plan_steering(target: str = "Male", options: SteerOptions | None = None, *,
                  generator: str | Path | None = None, classifier: str | Path | None = None,
                  judge: str | Path | None = None, reference: str | Path = "auto",
                  reference_n: int = 2000, **overrides: Any) -> SteeringPlan:
    """Resolve the checkpoints, the reference and the device of a steering run.

    Parameters
    ----------
    target : the attribute to steer toward (see :func:`~biaslens.audit.steer.steer_audit`).
    options : :class:`~biaslens.audit.steer.SteerOptions`, or its fields as keywords;
        ``device`` may be ``"auto"`` (CUDA when there is one); ``precision`` ``"auto"`` is
        resolved for that device (bf16 where it has bf16 matrix units, else fp32).
    generator, classifier : checkpoints; ``None`` = the shipped defaults (an explicit
        path must exist; a missing default is one error naming the option to pass).
    judge : an optional independent classifier that measures the steered images.
    reference : a cache folder, ``"world[:PRESET]"``, ``"none"``, or ``"auto"``: the
        default world for the shipped models when ``n_boot >= 50`` (the comparison needs
        that many resamples), else none.
    reference_n : reference images to sample.
    """
    opts = resolve_options(SteerOptions, options, overrides, where="plan_steering")
    gen_path = inputs.model_path(generator, "generator")
    from biaslens.models.judges import JUDGES, check_judge_spec

    if classifier is not None and str(classifier) in JUDGES:  # a judge pushes (gradients)
        check_judge_spec(str(classifier))
        clf_path: Path | str = str(classifier)
    else:
        clf_path = inputs.model_path(classifier, "classifier")
    if judge is not None and str(judge) in JUDGES:
        check_judge_spec(str(judge))
        judge_path: Path | str | None = str(judge)
    else:
        judge_path = inputs.model_path(judge, "judge") if judge is not None else None
    if reference == "auto":
        shipped = generator is None and classifier is None
        reference = SHIPPED_REFERENCE if shipped and opts.n_boot >= 50 else "none"
    device = pick_device(opts.device)
    opts = dataclasses.replace(opts, device=device,
                               precision=resolve_precision(opts.precision, device))
    return SteeringPlan(target=target, generator=gen_path, classifier=clf_path,
                        judge=judge_path, reference=str(reference), reference_n=reference_n,
                        options=opts)


def reference_for(spec: str | Path, measurer: nn.Module, *, n: int = 2000,
                  seed: int = 0) -> ReferenceSet | None:
    """The reference images of ``spec`` (``None`` for ``"none"``) at the image size of the
    model that measures them (``measurer.image_size``, default 64)."""
    return load_reference(spec, n=n, seed=seed,
                          image_size=int(getattr(measurer, "image_size", 64)))


def steer_models(generator: nn.Module, classifier: nn.Module, target: str = "Male",
                 options: SteerOptions | None = None, *, judge: nn.Module | None = None,
                 reference: ReferenceSet | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 **overrides: Any) -> SteerResult:
    """:func:`~biaslens.audit.steer.steer_audit` on loaded models, compared with
    ``reference`` (from :func:`reference_for`) when one is given."""
    return steer_audit(generator, classifier, target, options, judge=judge,
                       reference=None if reference is None else reference.images,
                       reference_name="reference" if reference is None
                       else reference.description,
                       progress=progress, **overrides)


def run_steering(plan: SteeringPlan, *,
                 progress: Callable[[int, int], None] | None = None) -> SteeringRun:
    """Load the plan's models (on the CPU; the audit copies them to the device) and its
    reference, and steer. ``progress(step, steps)`` is called after each step."""
    from biaslens.models.judges import JUDGES, load_judge

    gen = inputs.load_for_role(plan.generator, "generator")
    if isinstance(plan.classifier, str) and plan.classifier in JUDGES:
        clf = load_judge(plan.classifier)  # a named judge as the guide: it pushes
    else:
        clf = inputs.load_for_role(plan.classifier, "classifier")
    if isinstance(plan.judge, str) and plan.judge in JUDGES:
        judge = load_judge(plan.judge)  # a named judge reads out; the classifier pushes
    else:
        judge = inputs.load_for_role(plan.judge, "judge") if plan.judge is not None else None
    ref = reference_for(plan.reference, judge if judge is not None else clf,
                        n=plan.reference_n, seed=plan.options.seed)
    result = steer_models(gen, clf, plan.target, plan.options, judge=judge, reference=ref,
                          progress=progress)
    return SteeringRun(plan=plan, result=result)
