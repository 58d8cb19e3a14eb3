"""Steering audit: classifier-guided latent steering and feature covariance.

Push a generator's noise vectors toward (or away from) a target attribute by gradient
ascent on an attribute classifier's raw logit, record every attribute's logit at every
step, and measure which other attributes move together with the target (docs/algorithms.md
§2). A large covariance means the generator has *entangled* that attribute with the
target: asking for "more Male" also buys "less Wearing_Lipstick".

The module is split in two pure layers:

- :func:`steer_history` (torch): the batched steering loop, returning raw logits.
- :func:`covariance_statistics` (numpy): covariance/correlation row, bootstrap CIs over
  images, a per-image test and Benjamini–Hochberg control.

:func:`steer_audit` composes them and returns a :class:`SteerResult`. The settings that
travel together are one :class:`SteerOptions`; every field can also be passed as a
keyword (``steer_audit(G, C, "Male", steps=40)``).

Example
-------
>>> import torch
>>> from biaslens.audit.steer import steer_audit
>>> class G(torch.nn.Module):
...     z_dim = 4
...     def __init__(self):
...         super().__init__(); self.lin = torch.nn.Linear(4, 3 * 2 * 2)
...     def forward(self, z):
...         return torch.tanh(self.lin(z)).view(-1, 3, 2, 2)
>>> class C(torch.nn.Module):
...     attribute_names = ["Male", "Smiling"]
...     def __init__(self):
...         super().__init__(); self.lin = torch.nn.Linear(12, 2)
...     def forward(self, x):
...         return self.lin(x.flatten(1))
>>> _ = torch.manual_seed(0)
>>> res = steer_audit(G(), C(), "Male", n_samples=16, steps=4, n_boot=50, n_show=2)
>>> res.covariance.shape, res.ranked[0].name
((2,), 'Smiling')
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from scipy import stats as _st
from torch import nn

from biaslens.audit.steer_reference import DataComparison, compare_with_data
from biaslens.errors import BiasLensError
from biaslens.io import json_float, json_floats
from biaslens.models.inference import inference_copy
from biaslens.names import display_name, resolve_attribute
from biaslens.options import OPEN_UNIT, POSITIVE, CheckedOptions, Range, resolve_options
from biaslens.precision import Precision, autocast, resolve_precision
from biaslens.stats import benjamini_hochberg, bootstrap_ci, row_bincount
from biaslens.tensors import frozen, predict_logits, to_uint8

__all__ = [
    "RankedAttribute",
    "SteerHistory",
    "SteerOptions",
    "SteerResult",
    "SteerStatistics",
    "StepCalibration",
    "ascent_step",
    "calibrate_step",
    "course_or_numeric_step",
    "parse_step_size",
    "covariance_ranking",
    "covariance_statistics",
    "PracticalEffect",
    "practical_effect",
    "steer_audit",
    "steer_history",
    "steering_objective",
    "steering_score",
]

Direction = Literal["+", "-", "both"]
#: A step size ``w``: a number, ``None`` or ``"course"`` (``1 / steps``, the GANs course's
#: rule) or ``"calibrated"`` (the smallest tried ``w`` under which the target visibly
#: crosses, :func:`calibrate_step`).
StepSize = float | Literal["course", "calibrated"] | None
_DIRECTIONS: dict[str, tuple[int, ...]] = {"+": (1,), "-": (-1,), "both": (1, -1)}


@dataclass(frozen=True)
class SteerOptions(CheckedOptions):
    """Settings of a steering audit (:func:`steer_audit`, :func:`steer_history`).

    Ranges (``RANGES``) and choices (``CHOICES``) are checked when the object is made.
    """

    n_samples: int = 256                # n noise vectors (images), each steered
    steps: int = 30                     # K gradient steps per pass
    step_size: StepSize = None          # w; None/"course" = 1/steps; "calibrated" (below)
    calibrate_range: tuple[float, float] = (0.2, 0.8)  # "calibrated": target prob. low, high
    direction: Direction = "both"       # "+", "-" or "both" (+ pass then - pass from Z0)
    accumulate_grad: bool = False       # step with the running gradient sum (course quirk)
    disentangle: float = 0.0            # lambda >= 0: penalty on the other attributes' change
    top_k: int = 10                     # rows in the ranked table
    n_boot: int = 1000                  # bootstrap resamples over images (0: no CIs)
    fdr: float = 0.05                   # Benjamini-Hochberg false-discovery rate
    test: Literal["t", "signflip"] = "t"  # per-image test of each covariance
    seed: int = 0                       # seeds the noise Z0 and the resampling
    device: str | torch.device = "cpu"  # where the (copied) models run
    n_show: int = 8                     # samples whose images are kept for the grid (0: none)
    keep_history: bool = True           # keep the (P·K, n, A) logit history in the result
    precision: Precision = "auto"       # model passes: auto | fp32 | bf16 (biaslens.precision)
    min_target_change: float = 0.05     # logits; a target that moves less: nothing is flagged
    min_correlation: float = 0.1        # |correlation| below this is not flagged, whatever q

    RANGES = {"n_samples": Range(2), "steps": Range(1), "step_size": POSITIVE,
              "disentangle": Range(0), "top_k": Range(1), "n_boot": Range(0),
              "fdr": OPEN_UNIT, "seed": Range(0),
              "n_show": Range(0), "min_target_change": Range(0), "min_correlation": Range(0, 1)}
    CHOICES = {"direction": ("+", "-", "both"), "test": ("t", "signflip"),
               "step_size": ("course", "calibrated")}


# --------------------------------------------------------------------------- §2.1, §2.5


def steering_objective(current: torch.Tensor, original: torch.Tensor,
                       target_indices: Sequence[int], other_indices: Sequence[int] | None = None,
                       penalty: float = 0.0, signs: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Per-image steering objective (§2.5), shape ``(n,)``.

    ``r_i = s_i · mean_{t∈T} ℓ_t(z_i) − λ · ‖ℓ_O(z_i) − ℓ⁰_O(z_i)‖₂``. ``signs`` (scalar or
    ``(n,)``) is the push direction of each image (−1 steers *away* from the target);
    the penalty always discourages change in the other attributes ``O``.
    """
    target = current[:, list(target_indices)].mean(dim=1) * signs  # (n,)
    if penalty == 0.0 or not other_indices:
        return target
    delta = current[:, list(other_indices)] - original[:, list(other_indices)]  # (n, |O|)
    return target - penalty * torch.linalg.vector_norm(delta, dim=1)


