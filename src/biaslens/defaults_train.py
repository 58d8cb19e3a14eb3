"""Train, evaluate and ship the default models: ``python -m biaslens.defaults_train``.

The shipped defaults (``src/biaslens/resources/models/<name>/``) are reproduced on a CPU
by::

    python -m biaslens.defaults_train all            # data, then every model in order
    python -m biaslens.defaults_train classifier     # one model (its cache must exist)

Every step is a fixed recipe (:data:`RECIPES`): a cache from the default synthetic world,
one call of the training engine with fixed keywords, a held-out evaluation
(:func:`classifier_quality`, :func:`generator_quality`, ...) and a copy of the trained
weights into the package whose checkpoint ``extra`` records the command, the data (cache
content hash and synth settings), the training keywords and the quality numbers.
The evaluation functions are pure compute (models and arrays in, dicts out).

The same recipes train on another world preset without touching the shipped models
(``--world independent --n-faces 20000 --root runs/independent``; any ``--world`` other
than ``celeba``, any ``--n-faces`` or ``--no-ship`` evaluates into ``--root`` only, see
docs/validation.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

#: Where the shipped checkpoints live.
from biaslens.defaults import RESOURCE_MODELS  # noqa: E402  (the shipped folder)
from biaslens.tensors import to_model_pixels  # noqa: E402

#: The world the shipped defaults are trained on (only this world ships).
DEFAULT_WORLD = "celeba"

#: Caches rendered from the default world ("celeba" preset), 64 px.
DATASETS: dict[str, dict[str, Any]] = {
    "faces": {"folder": "synth64", "world": "celeba", "n": 30000, "nonfaces": 0, "size": 64,
              "seed": 0},
    "faces_nonfaces": {"folder": "dbvae64", "world": "celeba", "n": 6000, "nonfaces": 6000,
                       "size": 64, "seed": 1},
}


@dataclass(frozen=True)
class Recipe:
    """How one default model is trained: engine function, data set, fixed keywords."""

    name: str                       # shipped folder name (resources/models/<name>)
    train_fn: str                   # function in biaslens.train
    dataset: str                    # key of DATASETS
    model_folder: str               # folder under RUN/checkpoints/latest/
    architecture: str               # expected registry name
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_minutes: float = 30.0       # safety net: stop (and save) after this much wall time


#: The recipes, in training order (classifier first: the audits need it most).
RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("classifier", "train_classifier", "faces", "classifier", "coursera_classifier",
           dict(arch="coursera_classifier", model_config={"hidden_dim": 32}, steps=1200,
                batch_size=128, lr=1e-3, eval_every=400, log_every=50, checkpoint_every=400,
                seed=0),
           max_minutes=12),
    # The course generator (hidden 32) trained adversarially against a spectrally
    # normalised DCGAN discriminator with the hinge loss and DCGAN init: the course's
    # BatchNorm discriminator with BCE collapsed in every CPU run (docs/default-models.md).
    Recipe("generator", "train_gan", "faces", "generator_ema", "coursera_dcgan_generator",
           dict(generator="coursera_dcgan_generator",
                generator_config={"hidden_dim": 32, "z_dim": 64},
                discriminator="sn_dcgan_discriminator", discriminator_config={"ndf": 32},
                loss="hinge", init="dcgan", ema_kimg=10.0, steps=7000, batch_size=64,
                lr=2e-4, log_every=100, sample_every=1000, checkpoint_every=500,
                seed=0),
           max_minutes=130),
    Recipe("vae", "train_vae", "faces", "vae", "vae",
           dict(model_config={"hidden_dim": 16, "latent_dim": 128}, steps=800, batch_size=64,
                lr=1e-3, beta=5e-4, recon_loss="mse", log_every=50, sample_every=400,
                checkpoint_every=400, seed=0),
           max_minutes=7),
    Recipe("cvae", "train_cvae", "faces", "cvae", "cvae",
           dict(condition=["Male"], model_config={"hidden_dim": 16, "latent_dim": 128},
                steps=800, batch_size=64, lr=1e-3, beta=5e-4, recon_loss="mse", log_every=50,
                sample_every=400, checkpoint_every=400, seed=0),
           max_minutes=7),
    Recipe("dbvae", "train_dbvae", "faces_nonfaces", "dbvae", "dbvae",
           dict(epochs=2, batch_size=32, lr=5e-4, uniform_epochs=0, log_every=50,
                sample_every=500, checkpoint_every=500, seed=0),
           max_minutes=6),
]}

N_GENERATED = 10_000   # generated faces for the prevalence check
GRID_SEED = 0


# --------------------------------------------------------------------------- compute

def _batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             batch: int = 500) -> torch.Tensor:
    """Apply ``fn`` to ``x`` in chunks under no_grad and concatenate (bounded memory)."""
    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def classifier_logits(clf: nn.Module, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Logits ``(n, A)`` of a classifier on uint8 NHWC images or float NCHW [-1, 1] tensors."""
    x = images if isinstance(images, torch.Tensor) else to_model_pixels(images)
    return _batched(clf, x).numpy()


