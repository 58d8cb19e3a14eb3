"""Training-ratio sweep: how does a generator's output share follow its training share?

For each target share ``s`` of an attribute (``Male`` by default) the same model is
trained on a synthetic world whose ``group_shares`` puts that attribute at ``s``, then
``n`` samples are labelled by an attribute classifier (Rogan–Gladen corrected with the
classifier's rates on the world's val split) and the generated share is set against
the share in the training split. Points on the identity line mean the model reproduces
its data's mix; points further from ½ than the line mean it amplifies the skew.

Pipeline per share: :meth:`World.from_json` → :func:`synthesize_cache` →
:func:`train_vae` / :func:`train_gan` → :func:`classifier_rates` →
:func:`population_audit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from biaslens.errors import BiasLensError
from biaslens.io import json_float, jsonable
from biaslens.options import CheckedOptions, Range, options_dict, resolve_options

__all__ = ["MODELS", "RatioSweepOptions", "RatioSweepResult", "RatioSweepRow", "check_sweep",
           "ratio_sweep"]

#: Model families the sweep can train, with the run sub-folder holding the generator.
MODELS = {"vae": "vae", "gan": "generator"}


@dataclass
class RatioSweepRow:
    """One training share: what the data had and what the model generated."""

    target_share: float
    data_share: float
    generated_share: float
    generated_ci: tuple[float, float]
    observed_share: float
    run: str
    cache: str
    train_status: str


@dataclass
class RatioSweepResult:
    """Result of :func:`ratio_sweep` (JSON-able through :meth:`to_dict`)."""

    model: str
    attribute: str
    corrected: bool
    rows: list[RatioSweepRow]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def slope(self) -> float:
        """Least-squares slope of generated on data share (1 = tracks the data)."""
        x = np.array([r.data_share for r in self.rows])
        y = np.array([r.generated_share for r in self.rows])
        if len(x) < 2 or np.ptp(x) == 0 or not np.isfinite(y).all():
            return float("nan")
        return float(np.polyfit(x, y, 1)[0])

    def to_dict(self) -> dict[str, Any]:
        slope = self.slope
        return {"experiment": "ratio-sweep", "model": self.model, "attribute": self.attribute,
                "corrected": self.corrected,
                "rows": [jsonable(asdict(r)) for r in self.rows],
                "slope": json_float(slope), "settings": dict(self.settings)}


def check_sweep(shares: Sequence[float], model: str) -> None:
    """Refuse a sweep that cannot run (unknown model, a share outside (0, 1)) up front."""
    if model not in MODELS:
        raise BiasLensError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    bad = [s for s in shares if not 0.0 < float(s) < 1.0]
    if not shares or bad:
        raise BiasLensError(f"shares must be in (0, 1); got {list(shares)}")


@dataclass(frozen=True)
class RatioSweepOptions(CheckedOptions):
    """Options of :func:`ratio_sweep`: the model trained per share and how it is audited."""

    RANGES = {"n_data": Range(1), "size": Range(8), "n": Range(1), "steps": Range(1),
              "batch_size": Range(1), "n_boot": Range(0), "seed": Range(0)}

    model: str = "vae"                          # vae | gan
    attribute: str = "Male"                     # the swept attribute
    world: str = "celeba"                       # base world preset
    n_data: int = 2000                          # faces per synthetic training set
    size: int = 64                              # image side (must suit model and classifier)
    n: int = 4000                               # generated samples per share
    steps: int = 2000                           # training steps per share
    batch_size: int = 64                        # training batch
    model_config: Mapping[str, Any] | None = None   # VAE / generator constructor arguments
    train_config: Mapping[str, Any] | None = None   # extra train_vae/train_gan keywords
    correct: bool = True                        # Rogan–Gladen correction with val-split rates
    n_boot: int = 200                           # bootstrap resamples in the population audit
    seed: int = 0                               # data, training, sampling
    device: str = "cpu"                         # training and audit device


#: The options :attr:`RatioSweepResult.settings` records (besides the shares).
_SETTINGS = ("world", "n_data", "size", "n", "steps", "batch_size", "model_config",
             "train_config", "n_boot", "seed", "device")


def _train_at_share(share: float, folder: Path, o: RatioSweepOptions,
                    say: Callable[[str], None]) -> tuple[Any, Any, nn.Module]:
    """Synthesize the world with ``share`` of the attribute and train the model on it:
    ``(cache, training result, generator)``."""
    from biaslens.models.checkpoint import load_checkpoint
    from biaslens.train import train_gan, train_vae
    from biaslens.world import World
    from biaslens.world.synth import synthesize_cache

    wld = World.from_json({"base": o.world, "group_shares": {o.attribute: float(share)}})
    say(f"share {share:g}: synthesizing {o.n_data} faces")
    cache = synthesize_cache(wld, o.n_data, folder / "cache", size=o.size, seed=o.seed,
                             overwrite=True)
    say(f"share {share:g}: training {o.model} for {o.steps} steps")
    common = dict(out=folder / "run", steps=o.steps, batch_size=o.batch_size, seed=o.seed,
                  device=o.device, sample_every=0, checkpoint_every=o.steps,
                  log_every=max(1, o.steps // 10))
    common.update(o.train_config or {})
    if o.model == "vae":
        tr = train_vae(cache, model_config=o.model_config, **common)
    else:
        tr = train_gan(cache, generator_config=o.model_config, **common)
    if tr.checkpoint is None:
        raise BiasLensError(f"training for share {share:g} produced no checkpoint "
                            f"(status {tr.status}: {tr.message})")
    gen, _ = load_checkpoint(Path(tr.checkpoint) / MODELS[o.model])
    return cache, tr, gen


def ratio_sweep(
    shares: Sequence[float],                # target training shares of `attribute`
    options: RatioSweepOptions | None = None,   # everything else (fields as keywords too)
    *,
    classifier: nn.Module,                  # labels the generated samples (logit > 0)
    out: str | Path,                        # experiment folder: share-<s>/{cache,run}
    log: Callable[[str], None] | None = None,   # one line per stage
    **overrides: Any,                       # RatioSweepOptions fields (steps=200, model="gan")
) -> RatioSweepResult:
    """Train one model per training share and measure the share it generates.

    Examples
    --------
    >>> ratio_sweep([0.3, 0.5], classifier=clf, out="runs/sweep", steps=2000)  # doctest: +SKIP
    """
    from biaslens.audit.population import classifier_rates, population_audit

    o = resolve_options(RatioSweepOptions, options, overrides, where="ratio_sweep")
    check_sweep(shares, o.model)
    say = log or (lambda _msg: None)
    out = Path(out)
    rows: list[RatioSweepRow] = []
    for share in shares:
        folder = out / f"share-{float(share):g}"
        cache, tr, gen = _train_at_share(share, folder, o, say)
        names = cache.attribute_names
        train_rows = np.flatnonzero(cache.split == 0)
        val_rows = np.flatnonzero(cache.split == 1)
        rates = None
        if o.correct:
            if len(val_rows) == 0:
                raise BiasLensError("the synthetic cache has no val rows for the classifier "
                                    "rates; use correct=False or more faces")
            rates = classifier_rates(classifier, cache.images[val_rows], cache.attrs[val_rows],
                                     names, device=o.device)
        say(f"share {share:g}: labelling {o.n} generated samples")
        pop = population_audit(gen, classifier, cache.attrs[train_rows], names, n=o.n,
                               groups=(o.attribute,), classifier_rates=rates, seed=o.seed,
                               device=o.device, n_boot=o.n_boot)
        j = pop.attribute_names.index(pop.groups[0])
        rows.append(RatioSweepRow(
            target_share=float(share), data_share=float(pop.data[j]),
            generated_share=float(pop.generated[j]),
            generated_ci=(float(pop.generated_ci[0][j]), float(pop.generated_ci[1][j])),
            observed_share=float(pop.observed[j]), run=str(folder / "run"),
            cache=str(folder / "cache"), train_status=tr.status))
    recorded = options_dict(o)
    recorded.update(model_config=recorded["model_config"] or {},
                    train_config=recorded["train_config"] or {})
    return RatioSweepResult(
        model=o.model, attribute=pop.groups[0], corrected=o.correct, rows=rows,
        settings={"shares": [float(s) for s in shares], **{k: recorded[k] for k in _SETTINGS}})
