"""The run options every training family shares: one frozen :class:`RunOptions`.

A family function takes ``run: RunOptions | None`` and, for convenience, the same fields
as keywords (``train_gan(data, out="runs/gan", steps=200)``), merged by
:func:`resolve_run`; its own hyper-parameters (learning rate, architecture, loss) stay
keywords of that function. A run folder records both, so :func:`biaslens.train.resume_run`
rebuilds the call from ``config.json`` alone.

>>> run = RunOptions(out="runs/gan", steps=200, device="cpu")
>>> resolve_run(run, {"seed": 1}, "train_gan", steps=2000, batch_size=128).batch_size
128
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biaslens.errors import BiasLensError
from biaslens.options import CheckedOptions, Range, resolve_options

__all__ = ["ProgressFn", "RunOptions", "StopFn", "resolve_run"]

#: ``progress(step, total_steps, last_logged_metrics)`` — called after every step on rank 0.
ProgressFn = Callable[[int, int, dict[str, float]], None]
#: ``should_stop() -> bool`` — polled after every step; True saves a checkpoint and returns.
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class RunOptions(CheckedOptions):
    """How a training run is driven, whatever the model family.

    ``None`` in ``steps``, ``batch_size`` or ``n_samples`` means the family's default
    (e.g. 2000 steps of 128; DB-VAE: ``epochs`` epochs of 32). A family ignores the
    fields it has no use for (the classifier draws no samples, only the GAN has a
    collapse guard, the DB-VAE does not compile) and does not record them.
    """

    RANGES = {"steps": Range(1), "batch_size": Range(1), "seed": Range(0), "log_every": Range(1),
              "sample_every": Range(0), "n_samples": Range(1), "checkpoint_every": Range(0),
              "collapse_std": Range(0), "collapse_patience": Range(1)}

    out: str | Path | None = None           # run folder (config.json, metrics.jsonl, ...); required
    steps: int | None = None                # optimizer steps (None: the family's default)
    batch_size: int | None = None           # global batch, split evenly over torchrun ranks
    split: str = "train"                    # rows used for training
    seed: int = 0                           # weights, data order and noise
    device: str = "auto"                    # auto | cpu | cuda
    log_every: int = 50                     # metrics.jsonl line every N steps
    sample_every: int = 500                 # sample grid every N steps and at the end (0: none)
    n_samples: int | None = None            # images in a sample grid (None: the family's default)
    checkpoint_every: int = 1000            # checkpoints/latest/ every N steps, at the end (0: end)
    resume: bool = False                    # continue the run in `out` exactly where it stopped
    precision: str = "auto"                 # auto | fp32 | bf16 (auto: bf16 on CUDA/bf16 CPUs)
    compile: bool = False                   # torch.compile the networks
    collapse_std: float = 1e-3              # GAN collapse guard: generated-image std below this
    collapse_patience: int = 3              # ... for this many log lines in a row stops training
    dry_run: bool = False                   # resolve and return the config, train nothing
    command: str | None = None              # command line recorded in config.json (None: argv)
    progress: ProgressFn | None = None      # progress(step, steps, metrics) after each step
    should_stop: StopFn | None = None       # polled after each step: True saves and returns

    def with_defaults(self, **defaults: Any) -> RunOptions:
        """These options with each field that is ``None`` here set from ``defaults``."""
        fill = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        return dataclasses.replace(self, **fill) if fill else self


#: Fields that config.json does not carry in its run section: the folder itself, how this
#: call behaves, and the fields the session or the data section records in their place.
NOT_RECORDED = frozenset({"out", "steps", "batch_size", "split", "seed", "device", "resume",
                          "dry_run", "command", "progress", "should_stop", "precision"})

#: The GAN's collapse-guard fields, unused by the families without a collapse statistic.
COLLAPSE_FIELDS = ("collapse_std", "collapse_patience")


def resolve_run(run: RunOptions | None, overrides: dict[str, Any], where: str,
                **defaults: Any) -> RunOptions:
    """``run`` with ``overrides`` (RunOptions field names) applied and the family's defaults
    filled in; refuses an unknown name and a missing ``out``."""
    opts = resolve_options(RunOptions, run, overrides, where=where).with_defaults(**defaults)
    if opts.out is None:
        raise BiasLensError(f"{where}: out= (the run folder) is required")
    return opts