def classifier_quality(clf: nn.Module, images: np.ndarray, attrs: np.ndarray,
                       attribute_names: list[str], rendered: list[str]) -> dict[str, Any]:
    """Held-out AUC and accuracy per attribute; the mean AUC over the rendered attributes.

    Parameters
    ----------
    clf : attribute classifier (eval mode).
    images : uint8 (n, H, W, 3) held-out faces; attrs : bool (n, A) their labels.
    attribute_names : the A column names; rendered : the names the renderer draws.
    """
    from biaslens.train.evaluate import evaluate_scores

    logits = classifier_logits(clf, images)
    idx = [attribute_names.index(a) for a in clf.attribute_names]
    ev = evaluate_scores(attrs[:, idx], logits, list(clf.attribute_names)).to_dict()
    auc_r = [ev["auc"][a] for a in rendered]
    return {"n_heldout": int(len(images)),
            "mean_auc_rendered": float(np.nanmean(auc_r)),
            "min_auc_rendered": float(np.nanmin(auc_r)),
            "mean_accuracy_rendered": float(np.mean([ev["accuracy"][a] for a in rendered])),
            "mean_auc_all": ev["mean_auc"],
            "auc": ev["auc"], "accuracy": ev["accuracy"]}


def generate(gen: nn.Module, n: int, *, seed: int, batch: int = 500) -> torch.Tensor:
    """``n`` images from ``z ~ N(0, I)`` drawn by a seeded generator: float NCHW in [-1, 1]."""
    z = torch.randn(n, gen.z_dim, generator=torch.Generator().manual_seed(seed))
    return _batched(gen, z, batch)


def generator_quality(gen: nn.Module, clf: nn.Module, train_attrs: np.ndarray,
                      heldout_images: np.ndarray, attribute_names: list[str],
                      rendered: list[str], *, n: int = N_GENERATED, seed: int = 0,
                      tolerance: float = 0.05) -> dict[str, Any]:
    """Classifier-predicted prevalence on ``n`` generated faces vs the training data.

    Reports, per rendered attribute, the training label prevalence, the classifier's
    predicted prevalence on held-out real faces (what a perfect generator would score,
    so the classifier's own bias is visible) and on generated faces; an attribute
    *misses* when ``|generated − training| > tolerance``. ``n_within_tolerance_of_real``
    counts the like-for-like comparison, ``|generated − classifier_on_real| ≤ tolerance``
    (the generator's own error, with the classifier's bias the same on both sides).
    """
    fake = generate(gen, n, seed=seed)
    pred_fake = classifier_logits(clf, fake) > 0
    pred_real = classifier_logits(clf, heldout_images) > 0
    names = list(clf.attribute_names)
    rows, misses, misses_real = {}, [], []
    for a in rendered:
        j = names.index(a)
        train_p = float(train_attrs[:, attribute_names.index(a)].mean())
        gen_p, real_p = float(pred_fake[:, j].mean()), float(pred_real[:, j].mean())
        rows[a] = {"training": train_p, "classifier_on_real": real_p,
                   "generated": gen_p, "difference": gen_p - train_p,
                   "difference_from_real": gen_p - real_p}
        if abs(gen_p - train_p) > tolerance:
            misses.append(a)
        if abs(gen_p - real_p) > tolerance:
            misses_real.append(a)
    diffs = np.array([r["difference"] for r in rows.values()])
    return {"n_generated": n, "seed": seed, "tolerance": tolerance,
            "n_within_tolerance": len(rendered) - len(misses), "n_rendered": len(rendered),
            "misses": misses, "mean_abs_difference": float(np.abs(diffs).mean()),
            "n_within_tolerance_of_real": len(rendered) - len(misses_real),
            "misses_of_real": misses_real,
            "max_abs_difference": float(np.abs(diffs).max()),
            "pixel_std": float(fake.std()), "pixel_mean": float(fake.mean()),
            "prevalence": rows}


