"""``biaslens train gan|classifier|vae|cvae|dbvae`` — thin wrappers over biaslens.train.

A run folder is continued with ``--resume RUN`` through :func:`biaslens.train.resume_run`,
which rebuilds the call from the run's config.json; ``--steps`` (train on further) and
``--device`` may change, any other option typed with ``--resume`` is refused.
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
ImageSizeOpt = typer.Option(None, "--image-size", help="Model image side (default: the "
                            "cache's; must match it: ingest at another --size to change it).")
HiddenOpt = typer.Option(None, "--hidden-dim", help="Base width of the network (default: "
                         "the architecture's).")
LatentOpt = typer.Option(None, "--latent-dim", help="Latent size z (default 128).")


def model_config(arch: str, cache: Optional[Path], option_names: dict[str, str], *,
                 fill_size: bool = False, **given: Any) -> dict[str, Any]:
    """The constructor arguments of ``arch`` given on the command line (the ``model_config``
    the Python API takes): each non-None ``given`` value under its constructor key. A key
    the architecture does not take is refused naming its ``option_names`` flag. The image
    side must match the cache's images: a given ``image_size``, and the fixed side of an
    architecture without one (the course models: 64), are checked against it before
    training; ``fill_size`` sets ``image_size`` to the cache's where the architecture takes
    one, its default differs and the training function does not set it already."""
    import inspect

    from biaslens.models.registry import build_model, get_architecture

    sig = inspect.signature(get_architecture(arch).__init__).parameters
    params = set(sig) - {"self"}
    out = {k: v for k, v in given.items() if v is not None}
    side = _cache_side(cache)
    size = out.pop("image_size", None)
    if "image_size" not in params:                     # a fixed-size architecture
        fixed = getattr(build_model(arch), "image_size", None)
        if isinstance(fixed, int) and size not in (None, fixed):
            raise BiasLensError(f"--image-size {size}: architecture {arch!r} works on "
                                f"{fixed}×{fixed} images only")
        if isinstance(fixed, int) and side not in (None, fixed):
            raise BiasLensError(f"architecture {arch!r} works on {fixed}×{fixed} images but "
                                f"the cache {cache} holds {side}×{side}; choose another "
                                "architecture or a cache of that size")
    elif size is not None:
        out["image_size"] = size
    elif fill_size and side is not None and side != sig["image_size"].default:
        out["image_size"] = side                       # only where the default would not fit
    if size is not None and side is not None and size != side:
        raise BiasLensError(f"--image-size {size}: the cache {cache} holds {side}×{side} "
                            "images; train on a cache of that size (`biaslens data ingest "
                            "... --size N`)")
    for key in out:
        if key not in params:
            raise BiasLensError(f"{option_names[key]}: architecture {arch!r} takes no "
                                f"{key} (its arguments: {', '.join(sorted(params))})")
    return out


def _cache_side(cache: Optional[Path]) -> Optional[int]:
    """The image side of a square cache from its manifest (None: no cache, or not square)."""
    if cache is None or not (Path(cache) / "manifest.json").is_file():
        return None
    m = json.loads((Path(cache) / "manifest.json").read_text())
    h, w = m.get("height"), m.get("width")
    return int(h) if isinstance(h, int) and h == w else None


def _width_key(arch: str, names: tuple[str, ...]) -> str:
    """The constructor key of an architecture's base width among ``names`` (the first it
    takes; the first of ``names`` when it takes none, refused later by model_config)."""
    import inspect

    from biaslens.models.registry import get_architecture

    params = inspect.signature(get_architecture(arch).__init__).parameters
    return next((n for n in names if n in params), names[0])


#: Options a resumed run may change (everything else comes from its config.json).
RESUME_CHANGES = ("steps", "device")


def _resume_changes(ctx: typer.Context, opts: dict[str, Any]) -> dict[str, Any]:
    """The options typed on a ``--resume`` command line: ``--steps`` and ``--device`` are
    passed on (train further, move device); any other is refused, naming it, instead of
    being silently ignored."""
    typed = [p for p in ctx.command.params
             if p.name not in ("resume", "dry_run", "cache")
             and getattr(ctx.get_parameter_source(p.name), "name", None) == "COMMANDLINE"]
    fixed = [p for p in typed if p.name not in RESUME_CHANGES]
    if fixed:
        names = ", ".join(max(p.opts, key=len) for p in fixed)
        raise BiasLensError(f"{names}: a resumed run keeps the options in its config.json; "
                            "only --steps (train on to that many steps) and --device can "
                            "change with --resume")
    return {p.name: opts[p.name] for p in typed if p.name in opts}


def _run(ctx: typer.Context, family: str, fn: Callable[..., Any], cache: Optional[Path],
         out: Optional[Path], resume: Optional[Path], dry_run: bool, opts: dict[str, Any]
         ) -> None:
    """Resolve data/out/resume, show progress, print the result, write result.json."""
    from biaslens.train import resume_run

    command = shlex.join(["biaslens", *sys.argv[1:]])
    if resume is not None:
        out = Path(resume)
        if cache is not None:
            raise BiasLensError(f"give either a CACHE folder or --resume RUN, not both (the run "
                                f"{out} trains on the data recorded in its config.json)")
        if not (out / "config.json").is_file():  # before the progress bar starts
            raise BiasLensError(f"--resume {out}: not a run folder (it has no config.json)")
        changes = _resume_changes(ctx, opts)

        def call(**kw: Any) -> Any:
            return resume_run(out, family=family, command=command, **changes, **kw)
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
    if family == "classifier":
        print_heldout(result.evaluation, Path(out) / "eval.json", step=result.step)


def print_heldout(ev: dict[str, Any], path: Path, *, step: int | None = None,
                  worst: int = 5) -> None:
    """The classifier's last held-out evaluation: mean accuracy and AUC and the
    attributes with the lowest AUC, or a line saying none was run."""
    import math

    from rich.table import Table

    if not ev:
        console.print("no held-out evaluation was run (eval_every 0, or no val split)",
                      highlight=False)
        return
    if not ev.get("n"):
        console.print("held-out evaluation: the val split is empty", highlight=False)
        return

    def num(v: Any) -> str:
        return "—" if v is None or not math.isfinite(float(v)) else f"{float(v):.3f}"

    console.print(f"held-out (val split, {ev['n']:,} images, step {step}): mean accuracy "
                  f"{num(ev.get('mean_accuracy'))}, mean AUC {num(ev.get('mean_auc'))}",
                  highlight=False)
    auc = {k: float(v) for k, v in (ev.get("auc") or {}).items()
           if v is not None and math.isfinite(float(v))}
    if len(auc) > 1:
        table = Table(title=f"Lowest held-out AUC ({min(worst, len(auc))} of {len(auc)}; "
                            f"all in {path})")
        table.add_column("attribute", no_wrap=True)
        table.add_column("AUC", justify="right")
        table.add_column("accuracy", justify="right")
        for name in sorted(auc, key=auc.get)[:worst]:
            acc = (ev.get("accuracy") or {}).get(name)
            table.add_row(name, f"{auc[name]:.3f}", num(acc))
        console.print(table)


@train_app.command("gan")
def gan_cmd(
    ctx: typer.Context,
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
    z_dim: Optional[int] = typer.Option(None, "--z-dim", help="Noise size of G (default: "
                                        "the architecture's, 64 for the course's)."),
    ngf: Optional[int] = typer.Option(None, "--ngf", help="Base width of G (hidden_dim of "
                                      "the course generator, ngf of the DCGAN ones)."),
    ndf: Optional[int] = typer.Option(None, "--ndf", help="Base width of D (hidden_dim of "
                                      "the course discriminator, ndf of the DCGAN ones)."),
    image_size: Optional[int] = ImageSizeOpt,
    log_every: int = LogEveryOpt, sample_every: int = SampleEveryOpt,
    checkpoint_every: int = CheckpointEveryOpt, seed: int = SeedOpt,
    device: str = DeviceOpt, precision: str = PrecisionOpt, compile: bool = CompileOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
) -> None:
    """Train a GAN: course generator vs spectrally normalised D, hinge loss, Adam 2e-4."""
    from biaslens.train import train_gan

    g_width, d_width = (_width_key(generator, ("hidden_dim", "ngf")),
                        _width_key(discriminator, ("hidden_dim", "ndf")))
    g_cfg = model_config(generator, cache, {"z_dim": "--z-dim", g_width: "--ngf"},
                         fill_size=True, z_dim=z_dim, image_size=image_size, **{g_width: ngf})
    d_cfg = model_config(discriminator, cache, {d_width: "--ndf"}, fill_size=True,
                         image_size=image_size, **{d_width: ndf})
    _run(ctx, "gan", train_gan, cache, out, resume, dry_run, dict(
        steps=steps, batch_size=batch_size, lr=lr, lr_d=lr_d, generator=generator,
        discriminator=discriminator, generator_config=g_cfg or None,
        discriminator_config=d_cfg or None, loss=loss, init=init, ema_kimg=ema_kimg,
        log_every=log_every, sample_every=sample_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision,
        compile=compile))


@train_app.command("classifier")
def classifier_cmd(
    ctx: typer.Context,
    cache: Optional[Path] = CacheArg,
    out: Optional[Path] = OutOpt,
    arch: str = typer.Option("coursera_classifier",
                             help="coursera_classifier | resnet_classifier"),
    attributes: Optional[list[str]] = typer.Option(
        None, "--attribute", help="Attribute to learn (repeat; default all)."),
    pos_weight: Optional[str] = typer.Option(None, help="'auto' = (1-p)/p clipped, or a number."),
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)), eval_every: int = typer.Option(
        500, min=1, help="Validation accuracy/AUC every N steps; the best mean AUC is kept in "
        "checkpoints/best/."),
    hidden_dim: Optional[int] = typer.Option(None, "--hidden-dim", help="Base width of the "
                                             "course classifier (default 64)."),
    widths: Optional[str] = typer.Option(None, "--widths", help="Stage widths of the ResNet "
                                         "classifier, comma-separated (default 32,64,128,256)."),
    image_size: Optional[int] = ImageSizeOpt,
    log_every: int = LogEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
    compile: bool = CompileOpt, resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
) -> None:
    """Train an attribute classifier (BCE-with-logits on all attributes, val accuracy/AUC;
    checkpoints/best/ holds the evaluation with the best mean AUC, checkpoints/latest/ the
    last step)."""
    from biaslens.train import train_classifier

    try:
        stage_widths = None if widths is None else [int(w) for w in widths.split(",")]
    except ValueError:
        raise BiasLensError(f"--widths {widths!r}: expected comma-separated integers, e.g. "
                            "32,64,128,256") from None
    mcfg = model_config(arch, cache, {"hidden_dim": "--hidden-dim", "widths": "--widths"},
                        hidden_dim=hidden_dim, widths=stage_widths, image_size=image_size)
    _run(ctx, "classifier", train_classifier, cache, out, resume, dry_run, dict(
        arch=arch, model_config=mcfg or None, attributes=attributes or None,
        pos_weight=pos_weight, steps=steps,
        batch_size=batch_size, lr=lr, eval_every=eval_every, log_every=log_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision,
        compile=compile))


def _vae_run(ctx: typer.Context, family: str, cache: Optional[Path], out: Optional[Path],
             resume: Optional[Path], dry_run: bool, hidden_dim: Optional[int] = None,
             latent_dim: Optional[int] = None, image_size: Optional[int] = None,
             **opts: Any) -> None:
    """The vae and cvae commands: the same options, cvae adds ``condition``."""
    from biaslens.train import train_cvae, train_vae

    mcfg = model_config(family, cache, {"hidden_dim": "--hidden-dim",
                                        "latent_dim": "--latent-dim"},
                        hidden_dim=hidden_dim, latent_dim=latent_dim, image_size=image_size)
    _run(ctx, family, train_cvae if family == "cvae" else train_vae, cache, out, resume, dry_run,
         {**opts, "model_config": mcfg or None})


@train_app.command("vae")
def vae_cmd(
    ctx: typer.Context,
    cache: Optional[Path] = CacheArg, out: Optional[Path] = OutOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)),
    beta: float = BetaOpt, recon_loss: str = ReconLossOpt, log_every: int = LogEveryOpt,
    sample_every: int = SampleEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
    hidden_dim: Optional[int] = HiddenOpt, latent_dim: Optional[int] = LatentOpt,
    image_size: Optional[int] = ImageSizeOpt,
) -> None:
    """Train a VAE (pixel-mean MSE or L1 reconstruction + beta·KL)."""
    _vae_run(ctx, "vae", cache, out, resume, dry_run, hidden_dim=hidden_dim, latent_dim=latent_dim,
             image_size=image_size, steps=steps, batch_size=batch_size, lr=lr,
             beta=beta, recon_loss=recon_loss, log_every=log_every, sample_every=sample_every,
             checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision)


@train_app.command("cvae")
def cvae_cmd(
    ctx: typer.Context,
    cache: Optional[Path] = CacheArg, out: Optional[Path] = OutOpt,
    resume: Optional[Path] = ResumeOpt, dry_run: bool = DryOpt,
    condition: Optional[list[str]] = typer.Option(None, help="Condition attribute (repeat); "
                                                  "default Male."),
    steps: int = StepsOpt, batch_size: int = BatchOpt,
    lr: float = typer.Option(1e-3, callback=ranged(POSITIVE)),
    beta: float = BetaOpt, recon_loss: str = ReconLossOpt, log_every: int = LogEveryOpt,
    sample_every: int = SampleEveryOpt, checkpoint_every: int = CheckpointEveryOpt,
    seed: int = SeedOpt, device: str = DeviceOpt, precision: str = PrecisionOpt,
    hidden_dim: Optional[int] = HiddenOpt, latent_dim: Optional[int] = LatentOpt,
    image_size: Optional[int] = ImageSizeOpt,
) -> None:
    """Train a conditional VAE on attribute condition(s), e.g. ``--condition Male``."""
    _vae_run(ctx, "cvae", cache, out, resume, dry_run, hidden_dim=hidden_dim,
             latent_dim=latent_dim, image_size=image_size, condition=condition, steps=steps,
             batch_size=batch_size, lr=lr, beta=beta, recon_loss=recon_loss,
             log_every=log_every, sample_every=sample_every,
             checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision)


@train_app.command("dbvae")
def dbvae_cmd(
    ctx: typer.Context,
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

    _run(ctx, "dbvae", train_dbvae, cache, out, resume, dry_run, dict(
        epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, smoothing=smoothing,
        uniform_epochs=uniform_epochs, log_every=log_every, sample_every=sample_every,
        checkpoint_every=checkpoint_every, seed=seed, device=device, precision=precision))
