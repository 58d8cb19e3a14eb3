"""``biaslens train gan|classifier|vae|cvae|dbvae`` — thin wrappers over biaslens.train.

A run folder is continued with ``--resume RUN`` through :func:`biaslens.train.resume_run`,
which rebuilds the call from the run's config.json (the other options are not read then).
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from biaslens.cli._common import RUN, console, ranged, train_app
from biaslens.errors import BiasLensError
from biaslens.options import POSITIVE

CacheArg = typer.Argument(None, help="Dataset cache folder (omit with --resume).")
OutOpt = typer.Option(None, "--out", help="Run folder (default runs/<family>-seed<seed>).")
ResumeOpt = typer.Option(None, "--resume", help="Continue the run in this folder exactly.")
DryOpt = typer.Option(False, "--dry-run", help="Print the resolved config and exit.")
DeviceOpt = typer.Option("auto", "--device", help="auto | cpu | cuda")
StepsOpt = typer.Option(2000, help="Optimizer steps.", callback=ranged(RUN, "steps"))
BatchOpt = typer.Option(128, help="Global batch size.", callback=ranged(RUN, "batch_size"))
LogEveryOpt = typer.Option(50, help="metrics.jsonl line every N steps.",
                           callback=ranged(RUN, "log_every"))
SampleEveryOpt = typer.Option(500, help="Sample grid every N steps (0: none).",
                              callback=ranged(RUN, "sample_every"))
CheckpointEveryOpt = typer.Option(1000, help="checkpoints/latest/ every N steps.",
                                  callback=ranged(RUN, "checkpoint_every"))
SeedOpt = typer.Option(0, help="Weights, data order and noise.", callback=ranged(RUN, "seed"))
CompileOpt = typer.Option(False, "--compile", help="torch.compile the networks.")
PrecisionOpt = typer.Option("auto", "--precision",
                            help="auto | fp32 | bf16 autocast (auto: bf16 on a CUDA GPU or a "
                            "CPU with bf16 matrix units, else fp32).")
BetaOpt = typer.Option(1e-3, help="KL weight (reconstruction is a per-pixel mean; "
                       "1.0 collapses the posterior).", min=0.0)
ReconLossOpt = typer.Option("mse", help="mse | l1")


def _run(family: str, fn: Callable[..., Any], cache: Optional[Path], out: Optional[Path],
         resume: Optional[Path], dry_run: bool, opts: dict[str, Any]) -> None:
    """Resolve data/out/resume, show progress, print the result, write result.json."""
    from biaslens.train import resume_run

    command = shlex.join(["biaslens", *sys.argv[1:]])
    if resume is not None:
        out = Path(resume)

        def call(**kw: Any) -> Any:
            return resume_run(out, family=family, command=command, **kw)
    else:
        if cache is None:
            raise BiasLensError("give a CACHE folder (or --resume RUN)")
        if not Path(cache).is_dir():  # before the progress bar starts
            raise BiasLensError(f"{cache}: cache folder not found")
        out = out or Path("runs") / f"{family}-seed{opts.get('seed', 0)}"

        def call(**kw: Any) -> Any:
            return fn(cache, out=out, command=command, **opts, **kw)
    if dry_run:
        r = call(dry_run=True)
        console.print_json(json.dumps({"family": family, "out": str(out), "command": command,
                                       **r.config}))
        return
    with Progress(TextColumn("[bold]{task.fields[family]}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TextColumn("{task.fields[losses]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=False) as bar:
        task = bar.add_task("train", total=opts.get("steps") or 1, family=family, losses="")

        def progress(step: int, total: int, metrics: dict[str, float]) -> None:
            text = " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))
            bar.update(task, completed=step, total=total, losses=text)

        result = call(progress=progress)
    summary = {k: v for k, v in result.to_dict().items() if k != "config"}
    from biaslens.io import write_json

    write_json(summary, Path(out) / "result.json")
    console.print(f"[green]{result.status}[/] at step {result.step}/{result.steps}; "
                  f"checkpoint: {result.checkpoint}; {result.images_per_s:.1f} images/s")


@train_app.command("gan")
def gan_cmd(
    cache: Optional[Path] = CacheArg,
    out: Optional[Path] = OutOpt,
    steps: int = StepsOpt,
    batch_size: int = BatchOpt,
    lr: float = typer.Option(2e-4, help="Adam learning rate (G, and D unless --lr-d).",
                             callback=ranged(POSITIVE)),
    lr_d: Optional[float] = typer.Option(None, help="Adam learning rate of D.",
                                         callback=ranged(POSITIVE)),
    generator: str = typer.Option("coursera_dcgan_generator", help="Generator architecture."),
    discriminator: str = typer.Option("sn_dcgan_discriminator",
                                      help="Discriminator architecture (the course's: "
                                      "coursera_dcgan_discriminator)."),
    loss: str = typer.Option("hinge", help="'hinge' or 'bce' (the course's)."),
    init: str = typer.Option("dcgan", help="'dcgan' (N(0, 0.02) convs) or 'default'."),
    ema_kimg: Optional[float] = typer.Option(
        None, help="Keep an EMA of G (half-life in thousands of images, e.g. 10); "
        "saved as checkpoints/latest/generator_ema.", callback=ranged(POSITIVE)),
    log_every: int = LogEveryOpt, sample_every: int = SampleEveryOpt,
    checkpoint_every: int = CheckpointEveryOpt, seed: int = SeedOpt,
    device: str = DeviceOpt, precision: str = PrecisionOpt, compile: bool = CompileOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
) -> None:
    """Train a GAN: course generator vs spectrally normalised D, hinge loss, Adam 2e-4."""
    from biaslens.train import train_gan

    _run("gan", train_gan, cache, out, resume, dry_run, dict(
        steps=steps, batch_size=batch_size, lr=lr, lr_d=lr_d, generator=generator,
        discriminator=discriminator, loss=loss, init=init, ema_kimg=ema_kimg,
        log_every=log_every, sample_every=sample_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision,
        compile=compile))


@train_app.command("classifier")
def classifier_cmd(
    cache: Optional[Path] = CacheArg,
    out: Optional[Path] = OutOpt,
    arch: str = typer.Option("coursera_classifier",
                             help="coursera_classifier | resnet_classifier"),
    attributes: Optional[list[str]] = typer.Option(
        None, "--attribute", help="Attribute to learn (repeat; default all)."),
    pos_weight: Optional[str] = typer.Option(None, help="'auto' = (1-p)/p clipped, or a number."),
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)),
    eval_every: int = typer.Option(500, min=1),
    log_every: int = LogEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
    compile: bool = CompileOpt, resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
) -> None:
    """Train an attribute classifier (BCE-with-logits on all attributes, val accuracy/AUC)."""
    from biaslens.train import train_classifier

    _run("classifier", train_classifier, cache, out, resume, dry_run, dict(
        arch=arch, attributes=attributes or None, pos_weight=pos_weight, steps=steps,
        batch_size=batch_size, lr=lr, eval_every=eval_every, log_every=log_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision,
        compile=compile))


def _vae_run(family: str, cache: Optional[Path], out: Optional[Path], resume: Optional[Path],
             dry_run: bool, **opts: Any) -> None:
    """The vae and cvae commands: the same options, cvae adds ``condition``."""
    from biaslens.train import train_cvae, train_vae

    _run(family, train_cvae if family == "cvae" else train_vae, cache, out, resume, dry_run,
         opts)


@train_app.command("vae")
def vae_cmd(
    cache: Optional[Path] = CacheArg, out: Optional[Path] = OutOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)),
    beta: float = BetaOpt, recon_loss: str = ReconLossOpt, log_every: int = LogEveryOpt,
    sample_every: int = SampleEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
) -> None:
    """Train a VAE (pixel-mean MSE or L1 reconstruction + beta·KL)."""
    _vae_run("vae", cache, out, resume, dry_run, steps=steps, batch_size=batch_size, lr=lr,
             beta=beta, recon_loss=recon_loss, log_every=log_every, sample_every=sample_every,
             checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision)


@train_app.command("cvae")
def cvae_cmd(
    cache: Optional[Path] = CacheArg, out: Optional[Path] = OutOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
    condition: Optional[list[str]] = typer.Option(None, help="Condition attribute (repeat); "
                                                  "default Male."),
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)),
    beta: float = BetaOpt, recon_loss: str = ReconLossOpt, log_every: int = LogEveryOpt,
    sample_every: int = SampleEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
) -> None:
    """Train a conditional VAE on attribute condition(s), e.g. ``--condition Male``."""
    _vae_run("cvae", cache, out, resume, dry_run, condition=condition, steps=steps,
             batch_size=batch_size, lr=lr, beta=beta, recon_loss=recon_loss,
             log_every=log_every, sample_every=sample_every,
             checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision)


@train_app.command("dbvae")
def dbvae_cmd(
    cache: Optional[Path] = CacheArg, out: Optional[Path] = OutOpt,
    epochs: int = typer.Option(2, help="Epochs (resampling probabilities refresh each).",
                               min=1),
    steps: Optional[int] = typer.Option(None, help="Override the number of steps.",
                                        callback=ranged(RUN, "steps")),
    batch_size: int = typer.Option(32, callback=ranged(RUN, "batch_size")),
    lr: float = typer.Option(5e-4, callback=ranged(POSITIVE)),
    smoothing: float = typer.Option(1e-3, help="Histogram smoothing α.", min=0.0),
    uniform_epochs: int = typer.Option(0, help="Warm-up epochs with uniform sampling.",
                                       min=0),
    log_every: int = LogEveryOpt, sample_every: int = SampleEveryOpt,
    checkpoint_every: int = CheckpointEveryOpt, seed: int = SeedOpt,
    device: str = DeviceOpt, precision: str = PrecisionOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
) -> None:
    """Train a DB-VAE face detector with latent-histogram resampling (faces vs is_face=0)."""
    from biaslens.train import train_dbvae

    _run("dbvae", train_dbvae, cache, out, resume, dry_run, dict(
        epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, smoothing=smoothing,
        uniform_epochs=uniform_epochs, log_every=log_every, sample_every=sample_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision))