def vae_quality(vae: nn.Module, images: np.ndarray, cond: np.ndarray | None = None
                ) -> dict[str, Any]:
    """Held-out reconstruction error (eval mode, ``z = mu``) on the [-1, 1] scale.

    ``cond`` (n, C) is the 0/1 condition of a conditional VAE (None for a plain VAE).
    """
    x = to_model_pixels(images)
    c = None if cond is None else torch.as_tensor(cond, dtype=torch.float32)
    mse, mae, kl = [], [], []
    with torch.no_grad():
        for i in range(0, len(x), 500):
            args = (x[i:i + 500],) if c is None else (x[i:i + 500], c[i:i + 500])
            recon, mu, logvar = vae(*args)
            d = recon - x[i:i + 500]
            mse.append(d.pow(2).mean((1, 2, 3)))
            mae.append(d.abs().mean((1, 2, 3)))
            kl.append(0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(1))
    return {"n_heldout": int(len(x)), "recon_mse": float(torch.cat(mse).mean()),
            "recon_mae": float(torch.cat(mae).mean()), "kl_per_image": float(torch.cat(kl).mean())}


def cvae_flip_quality(cvae: nn.Module, clf: nn.Module, images: np.ndarray, cond: np.ndarray,
                      attribute: str = "Male") -> dict[str, Any]:
    """Does the decoder follow the condition? Classifier ``attribute`` rate on held-out
    reconstructions decoded with condition 0 and with condition 1 (encoder sees the truth)."""
    x = to_model_pixels(images)
    c = torch.as_tensor(cond, dtype=torch.float32)
    j = list(clf.attribute_names).index(attribute)
    rates = {}
    with torch.no_grad():
        mu = torch.cat([cvae.encode(x[i:i + 500], c[i:i + 500])[0] for i in range(0, len(x), 500)])
        for v in (0.0, 1.0):
            cv = torch.full_like(c, v)
            out = torch.cat([cvae.decode(mu[i:i + 500], cv[i:i + 500])
                             for i in range(0, len(mu), 500)])
            rates[f"{attribute}_rate_decoded_as_{int(v)}"] = float(
                (classifier_logits(clf, out)[:, j] > 0).mean())
    return rates


def dbvae_quality(dbvae: nn.Module, images: np.ndarray, is_face: np.ndarray) -> dict[str, Any]:
    """Held-out face-detection accuracy (logit > 0) on faces and on non-faces."""
    logit = _batched(lambda b: dbvae.classify(b)[:, 0], to_model_pixels(images)).numpy()
    pred = logit > 0
    is_face = np.asarray(is_face, dtype=bool)
    from biaslens.train.evaluate import rank_auc

    return {"n_heldout": int(len(images)), "accuracy": float((pred == is_face).mean()),
            "face_recall": float(pred[is_face].mean()),
            "nonface_rejection": float((~pred[~is_face]).mean()),
            "auc": float(rank_auc(is_face, logit))}