def steering_score(current: torch.Tensor, original: torch.Tensor,
                   target_indices: Sequence[int], other_indices: Sequence[int] | None = None,
                   penalty: float = 0.0, signs: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Batch score ``S(Z)`` of §2.5: the mean over images of :func:`steering_objective`.

    >>> steering_score(torch.ones(4, 3), torch.zeros(4, 3), [0], [1, 2], 0.2).item()
    ... # doctest: +ELLIPSIS
    0.7171...
    """
    return steering_objective(current, original, target_indices, other_indices, penalty,
                              signs).mean()


def ascent_step(z: torch.Tensor, score_fn: Callable[[torch.Tensor], torch.Tensor],
                step_size: float, grad_sum: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """One gradient-ascent step ``z + w · ∂S/∂z`` (§2.1, the course's update rule).

    With ``grad_sum`` (course-compatible accumulation) the step uses the running sum of
    all gradients so far, as the course loops do by never clearing ``z.grad``.
    Returns ``(new_z, gradient_used)``; pass the latter back as ``grad_sum`` to
    accumulate.
    """
    z = z.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(score_fn(z), z)
    if grad_sum is not None:
        grad = grad_sum + grad
    return (z + step_size * grad).detach(), grad


# --------------------------------------------------------------------------- §2.2 history


@dataclass
class SteerHistory:
    """Raw output of the steering loop (§2.2).

    Attributes
    ----------
    history : (P·K, n, A) float32 — logits recorded before each update; the passes
        (one per direction, ``+`` first) are concatenated along the step axis.
    initial : (n, A) float32 — ``L0``, the logits at the starting noise.
    images : (P·K, n_show, H, W, 3) uint8 — the first ``n_show`` samples at every step.
    push_signs : the sign applied to the *raw* target logit in each pass.
    guide_target : (P·K, n) float32 — the *guide's* target logit at every step when a
        separate judge recorded ``history``; ``None`` otherwise.
    precision : the resolved precision of the model passes, ``"fp32"`` or ``"bf16"``.
    """

    history: np.ndarray
    initial: np.ndarray
    images: np.ndarray
    push_signs: tuple[int, ...]
    steps: int
    elapsed_s: float
    guide_target: np.ndarray | None = None
    precision: str = "fp32"


def steer_history(generator: nn.Module, classifier: nn.Module, target_index: int,
                  options: SteerOptions | None = None, *, sign: int = 1,
                  judge: nn.Module | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  **overrides: Any) -> SteerHistory:
    """Run the batched steering loop and record every attribute's logit at every step.

    All samples and both directions go through the models as one batch of
    ``P·n`` noise vectors, with one forward/backward per step. Logits are written into a
    preallocated device tensor and copied to the host once, at the end, so the loop
    never synchronizes. The objective of each pass is the mean (over its ``n`` images)
    of :func:`steering_objective`, so every image's gradient carries the course's ``1/n``.

    Parameters
    ----------
    target_index, sign : the target column and its sign (−1 for ``-Male``/``Female``).
    options : :class:`SteerOptions` (or its fields as keywords); this loop uses
        ``n_samples``, ``steps``, ``step_size`` (``None``: ``1 / steps``), ``direction``
        (``+`` pass then ``−`` pass, each from ``Z0``), ``accumulate_grad`` (step with the
        running sum of gradients, the course loops' quirk), ``disentangle`` (``λ`` of
        §2.5; penalizes the L2 change of the other attributes), ``seed`` (seeds the CPU
        ``torch.Generator`` that draws ``Z0``, then moved to ``device``), ``device``,
        ``n_show`` (how many samples keep their images; bounds memory) and ``precision``
        (``auto``: bf16 autocast where the hardware has bf16 matrix units, see
        :mod:`biaslens.precision`; logits are recorded, and the objective computed, in
        float32).
    judge : a second classifier that *records* the logits while ``classifier`` (the guide)
        supplies the gradient; ``history`` then holds the judge's logits and
        ``guide_target`` the guide's target logit (see :func:`steer_audit`).
    progress : called as ``progress(step, steps)`` after each step (no host sync).
    """
    opts = resolve_options(SteerOptions, options, overrides, where="steer_history")
    n_samples, steps, direction = opts.n_samples, opts.steps, opts.direction  # ranges checked
    z_dim = getattr(generator, "z_dim", None)
    if not isinstance(z_dim, int):
        raise BiasLensError("the generator has no integer attribute 'z_dim' "
                            "(protocol: generator.z_dim, generator(z) -> (n, 3, H, W))")
    device = torch.device(opts.device)
    w = course_or_numeric_step(opts.step_size, steps)
    n, n_show = n_samples, max(0, min(opts.n_show, n_samples))
    push = tuple(d * sign for d in _DIRECTIONS[direction])
    n_pass = len(push)
    precision = resolve_precision(opts.precision, device)

    gen = torch.Generator().manual_seed(opts.seed)
    z0 = torch.randn(n, z_dim, generator=gen).to(device)  # drawn on CPU, as in the course
    signs = torch.tensor(push, dtype=torch.float32, device=device).repeat_interleave(n)  # (P·n,)
    show_rows = torch.cat([torch.arange(n_show) + p * n for p in range(n_pass)]).to(device)

    t0 = time.perf_counter()
    gen_model = inference_copy(generator, device)
    clf_model = inference_copy(classifier, device)
    judge_model = inference_copy(judge, device) if judge is not None else None
    frozen_models = (gen_model, clf_model) + ((judge_model,) if judge_model is not None else ())
    with frozen(*frozen_models):
        z = z0.repeat(n_pass, 1)  # (P·n, z_dim), every pass starts from Z0
        grad_sum = torch.zeros_like(z) if opts.accumulate_grad else None
        hist: torch.Tensor | None = None  # (K, P·n, A), allocated once A is known
        guide_t: torch.Tensor | None = None  # (K, P·n) guide target logit (judge runs only)
        imgs: torch.Tensor | None = None  # (K, P·n_show, H, W, 3) uint8
        start: torch.Tensor | None = None
        others: list[int] = []
        for k in range(steps):
            z.requires_grad_(True)
            with autocast(device, precision):
                x = gen_model(z)  # (P·n, 3, H, W)
                if x.ndim == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                logits = clf_model(x).float()  # (P·n, A)
                if judge_model is not None:
                    with torch.no_grad():
                        recorded = judge_model(x.detach()).float()  # (P·n, A_judge)
                else:
                    recorded = logits
            if hist is None:
                if logits.ndim != 2 or logits.shape[0] != n_pass * n:
                    raise BiasLensError(f"the classifier must return logits of shape (n, A); "
                                        f"got {tuple(logits.shape)}")
                a = logits.shape[1]
                if not 0 <= target_index < a:
                    raise BiasLensError(f"target index {target_index} is out of range for a "
                                        f"classifier with {a} outputs")
                if recorded.ndim != 2 or recorded.shape[0] != n_pass * n:
                    raise BiasLensError(f"the judge must return logits of shape (n, A); "
                                        f"got {tuple(recorded.shape)}")
                hist = torch.empty(steps, n_pass * n, recorded.shape[1], device=device)
                if judge_model is not None:
                    guide_t = torch.empty(steps, n_pass * n, device=device)
                imgs = torch.empty(steps, n_pass * n_show, x.shape[2], x.shape[3], 3,
                                   dtype=torch.uint8, device=device)
                start = logits.detach()
                others = [j for j in range(a) if j != target_index]
            hist[k] = recorded.detach()
            if guide_t is not None:
                guide_t[k] = logits.detach()[:, target_index]
            imgs[k] = to_uint8(x.detach()[show_rows])
            obj = steering_objective(logits, start, [target_index], others, opts.disentangle,
                                     signs)
            (grad,) = torch.autograd.grad(obj.sum() / n, z)  # per-pass mean => 1/n per image
            with torch.no_grad():
                if grad_sum is not None:
                    grad_sum += grad
                    grad = grad_sum
                z = z.detach() + w * grad
            if progress is not None:
                progress(k + 1, steps)
    assert hist is not None and imgs is not None
    hist_np = hist.cpu().numpy()  # the one host sync
    imgs_np = imgs.cpu().numpy()
    guide_np = guide_t.cpu().numpy() if guide_t is not None else None
    elapsed = time.perf_counter() - t0
    # (K, P·n, A) -> (P·K, n, A): pass p occupies steps p·K … p·K + K − 1.
    a = hist_np.shape[2]
    history = hist_np.reshape(steps, n_pass, n, a).transpose(1, 0, 2, 3).reshape(-1, n, a)
    if guide_np is not None:
        guide_np = np.ascontiguousarray(
            guide_np.reshape(steps, n_pass, n).transpose(1, 0, 2).reshape(-1, n),
            dtype=np.float32)
    h, wd = imgs_np.shape[2:4]
    images = imgs_np.reshape(steps, n_pass, n_show, h, wd, 3).transpose(1, 0, 2, 3, 4, 5)
    images = images.reshape(n_pass * steps, n_show, h, wd, 3)  # n_show may be 0
    return SteerHistory(history=np.ascontiguousarray(history, dtype=np.float32),
                        initial=history[0].astype(np.float32, copy=True),
                        images=np.ascontiguousarray(images), push_signs=push, steps=steps,
                        elapsed_s=elapsed, guide_target=guide_np, precision=precision)


def parse_step_size(text: str | float | None, option: str = "--step-size") -> StepSize:
    """A step size from the command line: a positive number, ``course`` or ``calibrated``.

    >>> parse_step_size("0.5"), parse_step_size("Calibrated"), parse_step_size(None)
    (0.5, 'calibrated', None)
    """
    if text is None or isinstance(text, (int, float)):
        value = None if text is None else float(text)
    else:
        word = text.strip().lower()
        if word in ("course", "calibrated"):
            return word  # type: ignore[return-value]
        try:
            value = float(word)
        except ValueError:
            raise BiasLensError(f"{option} must be a positive number, 'course' or "
                                f"'calibrated'; got {text!r}") from None
    if value is not None and not (np.isfinite(value) and value > 0):
        raise BiasLensError(f"{option} must be a positive number, 'course' or 'calibrated'; "
                            f"got {text!r}")
    return value


def course_or_numeric_step(step_size: StepSize, steps: int) -> float:
    """A numeric step size: ``None``/``"course"`` is the course's ``1 / steps``."""
    if step_size is None or step_size == "course":
        return 1.0 / steps
    if isinstance(step_size, str):
        raise BiasLensError(f"step_size {step_size!r} must be resolved to a number first "
                            f"(steer_audit calibrates 'calibrated' with calibrate_step)")
    return float(step_size)


@dataclass(frozen=True)
class StepCalibration:
    """How :func:`calibrate_step` chose the step size.

    ``end_probability`` is the mean target probability (of the *signed* target, as
    read by the measuring classifier) at the last step of each pass of the accepted pilot,
    in the order of the passes (``+`` first); ``reached`` says whether it crossed
    ``low``/``high``; ``tried`` lists every step size the pilots tried.
    """

    step_size: float
    reached: bool
    low: float
    high: float
    end_probability: tuple[float, ...]
    start_probability: float
    tried: tuple[float, ...]
    pilot_n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {"rule": "calibrated", "step_size": self.step_size, "reached": self.reached,
                "low": self.low, "high": self.high,
                "end_probability": json_floats(self.end_probability),
                "start_probability": json_float(self.start_probability),
                "tried": list(self.tried), "pilot_n": self.pilot_n}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def calibrate_step(generator: nn.Module, classifier: nn.Module, target_index: int,
                   options: SteerOptions | None = None, *, sign: int = 1,
                   read_index: int | None = None, read_sign: int | None = None,
                   judge: nn.Module | None = None, pilot_n: int = 16, max_tries: int = 8,
                   **overrides: Any) -> StepCalibration:
    """The step size under which steering visibly moves the target: pilots on the first
    ``pilot_n`` noise vectors (the same ``Z0`` as the audit, so they include the shown
    faces) until the mean target probability ends above ``high`` on the ``+`` pass and
    below ``low`` on the ``−`` pass (``calibrate_range``; either pass alone when
    ``direction`` is one-sided).

    The first pilot uses the course's ``1 / steps``; each next one scales ``w`` by the
    ratio of the logit change still needed to the change achieved (first order: the
    change is proportional to ``w``), between 2× and 64×; after a jump of more than 3×
    the geometric midpoint is tried once, so the step stays near the smallest that works. The pilot's objective is
    the mean over its ``pilot_n`` images, the audit's over ``n_samples``: the returned
    ``step_size`` is rescaled by ``n_samples / pilot_n`` so each image moves the same.
    When no pilot reaches the range (a generator the target cannot move) the step with
    the widest spread is returned with ``reached=False``. ``read_index``/``read_sign``
    name the target among the *recorded* outputs (the judge's when ``judge`` is given).
    """
    opts = resolve_options(SteerOptions, options, overrides, where="calibrate_step")
    low, high = (float(v) for v in opts.calibrate_range)
    if not 0.0 < low < high < 1.0:
        raise BiasLensError(f"calibrate_range must be 0 < low < high < 1; got "
                            f"{opts.calibrate_range}")
    ri = target_index if read_index is None else read_index
    rs = sign if read_sign is None else read_sign
    m = max(2, min(pilot_n, opts.n_samples))
    scale = opts.n_samples / m
    pilot = replace(opts, n_samples=m, n_show=1, step_size=None, keep_history=True)
    goal_hi, goal_lo = np.log(high / (1 - high)), np.log(low / (1 - low))
    tried: list[float] = []
    best: tuple[float, float, tuple[float, ...], float] | None = None  # spread, w, ends, p0

    def pilot_run(w: float) -> tuple[bool, tuple[float, ...], float, list[float]]:
        """(reached, end probabilities, start probability, multiplier still needed)."""
        nonlocal best
        run = steer_history(generator, classifier, target_index, pilot, sign=sign,
                            judge=judge, step_size=w)
        tried.append(w * scale)
        lg = run.history.reshape(len(run.push_signs), opts.steps, m, -1)[..., ri] * rs
        start, end = lg[0, 0], lg[:, -1]  # (m,), (P, m) signed target logits
        p_end = tuple(float(v) for v in _sigmoid(end).mean(axis=1))
        p0 = float(_sigmoid(start).mean())
        pushes = [p * sign for p in run.push_signs]  # +1: toward the signed target
        ok = [(p >= high) if d > 0 else (p <= low) for p, d in zip(p_end, pushes)]
        spread = float(sum(abs(p - p0) for p in p_end))
        if best is None or spread > best[0]:
            best = (spread, w * scale, p_end, p0)
        ratios = []  # the multiplier each failing pass still needs (first order)
        for e, d, good in zip(end, pushes, ok):
            if not good:
                achieved = float(np.mean(e - start)) * d
                needed = (goal_hi if d > 0 else -goal_lo) + 0.5 - float(np.mean(start)) * d
                ratios.append(needed / achieved if achieved > 1e-6 else 64.0)
        return all(ok), p_end, p0, ratios

    w, w_fail = 1.0 / opts.steps, None
    for _ in range(max_tries):
        reached, p_end, p0, ratios = pilot_run(w)
        if reached:
            # A long jump may overshoot: try the geometric midpoint once (smaller paths
            # stay nearer the data the generator was trained on).
            if w_fail is not None and w / w_fail > 3.0:
                mid = float(np.sqrt(w * w_fail))
                ok_mid, p_mid, p0_mid, _ = pilot_run(mid)
                if ok_mid:
                    w, p_end, p0 = mid, p_mid, p0_mid
            return StepCalibration(w * scale, True, low, high, p_end, p0, tuple(tried), m)
        w_fail = w
        w *= float(np.clip(max(ratios), 2.0, 64.0))
    assert best is not None
    return StepCalibration(best[1], False, low, high, best[2], best[3], tuple(tried), m)


# --------------------------------------------------------------------------- §2.3 ranking


def covariance_ranking(history_deltas: np.ndarray, target_index: int, top_k: int = 10
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Rank attributes by the magnitude of their covariance with the target (§2.3).

    ``history_deltas`` is ``D = H − L0`` of shape ``(..., A)``; every leading index (step,
    image) is pooled into one sample. ``Σ = np.cov(X, rowvar=False)`` (ddof 1); the
    entries ``Σ[t, j]`` are ordered by ``|Σ[t, j]|``, the target removed **by index**, the
    first ``top_k`` kept. Returns ``(indices, Σ[t, indices])`` with signs kept.
    """
    d = np.asarray(history_deltas, dtype=np.float64)
    x = d.reshape(-1, d.shape[-1])
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    row = cov[target_index]
    order = np.argsort(-np.abs(row), kind="stable")
    order = order[order != target_index][:top_k]
    return order, row[order]


@dataclass
class SteerStatistics:
    """Covariance row of the target and its uncertainty, all of shape ``(A,)``.

    The target's own entry holds its variance (covariance) and 1 (correlation); its
    p/q-values are NaN and it is never marked significant.
    """

    covariance: np.ndarray
    correlation: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    corr_ci_low: np.ndarray
    corr_ci_high: np.ndarray
    p_values: np.ndarray
    q_values: np.ndarray
    significant: np.ndarray
    test: str


def _image_sums(deltas: np.ndarray, target_index: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-image sufficient statistics of the pooled covariance.

    With ``D`` centred by its pooled mean, returns (each ``(n, A)``) ``s_i = Σ_k D_ki``,
    ``c_i = Σ_k D_kit · D_ki`` and ``q_i = Σ_k D_ki²``, plus the steps per image ``T``.
    A resample with image counts ``w`` then has exact pooled moments ``Σ_i w_i s_i`` etc.
    """
    d = np.asarray(deltas, dtype=np.float64)  # (T, n, A)
    d = d - d.reshape(-1, d.shape[-1]).mean(axis=0)  # centring keeps the sums well-conditioned
    s = d.sum(axis=0)
    c = np.einsum("kn,kna->na", d[:, :, target_index], d)
    q = np.einsum("kna,kna->na", d, d)
    return s, c, q, d.shape[0]


def _weighted_cov_corr(w: np.ndarray, s: np.ndarray, c: np.ndarray, q: np.ndarray, steps: int,
                       target_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Covariance and correlation rows for image weights ``w`` of shape ``(b, n)``."""
    big_n = w.sum(axis=1, keepdims=True) * steps  # (b, 1) pooled sample size
    sw, cw, qw = w @ s, w @ c, w @ q  # (b, A)
    cov = (cw - sw[:, [target_index]] * sw / big_n) / (big_n - 1)
    var = (qw - sw * sw / big_n) / (big_n - 1)
    den = var[:, [target_index]] * var
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(den > 0, cov / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)
    return cov, corr


def covariance_statistics(deltas: np.ndarray, target_index: int, sign: int = 1, *,
                          n_boot: int = 1000, fdr: float = 0.05, seed: int = 0,
                          test: Literal["t", "signflip"] = "t", n_perm: int = 10_000,
                          level: float = 0.95) -> SteerStatistics:
    """Target covariance row with bootstrap CIs and a multiple-testing-controlled test.

    Parameters
    ----------
    deltas : ``D = H − L0`` of shape ``(T, n, A)`` (steps × images × attributes).
    sign : −1 for a negated target; ``Σ[−t, j] = −Σ[t, j]``.
    n_boot : percentile-bootstrap resamples of the **images** (the independent unit;
        steps of one image are strongly dependent). 0 skips the CIs (NaN).
    test : ``"t"`` (default) — one-sample t-test over images of the per-image covariance
        contributions ``a_ij = mean_k D̃_kit·D̃_kij`` (``D̃`` centred by the pooled
        mean; ``mean_i a_i = Σ_tj·(N−1)/N``); valid by the CLT because images are iid.
        ``"signflip"`` — Monte-Carlo sign-flip randomization test of the same mean
        (``n_perm`` flips, p = (1 + #{|Σεa| ≥ |Σa|}) / (1 + n_perm)); its p-values
        cannot fall below ``1/(n_perm+1)``.
    fdr : Benjamini–Hochberg false-discovery rate over the ``A − 1`` non-target entries.
    """
    if test not in ("t", "signflip"):
        raise BiasLensError(f"test must be 't' or 'signflip'; got {test!r}")
    d = np.asarray(deltas, dtype=np.float64)
    if d.ndim != 3:
        raise BiasLensError(f"deltas must have shape (steps, images, attributes); got {d.shape}")
    steps_, n, a = d.shape
    s, c, q, steps_ = _image_sums(d, target_index)
    # Σ[−t, j] = −Σ[t, j] for j ≠ t; the target's own variance and correlation keep sign +.
    flip = np.full(a, float(sign))
    flip[target_index] = 1.0
    cov, corr = (x[0] * flip for x in _weighted_cov_corr(np.ones((1, n)), s, c, q, steps_,
                                                         target_index))

    nan = np.full(a, np.nan)
    lo, hi, clo, chi = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    if n_boot > 0:
        def stat(idx: np.ndarray) -> np.ndarray:
            cv, cr = _weighted_cov_corr(row_bincount(idx, n), s, c, q, steps_, target_index)
            return np.stack([cv * flip, cr * flip], axis=1)  # (b, 2, A)

        with warnings.catch_warnings():  # an all-NaN column (zero variance) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            blo, bhi, _ = bootstrap_ci(stat, n, n_boot=n_boot, level=level, seed=seed)
        lo, hi, clo, chi = blo[0], bhi[0], blo[1], bhi[1]

    contrib = c / steps_  # (n, A) per-image contributions a_ij
    mask = np.arange(a) != target_index
    p = nan.copy()
    if test == "t":
        mean = contrib.mean(axis=0)
        se = contrib.std(axis=0, ddof=1) / np.sqrt(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            tstat = mean / se
        p = 2 * _st.t.sf(np.abs(tstat), df=n - 1)
        p = np.where(se > 0, p, np.where(mean == 0, 1.0, 0.0))
    else:  # sign-flip randomization test
        rng = np.random.default_rng(seed + 1)
        observed = np.abs(contrib.sum(axis=0))
        exceed = np.zeros(a)
        for start in range(0, n_perm, 256):  # chunks of flips, vectorized inside
            eps = rng.choice((-1.0, 1.0), size=(min(256, n_perm - start), n))
            exceed += (np.abs(eps @ contrib) >= observed * (1 - 1e-12)).sum(axis=0)
        p = (1 + exceed) / (1 + n_perm)
    p = np.where(mask, p, np.nan)
    reject, qv = benjamini_hochberg(p, fdr)
    return SteerStatistics(covariance=cov, correlation=corr, ci_low=lo, ci_high=hi,
                           corr_ci_low=clo, corr_ci_high=chi, p_values=p, q_values=qv,
                           significant=reject & mask, test=test)


@dataclass
class PracticalEffect:
    """The practical-effect rule applied beside the statistical test.

    The covariance test is scale-blind: when the generator barely reacts to the push
    (an untrained or constant generator moves every logit by ~1e-6), tiny but consistent
    covariances still reach q ≈ 1e-4. An attribute is therefore *flagged* only when

    1. the target itself moved: the largest per-pass mean change of its logit from the
       start to the last step is at least ``min_target_change`` (logits), and
    2. the association is large enough to matter: ``|correlation| >= min_correlation``,
    3. and it is significant after Benjamini–Hochberg.

    ``target_change`` is ``(P,)``, the mean over images of the target's last-step logit
    change in each pass (signed like the raw target logit); ``verdict`` says in words why
    nothing was flagged when rule 1 fails, else ``None``.
    """

    min_target_change: float
    min_correlation: float
    target_change: np.ndarray
    target_moved: bool
    n_statistical: int          # attributes significant after BH alone
    n_flagged: int              # ... that also pass the practical rules
    verdict: str | None = None

    @property
    def rule(self) -> str:
        """The rule in one line, for tables and reports."""
        return (f"flagged = BH-significant and |correlation| >= {self.min_correlation:g}, "
                f"and only if the target's logit moved by >= {self.min_target_change:g}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (undefined numbers as ``None``)."""
        return {"rule": self.rule, "min_target_change": self.min_target_change,
                "min_correlation": self.min_correlation,
                "target_change": json_floats(self.target_change),
                "target_moved": self.target_moved, "n_statistical": self.n_statistical,
                "n_flagged": self.n_flagged, "verdict": self.verdict}


def practical_effect(stats: SteerStatistics, target_change: np.ndarray, target: str, *,
                     min_target_change: float = 0.05, min_correlation: float = 0.1
                     ) -> tuple[np.ndarray, PracticalEffect]:
    """Apply the practical-effect rule (:class:`PracticalEffect`) to ``stats``.

    Returns ``(flagged, effect)``: ``flagged`` is ``stats.significant`` restricted to
    attributes with ``|correlation| >= min_correlation`` (NaN never passes), and all
    ``False`` when the target moved less than ``min_target_change`` logits in every pass.

    >>> st = SteerStatistics(*(np.array([1.0, 0.5, 0.05]),) * 2, *(np.zeros(3),) * 6,
    ...                      significant=np.array([False, True, True]), test="t")
    >>> flagged, eff = practical_effect(st, np.array([2.0]), "Male")
    >>> flagged.tolist(), eff.n_statistical, eff.verdict
    ([False, True, False], 2, None)
    >>> practical_effect(st, np.array([1e-6]), "Male")[1].verdict  # doctest: +ELLIPSIS
    'the target Male barely moved along the path (largest mean logit change 1e-06 < ...'
    """
    change = np.asarray(target_change, dtype=np.float64)
    moved_by = float(np.nanmax(np.abs(change))) if change.size else 0.0
    moved = bool(np.isfinite(moved_by) and moved_by >= min_target_change)
    with np.errstate(invalid="ignore"):
        large = np.abs(stats.correlation) >= min_correlation  # NaN -> False
    flagged = np.asarray(stats.significant, dtype=bool) & large & moved
    verdict = None
    if not moved:
        verdict = (f"the target {target} barely moved along the path (largest mean logit "
                   f"change {moved_by:.3g} < min_target_change {min_target_change:g}): the "
                   f"generator does not respond to the push (untrained or constant?), so no "
                   f"attribute is flagged")
    effect = PracticalEffect(min_target_change=float(min_target_change),
                             min_correlation=float(min_correlation), target_change=change,
                             target_moved=moved, n_statistical=int(stats.significant.sum()),
                             n_flagged=int(flagged.sum()), verdict=verdict)
    return flagged, effect


# --------------------------------------------------------------------------- the audit


@dataclass
class RankedAttribute:
    """One row of the ranked covariance table."""

    name: str
    index: int
    covariance: float
    ci_low: float
    ci_high: float
    correlation: float
    p_value: float
    q_value: float
    significant: bool                   # flagged: statistical and practical rules
    statistically_significant: bool = False  # BH alone

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (undefined numbers as ``None``)."""
        return {k: (json_float(v) if isinstance(v, (float, np.floating)) else v)
                for k, v in self.__dict__.items()}


@dataclass
class SteerResult(SteerStatistics):
    """Result of :func:`steer_audit`: the :class:`SteerStatistics` of the run, with its
    target, settings, ranked table and images.

    Arrays of shape ``(A,)`` are indexed like ``attribute_names``; covariances are of the
    *signed* target (``-Male`` rows are the negated ``Male`` rows). ``history`` is
    ``(P·K, n, A)`` raw logits (``None`` if not kept); ``images`` is
    ``(P·K, n_show, H, W, 3)`` uint8; ``mean_change`` is ``(P, A)``, the mean over
    images of the last recorded logits minus the start, per pass.

    ``significant`` holds the *flagged* attributes: significant after Benjamini–Hochberg
    (``statistically_significant``) and passing the practical-effect rule ``practical``
    (:class:`PracticalEffect`: the target moved, ``|correlation|`` large enough).
    """

    target: str
    target_index: int
    sign: int
    attribute_names: list[str]
    direction: str
    push_signs: tuple[int, ...]
    n_samples: int
    steps: int
    step_size: float
    accumulate_grad: bool
    disentangle: float
    seed: int
    fdr: float
    n_boot: int
    ranked: list[RankedAttribute]
    precision: str
    mean_change: np.ndarray
    images: np.ndarray
    target_probability: np.ndarray | None = None
    history: np.ndarray | None = None
    initial: np.ndarray | None = None
    elapsed_s: float = 0.0
    data: DataComparison | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    statistically_significant: np.ndarray | None = None
    practical: PracticalEffect | None = None

    @property
    def image_steps_per_s(self) -> float:
        """Throughput of the steering loop: (image, step) pairs per second."""
        return len(self.push_signs) * self.n_samples * self.steps / max(self.elapsed_s, 1e-12)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no history or images)."""
        return {
            "audit": "steer",
            "target": self.target,
            "target_index": self.target_index,
            "sign": self.sign,
            "attribute_names": list(self.attribute_names),
            "settings": {
                "direction": self.direction, "push_signs": list(self.push_signs),
                "n_samples": self.n_samples, "steps": self.steps, "step_size": self.step_size,
                "accumulate_grad": self.accumulate_grad, "disentangle": self.disentangle,
                "seed": self.seed, "test": self.test, "fdr": self.fdr, "n_boot": self.n_boot,
                "precision": self.precision,
                **({"min_target_change": self.practical.min_target_change,
                    "min_correlation": self.practical.min_correlation}
                   if self.practical is not None else {}),
            },
            "ranked": [r.to_dict() for r in self.ranked],
            "covariance": json_floats(self.covariance),
            "correlation": json_floats(self.correlation),
            "ci_low": json_floats(self.ci_low),
            "ci_high": json_floats(self.ci_high),
            "corr_ci_low": json_floats(self.corr_ci_low),
            "corr_ci_high": json_floats(self.corr_ci_high),
            "p_values": json_floats(self.p_values),
            "q_values": json_floats(self.q_values),
            "significant": [bool(v) for v in self.significant],
            "statistically_significant": (
                [bool(v) for v in self.statistically_significant]
                if self.statistically_significant is not None else None),
            "practical_effect": self.practical.to_dict() if self.practical is not None else None,
            "mean_change": [json_floats(row) for row in self.mean_change],
            "target_probability": (None if self.target_probability is None else
                                   [json_floats(row) for row in self.target_probability]),
            "timing": {"elapsed_s": self.elapsed_s, "image_steps_per_s": self.image_steps_per_s},
            "data_comparison": self.data.to_dict() if self.data is not None else None,
            **self.extra,
        }


def steer_audit(generator: nn.Module, classifier: nn.Module, target: str = "Male",
                options: SteerOptions | None = None, *,
                attribute_names: Sequence[str] | None = None, judge: nn.Module | None = None,
                reference: np.ndarray | torch.Tensor | None = None,
                reference_name: str = "reference",
                progress: Callable[[int, int], None] | None = None,
                **overrides: Any) -> SteerResult:
    """Steer a generator toward a target attribute and rank what else changes.

    Parameters
    ----------
    generator : ``z_dim`` and ``forward(z) -> (n, 3, H, W)`` in [-1, 1].
    classifier : ``attribute_names`` and ``forward(images) -> (n, A)`` raw logits.
    target : an attribute name or alias; ``-Male`` / ``Female`` steer toward less Male.
    options : a :class:`SteerOptions`; its fields may also (or instead) be passed as
        keywords (``n_samples=64, steps=20``), which override the object's. They are:
        ``n_samples``, ``steps``, ``step_size`` (``n`` noise vectors, ``K`` steps of size
        ``w``: default ``None``/``"course"`` = ``1/K``; ``"calibrated"`` = the step under
        which the target's mean probability crosses ``calibrate_range`` (0.2 → 0.8), found
        by :func:`calibrate_step` on pilot runs); ``direction`` (``"+"``, ``"-"`` or ``"both"``: + pass
        then − pass from the same ``Z0``); ``accumulate_grad`` (course-compatible mode:
        step with the running gradient sum); ``disentangle`` (``λ`` ≥ 0 of §2.5,
        penalizes change of the other attributes); ``top_k`` (rows in ``ranked``);
        ``n_boot``, ``fdr``, ``test`` (bootstrap resamples over images, BH
        false-discovery rate and the per-image test, see :func:`covariance_statistics`);
        ``seed`` (the noise and the resampling); ``device`` (``"cpu"``, ``"cuda"``, …:
        the models are *copied* there by :func:`biaslens.models.inference.inference_copy`
        — frozen, eval mode, BatchNorm folded, channels_last — and the caller's models
        are left untouched); ``n_show`` (samples whose images are kept for the grid; 0:
        none); ``min_target_change``, ``min_correlation`` (the practical-effect rule of
        :class:`PracticalEffect`: nothing is flagged unless the target's logit moves by at
        least ``min_target_change``, and only attributes with ``|correlation| >=
        min_correlation``; ``significant`` is the flagged set, ``statistically_significant``
        the BH set);
        ``keep_history`` (keep the ``(P·K, n, A)`` logit history); ``precision``
        (``"auto"``, ``"fp32"`` or ``"bf16"``: bf16 autocast of the model passes; auto
        picks bf16 on a CUDA GPU or a CPU with bf16 matrix units; statistics are always
        float64 on float32 logits; the resolved value is ``precision`` in the result).
    attribute_names : defaults to ``classifier.attribute_names``.
    judge : an independently trained classifier that *measures* the steered images while
        ``classifier`` (the guide) only supplies the gradient. Gradient ascent on the
        guide also moves the guide's other logits through its shared features (an
        artefact of the guide, not a change in the faces); an independent judge sees only
        what changed in the pixels. Covariances, tests and ``attribute_names`` are then
        the judge's; ``extra["judge"]`` reports how far the push moved the guide's and the
        judge's target logits. ``attribute_names=`` names the judge's outputs.
    reference : images of the generator's training data (uint8 ``(m, H, W, 3)`` or float
        ``(m, 3, H, W)`` in [-1, 1]; a few thousand suffice). Adds ``data``, a
        :class:`~biaslens.audit.steer_reference.DataComparison`: each attribute's slope on
        the target along the path against the same classifier's slope across these
        images, and which excesses are significant (``beyond_data``: associations the
        generator added rather than learned). Needs ``n_boot >= 50``.
    reference_name : how the reference set is described in the result.
    progress : ``progress(step, steps)`` callback.
    """
    opts = resolve_options(SteerOptions, options, overrides, where="steer_audit")
    guide_names = list(getattr(classifier, "attribute_names", []) or [])
    measurer = judge if judge is not None else classifier
    who = "judge" if judge is not None else "classifier"
    names = list(attribute_names if attribute_names is not None
                 else getattr(measurer, "attribute_names", []) or [])
    if not names:
        raise BiasLensError(f"the {who} has no 'attribute_names'; pass attribute_names=")
    t, sign = resolve_attribute(target, names)
    if judge is not None:
        if not guide_names:
            raise BiasLensError("the guide classifier has no 'attribute_names'")
        try:
            t_guide, sign_guide = resolve_attribute(target, guide_names)
        except BiasLensError as exc:
            raise BiasLensError(f"the guide classifier cannot steer the judge's target: "
                                f"{exc}") from None
    else:
        t_guide, sign_guide = t, sign
    calibration = None
    if opts.step_size == "calibrated":
        calibration = calibrate_step(generator, classifier, t_guide, opts, sign=sign_guide,
                                     read_index=t, read_sign=sign, judge=judge)
        opts = replace(opts, step_size=calibration.step_size)
    run = steer_history(generator, classifier, t_guide, opts, sign=sign_guide, judge=judge,
                        progress=progress)
    if run.history.shape[2] != len(names):
        raise BiasLensError(f"the {who} returns {run.history.shape[2]} logits but "
                            f"{len(names)} attribute names were given")
    deltas = run.history - run.initial[None]  # D = H − L0, per image from its own start
    st = covariance_statistics(deltas, t, sign, n_boot=opts.n_boot, fdr=opts.fdr,
                               seed=opts.seed, test=opts.test)
    n_pass, steps, n = len(run.push_signs), opts.steps, opts.n_samples
    last = deltas.reshape(n_pass, steps, n, -1)[:, -1]  # (P, n, A)
    statistical = st.significant
    flagged, practical = practical_effect(
        st, last[:, :, t].mean(axis=1), display_name(t, sign, names),
        min_target_change=opts.min_target_change, min_correlation=opts.min_correlation)
    st.significant = flagged
    order, _ = covariance_ranking(deltas, t, opts.top_k)
    ranked = [RankedAttribute(name=names[j], index=int(j), covariance=float(st.covariance[j]),
                              ci_low=float(st.ci_low[j]), ci_high=float(st.ci_high[j]),
                              correlation=float(st.correlation[j]),
                              p_value=float(st.p_values[j]), q_value=float(st.q_values[j]),
                              significant=bool(flagged[j]),
                              statistically_significant=bool(statistical[j])) for j in order]
    data = None
    if reference is not None:
        dev = torch.device(opts.device)
        ref_logits = predict_logits(inference_copy(measurer, dev), reference, device=dev,
                                    precision=opts.precision)
        data = compare_with_data(deltas, ref_logits, t, sign, n_boot=opts.n_boot,
                                 fdr=opts.fdr, seed=opts.seed, reference=reference_name)
    extra: dict[str, Any] = {}
    if calibration is not None:
        extra["step_calibration"] = calibration.to_dict()
    # Mean probability of the signed target at every recorded step, per pass (P, K).
    target_probability = _sigmoid(
        run.history.reshape(n_pass, steps, n, -1)[..., t] * sign).mean(axis=2)
    if run.guide_target is not None:
        g = run.guide_target.reshape(n_pass, steps, n)
        extra["judge"] = {
            "used": True,
            "guide_target_change": json_floats((g[:, -1] - g[:, 0]).mean(axis=1)),
            "judge_target_change": json_floats(last[:, :, t].mean(axis=1)),
        }
    return SteerResult(
        **vars(st),  # the SteerStatistics fields
        target=display_name(t, sign, names), target_index=t, sign=sign, attribute_names=names,
        direction=opts.direction, push_signs=run.push_signs, n_samples=n, steps=steps,
        step_size=course_or_numeric_step(opts.step_size, steps),
        accumulate_grad=opts.accumulate_grad, disentangle=float(opts.disentangle),
        seed=opts.seed, fdr=opts.fdr, n_boot=opts.n_boot, ranked=ranked,
        precision=run.precision,
        mean_change=last.mean(axis=1), target_probability=target_probability,
        images=run.images,
        history=run.history if opts.keep_history else None, initial=run.initial,
        elapsed_s=run.elapsed_s, data=data, extra=extra,
        statistically_significant=statistical, practical=practical)