# --------------------------------------------------------------------------- I/O steps

def _command(step: str, root: Path, world: str | None = None,
             n_faces: int | None = None) -> str:
    argv = ["python", "-m", "biaslens.defaults_train", step, "--root", str(root)]
    if world is not None and world != DEFAULT_WORLD:
        argv += ["--world", world]
    if n_faces is not None:
        argv += ["--n-faces", str(n_faces)]
    return shlex.join(argv)


def dataset_spec(key: str, world: str | None = None, n_faces: int | None = None
                 ) -> dict[str, Any]:
    """:data:`DATASETS` ``key`` with the world and/or face count overridden.

    ``None`` keeps the recipe's value, so ``dataset_spec(key) == DATASETS[key]``. The
    override lets the same recipes train on another preset (e.g. the ``independent``
    world of the validation in docs/validation.md) into another ``--root``.
    """
    spec = dict(DATASETS[key])
    if world is not None:
        spec["world"] = world
    if n_faces is not None:
        if n_faces < 10:
            raise ValueError(f"n_faces must be >= 10 (got {n_faces})")
        spec["n"] = int(n_faces)
    return spec


def make_data(key: str, root: Path, *, world: str | None = None,
              n_faces: int | None = None) -> Path:
    """Render the cache of :data:`DATASETS` ``key`` under ``root`` (kept when complete).

    A complete cache rendered from another world or face count is never reused silently:
    it raises :class:`~biaslens.errors.DataError` naming the folder.
    """
    from biaslens.data.cache import load_cache
    from biaslens.errors import DataError
    from biaslens.world.synth import synthesize_cache

    spec = dataset_spec(key, world, n_faces)
    out = root / spec["folder"]
    try:
        cache = load_cache(out)
    except Exception:  # noqa: BLE001 - missing or incomplete: (re)render
        cache = None
    if cache is not None:
        src = cache.manifest.get("source", {})
        have = (src.get("world", {}).get("name"), src.get("n_faces"))
        if have != (spec["world"], spec["n"]):
            raise DataError(f"cache was rendered from world {have[0]!r} with {have[1]} faces, "
                            f"the recipe needs world {spec['world']!r} with {spec['n']}; "
                            "use another --root or delete the folder", path=out,
                            field="manifest.json:source")
        return out
    synthesize_cache(spec["world"], spec["n"], out, size=spec["size"], seed=spec["seed"],
                     nonfaces=spec["nonfaces"], workers=2, overwrite=True)
    return out


def _data_record(key: str, root: Path, world: str | None = None,
                 n_faces: int | None = None) -> dict[str, Any]:
    from biaslens.data.cache import load_cache

    spec = dataset_spec(key, world, n_faces)
    cache = load_cache(root / spec["folder"])
    synth = ["biaslens", "data", "synth", "--world", spec["world"], "--n", str(spec["n"]),
             "--size", str(spec["size"]), "--seed", str(spec["seed"])]
    if spec["nonfaces"]:
        synth += ["--nonfaces", str(spec["nonfaces"])]
    return {"cache": spec["folder"], "content_hash": cache.content_hash,
            "synth_command": shlex.join(synth + ["--out", spec["folder"]]),
            "world": spec["world"], "n": int(cache.manifest["n"]),
            "splits": {"train": int((cache.split == 0).sum()), "val": int((cache.split == 1).sum()),
                       "test": int((cache.split == 2).sum())}}


def train(name: str, root: Path, *, log: Callable[[str], None] = print,
          world: str | None = None, n_faces: int | None = None) -> Path:
    """Run the recipe's training (stops early, with a checkpoint, after ``max_minutes``;
    resumes the run in ``root/run-<name>`` when it has a checkpoint). ``world`` and
    ``n_faces`` only enter the recorded command (the data is ``root``'s cache)."""
    import biaslens.train as engine

    rec = RECIPES[name]
    data = root / DATASETS[rec.dataset]["folder"]
    out = root / f"run-{name}"
    t0 = time.monotonic()
    last = [0.0]

    def progress(step: int, total: int, metrics: dict[str, float]) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            log(f"[{name}] {step}/{total} {time.monotonic() - t0:.0f}s "
                + " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())))

    # An existing run continues exactly where it stopped (the engine's resume is
    # bit-exact on CPU), so a longer recipe extends a shorter run to the same weights.
    resume = (out / "checkpoints" / "latest").is_dir()
    fn = getattr(engine, rec.train_fn)
    result = fn(data, out=out, command=_command(name, root, world, n_faces), progress=progress,
                should_stop=lambda: time.monotonic() - t0 > rec.max_minutes * 60,
                device="cpu", resume=resume, **rec.kwargs)
    summary = {k: v for k, v in result.to_dict().items() if k != "config"}
    (out / "result.json").write_text(json.dumps(summary, indent=1, default=str))
    log(f"[{name}] {summary['status']} at step {summary['step']}/{summary['steps']}, "
        f"{summary['images_per_s']:.1f} images/s, {summary['wall_s']:.0f}s")
    return out


def evaluate(name: str, root: Path) -> dict[str, Any]:
    """Held-out quality of the trained run of ``name`` (needs the classifier run for the
    generator and CVAE checks)."""
    from biaslens.data.cache import load_cache
    from biaslens.models import load_checkpoint
    from biaslens.world.render import RENDERED_ATTRIBUTES

    rec = RECIPES[name]
    model, _ = load_checkpoint(root / f"run-{name}" / "checkpoints" / "latest" / rec.model_folder)
    cache = load_cache(root / DATASETS[rec.dataset]["folder"])
    names = list(cache.attribute_names)
    test = np.flatnonzero(cache.split == 2)
    images = np.asarray(cache.images[test])
    rendered = list(RENDERED_ATTRIBUTES)
    if name == "dbvae":
        col = cache.group_names.index("is_face")
        return dbvae_quality(model, images, cache.groups[test, col] == 1)
    if name == "classifier":
        return classifier_quality(model, images, cache.attrs[test], names, rendered)
    clf, _ = load_checkpoint(root / "run-classifier" / "checkpoints" / "latest" / "classifier")
    if name == "generator":
        train_attrs = cache.attrs[cache.split == 0]
        return generator_quality(model, clf, train_attrs, images, names, rendered)
    if name == "vae":
        return vae_quality(model, images)
    cond = cache.attrs[test][:, [names.index(c) for c in model.condition_names]]
    return {**vae_quality(model, images, cond),
            **cvae_flip_quality(model, clf, images[:1000], cond[:1000])}


def ship(name: str, root: Path, quality: dict[str, Any], dest: Path = RESOURCE_MODELS, *,
         world: str | None = None, n_faces: int | None = None) -> Path:
    """Copy the trained weights to ``dest/<name>`` with the provenance in ``extra``."""
    from biaslens.models import load_checkpoint, save_checkpoint

    rec = RECIPES[name]
    run = root / f"run-{name}"
    model, _ = load_checkpoint(run / "checkpoints" / "latest" / rec.model_folder,
                               expected_architecture=rec.architecture)
    result = json.loads((run / "result.json").read_text())
    extra = {"default_model": name,
             "command": _command(name, root, world, n_faces),
             "training": {"function": f"biaslens.train.{rec.train_fn}",
                          "kwargs": rec.kwargs,
                          "device": "cpu", "threads": torch.get_num_threads(),
                          "status": result["status"], "step": result["step"],
                          "steps": result["steps"], "wall_s": result["wall_s"],
                          "images_per_s": result["images_per_s"]},
             "data": _data_record(rec.dataset, root, world, n_faces),
             "quality": quality}
    return save_checkpoint(model, dest / name, extra=json.loads(json.dumps(extra, default=float)))


def save_generated_grid(gen: nn.Module, path: Path, *, n: int = 64, seed: int = GRID_SEED) -> Path:
    """Save an 8×8 grid of generated faces (fixed seed) as PNG."""
    from biaslens.train.images import save_image

    return save_image(generate(gen, n, seed=seed), path, nrow=8)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m biaslens.defaults_train STEP... [--root runs/defaults]``.

    Only the default call (world ``celeba``, the recipe's face counts, no ``--no-ship``)
    copies weights into the package; any other world or ``--n-faces`` trains and evaluates
    into ``--root`` only (quality in ``ROOT/run-<name>/quality.json``, the generator's
    sample grid in ``ROOT/generated_grid.png``).
    """
    p = argparse.ArgumentParser(prog="python -m biaslens.defaults_train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("steps", nargs="+", choices=["all", "data", *RECIPES, "grid"],
                   help="what to do, in order ('all' = data + every model)")
    p.add_argument("--root", type=Path, default=Path("runs/defaults"),
                   help="folder for caches and runs (default runs/defaults)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1 was 2-3x faster than 2 on the shared 2-core box)")
    p.add_argument("--no-train", action="store_true",
                   help="evaluate (and, for the default world, ship) an existing run "
                        "without training")
    p.add_argument("--world", default=DEFAULT_WORLD,
                   help=f"world preset the caches are rendered from (default {DEFAULT_WORLD}; "
                        "any other world never ships)")
    p.add_argument("--n-faces", type=int, default=None, metavar="N",
                   help="faces per cache instead of the recipe's (never ships)")
    p.add_argument("--no-ship", action="store_true",
                   help="train and evaluate only; leave the shipped models untouched")
    p.add_argument("--grid", type=Path, default=Path("docs/img/generated_grid.png"),
                   help="where the generator step saves its sample grid (when shipping)")
    args = p.parse_args(argv)
    from biaslens.world import World

    try:
        World.preset(args.world)
    except Exception as exc:  # noqa: BLE001 - argparse prints one line, exit 2
        p.error(f"--world: {exc}")
    if args.n_faces is not None and args.n_faces < 10:
        p.error(f"--n-faces must be >= 10 (got {args.n_faces})")
    torch.set_num_threads(args.threads)
    steps = ["data", *RECIPES] if "all" in args.steps else args.steps
    root = args.root
    world = None if args.world == DEFAULT_WORLD else args.world
    n_faces = args.n_faces
    shipping = not args.no_ship and world is None and n_faces is None

    def log(msg: str) -> None:
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    def grid() -> Path:
        """Sample grid of the shipped generator (or, when not shipping, of the run's)."""
        from biaslens.models import load_checkpoint

        if shipping:
            return save_generated_grid(load_checkpoint(RESOURCE_MODELS / "generator")[0],
                                       args.grid)
        run = root / "run-generator" / "checkpoints" / "latest" / RECIPES["generator"].model_folder
        return save_generated_grid(load_checkpoint(run)[0], root / "generated_grid.png")

    if not shipping:
        log(f"not shipping: results stay in {root} (world {args.world}, "
            f"n_faces {n_faces or 'recipe'})")
    for step in steps:
        if step == "data":
            for key in DATASETS:
                log(f"data {key}: {make_data(key, root, world=world, n_faces=n_faces)}")
            continue
        if step == "grid":
            log(f"grid: {grid()}")
            continue
        if not args.no_train:
            make_data(RECIPES[step].dataset, root, world=world, n_faces=n_faces)
            train(step, root, log=log, world=world, n_faces=n_faces)
        quality = evaluate(step, root)
        log(f"[{step}] quality: " + json.dumps(
            {k: v for k, v in quality.items() if not isinstance(v, dict)}, default=float))
        if shipping:
            log(f"[{step}] shipped: {ship(step, root, quality)}")
        else:
            qpath = root / f"run-{step}" / "quality.json"
            qpath.write_text(json.dumps(quality, indent=1, default=float))
            log(f"[{step}] quality written to {qpath} (not shipped)")
        if step == "generator":
            log(f"grid: {grid()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
