"""DB-VAE mitigation pipeline (Amini et al. 2019; MIT 6.S191 lab 2), docs/algorithms.md §3.

Face detection on the synthetic world: faces of the default (skin-tone-skewed) world are
positives, rendered non-faces negatives. Two detectors are trained with the training
engine on the same data and schedule:

* the standard CNN (:func:`biaslens.train.train_classifier`, arch ``standard_cnn``),
* the DB-VAE (:func:`biaslens.train.train_dbvae`: faces re-drawn every epoch with
  probability inversely proportional to the density of their latent means),

and both are evaluated on a fresh test set balanced over skin type × gender
(:func:`balanced_test_faces`) with :func:`biaslens.mitigate.evaluate.compare_detectors`.

>>> res = run_dbvae_experiment("caches/faces", out="runs/dbvae", epochs=2)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biaslens.errors import BiasLensError, DataError
from biaslens.mitigate.evaluate import DetectionComparison, compare_detectors
from biaslens.options import OPEN_UNIT, POSITIVE, CheckedOptions, Range, resolve_options

__all__ = ["DBVAEConfig", "DBVAEExperiment", "LatentMeans", "balanced_test_faces",
           "face_probabilities", "heldout_accuracy", "resampling_by_group",
           "run_dbvae_experiment"]

#: Group order used in tables and plots: skin type × gender (the lab's LF, LM, DF, DM).
GROUPS = ("lighter female", "lighter male", "darker female", "darker male")


@dataclass
class DBVAEConfig(CheckedOptions):
    """Every option of :func:`run_dbvae_experiment` (written to the run folder first)."""

    RANGES = {"epochs": Range(1), "n_faces": Range(1), "n_nonfaces": Range(1),
              "n_per_group": Range(1), "batch_size": Range(2), "lr": POSITIVE,
              "latent_dim": Range(1), "n_filters": Range(1), "kl_weight": Range(0),
              "bins": Range(1), "smoothing": Range(0), "threshold": OPEN_UNIT,
              "n_boot": Range(0), "seed": Range(0)}

    epochs: int = 2                 # epochs of both detectors (§3.5: >= 2 for DB-VAE)
    n_faces: int = 4000             # synthesized faces (when no cache is given)
    n_nonfaces: int = 4000          # synthesized non-faces (when no cache is given)
    world: str = "celeba"           # world of the training faces (skin tone skewed)
    scene: str = "detection"        # capture conditions of all images (world.scene)
    n_per_group: int = 250          # balanced test faces per skin type × gender group
    test_world: str = "balanced"    # world of the test faces
    batch_size: int = 32            # half faces, half non-faces for the DB-VAE
    lr: float = 5e-4                # Adam learning rate (lab)
    latent_dim: int = 100           # k
    n_filters: int = 12             # base width of both networks
    kl_weight: float = 5e-4         # c
    bins: int = 10                  # latent histogram bins
    smoothing: float = 1e-3         # α
    threshold: float = 0.5          # face if probability > threshold
    n_boot: int = 1000              # bootstrap resamples for CIs
    device: str = "auto"            # auto | cpu | cuda
    seed: int = 0                   # data, weights, sampling, bootstrap

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DBVAEExperiment:
    """What :func:`run_dbvae_experiment` produced."""

    config: DBVAEConfig
    comparison: DetectionComparison
    training: dict[str, Any] = field(default_factory=dict)
    checkpoints: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "data": self.data,
                "evaluation": self.comparison.to_dict(), "training": self.training,
                "checkpoints": self.checkpoints}


def balanced_test_faces(n_per_group: int, *, seed: int = 0, size: int = 64,
                        world: str = "balanced", scene: str | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n_per_group`` faces for each skin type × gender group.

    Labels come from the ``balanced`` world (Male and skin type 50/50, independent);
    rows are drawn until every group has its quota and are ordered group by group.
    ``scene`` (:mod:`biaslens.world.scene`) captures them as the training images were.

    Returns
    -------
    images : uint8 (4·n_per_group, size, size, 3)
    groups : str (4·n_per_group,) from :data:`GROUPS`
    """
    from biaslens.names import CELEBA_ATTRIBUTES
    from biaslens.world import World
    from biaslens.world.render import render_faces
    from biaslens.world.scene import apply_scene

    if n_per_group < 1:
        raise BiasLensError(f"n_per_group must be >= 1, got {n_per_group}")
    w = World.preset(world)
    male = CELEBA_ATTRIBUTES.index("Male")
    n_draw = 8 * n_per_group + 64
    s = w.sample(n_draw, seed=seed)
    code = s.skin_type.astype(int) * 2 + s.attrs[:, male].astype(int)    # GROUPS order
    pick = [np.flatnonzero(code == c)[:n_per_group] for c in range(4)]
    if min(len(p) for p in pick) < n_per_group:
        raise BiasLensError(f"the {world!r} world produced too few faces of some skin type × "
                            "gender group; use a world where every group is common")
    rows = np.concatenate(pick)
    imgs = apply_scene(render_faces(s.attrs[rows], s.skin_tone[rows], seed=seed, size=size),
                       scene, seed=seed)
    return imgs, np.repeat(np.array(GROUPS), n_per_group)


class _FaceHead(torch.nn.Module):
    """A DB-VAE seen as a classifier: its face logits ``classify(x)`` (n, 1)."""

    def __init__(self, dbvae: torch.nn.Module):
        super().__init__()
        self.dbvae = dbvae

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dbvae.classify(x)


def face_probabilities(model: torch.nn.Module, images: np.ndarray, *, batch_size: int = 256,
                       device: str | torch.device = "cpu") -> np.ndarray:
    """Sigmoid face probability of uint8 NHWC ``images`` under a detector (eval mode).

    A DB-VAE is read through ``classify``; any other model through its first logit.
    The model is moved to ``device``.
    """
    from biaslens.tensors import predict_logits

    model = model.to(torch.device(device))
    net = _FaceHead(model).train(model.training) if hasattr(model, "classify") else model
    if len(images) == 0:
        return np.zeros(0)
    logits = predict_logits(net, images, batch_size=batch_size, device=device)
    return torch.sigmoid(torch.from_numpy(logits[:, 0])).numpy()


def heldout_accuracy(models: dict[str, torch.nn.Module], td: Any, is_face: np.ndarray, *,
                     threshold: float = 0.5, device: str = "cpu") -> dict[str, Any]:
    """Face/non-face accuracy of each detector on the cache's test split (Wilson CIs) and
    each detector's paired difference from the first (normal CI of the mean per-image
    difference, same images): the "detection quality unchanged" check beside the gap."""
    from biaslens.stats import wilson_ci

    idx = td.indices("test")
    if len(idx) == 0:
        return {"n": 0}
    images = np.asarray(td.images[idx])
    truth = is_face[idx]
    out: dict[str, Any] = {"n": int(len(idx)), "n_faces": int(truth.sum())}
    correct = {}
    for name, model in models.items():
        pred = face_probabilities(model, images, device=device) > threshold
        correct[name] = pred == truth
        k = int(correct[name].sum())
        lo, hi = wilson_ci(k, len(idx))
        out[name] = {"accuracy": k / len(idx), "accuracy_ci": [float(lo), float(hi)],
                     "face_recall": float(pred[truth].mean()) if truth.any() else None,
                     "nonface_specificity": float((~pred[~truth]).mean())
                     if (~truth).any() else None}
    names = list(models)
    for name in names[1:]:
        diff = correct[name].astype(float) - correct[names[0]].astype(float)
        half = 1.959964 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.nan
        out[f"{name} - {names[0]}"] = {"accuracy_diff": float(diff.mean()),
                                       "ci": [float(diff.mean() - half),
                                              float(diff.mean() + half)]}
    return out


class LatentMeans(torch.nn.Module):
    """A (DB-)VAE's latent means as a model output, so the batched
    :func:`biaslens.tensors.predict_logits` can compute them."""

    def __init__(self, vae: torch.nn.Module):
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vae.encode(x)[0]


def resampling_by_group(dbvae: torch.nn.Module, td: Any, faces: np.ndarray, *, bins: int,
                        smoothing: float, device: str = "cpu") -> dict[str, Any]:
    """Where the trained DB-VAE's adaptive resampling puts its mass: the sampling
    probabilities (§3.4) of the training ``faces`` from their latent means, summed per
    skin type × gender group, beside each group's share of the faces. ``weight`` =
    mass / share (1 = drawn as often as uniform sampling would)."""
    from biaslens.tensors import predict_logits
    from biaslens.train.dbvae import dbvae_sampling_probs

    dbvae = dbvae.to(torch.device(device)).eval()
    mu = predict_logits(LatentMeans(dbvae).eval(), np.asarray(td.images[faces]), batch_size=256,
                        device=device)
    p = dbvae_sampling_probs(mu, bins=bins, smoothing=smoothing)
    code = (td.group("skin_type")[faces].astype(int) * 2
            + td.attrs[faces, td.attribute_names.index("Male")].astype(int))
    out: dict[str, Any] = {"n_faces": int(len(faces))}
    for c, gname in enumerate(GROUPS):
        sel = code == c
        share = float(sel.mean())
        mass = float(p[sel].sum())
        out[gname] = {"share": share, "sampling_mass": mass,
                      "weight": mass / share if share > 0 else None}
    return out


def _face_data(data: Any) -> Any:
    """``data`` as TrainData, checked: 64x64 images and an ``is_face`` group column."""
    from biaslens.train.data import as_train_data

    td = as_train_data(data)
    if td.image_size != (64, 64):
        raise DataError(f"the DB-VAE and standard CNN need 64x64 images, the cache has "
                        f"{td.image_size[0]}x{td.image_size[1]}", path=td.source, field="images")
    td.group("is_face")   # clear error when the cache has no face/non-face column
    return td


def run_dbvae_experiment(data: Any, *, out: str | Path, config: DBVAEConfig | None = None,
                         progress: Any = None, **overrides: Any) -> DBVAEExperiment:
    """Train the standard CNN and the DB-VAE on faces + non-faces, evaluate per group.

    Parameters
    ----------
    data : a face/non-face cache or TrainData (group column ``is_face``, 64x64 images);
        :func:`biaslens.pipelines.mitigation.dbvae_run` synthesizes the default one.
    out : run folder; training runs go to ``out/train_standard_cnn`` and
        ``out/train_dbvae``, final weights to ``out/checkpoints/{standard_cnn,dbvae}``.
    config : :class:`DBVAEConfig`; ``**overrides`` replace single fields (``epochs=1``).
    progress : optional ``progress(stage, done, total)`` callback.
    """
    from biaslens.models import save_checkpoint
    from biaslens.tensors import pick_device
    from biaslens.train import TrainData, train_classifier, train_dbvae

    cfg = resolve_options(DBVAEConfig, config, overrides, where="run_dbvae_experiment")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    td = _face_data(data)
    is_face = td.group("is_face").astype(bool)
    n_train = len(td.indices("train"))
    if n_train < cfg.batch_size:
        raise DataError(f"only {n_train} training rows for batch size {cfg.batch_size}",
                        path=td.source, field="split")
    steps = cfg.epochs * max(1, n_train // cfg.batch_size)
    dev = str(pick_device(cfg.device))
    common = dict(batch_size=cfg.batch_size, lr=cfg.lr, betas=(0.9, 0.999), seed=cfg.seed,
                  device=dev, log_every=max(1, steps // 20), checkpoint_every=0)

    def stage(name: str):
        return None if progress is None else (lambda s, t, m: progress(name, s, t))

    # (a) standard CNN: same images, one "Face" label (is_face), uniform batches
    face_td = TrainData(images=td.images, attrs=is_face[:, None], attribute_names=["Face"],
                        split=td.split, content_hash=td.content_hash, source=td.source)
    r_cnn = train_classifier(face_td, out=out / "train_standard_cnn", steps=steps,
                             arch="standard_cnn", model_config={"n_filters": cfg.n_filters},
                             eval_every=0, progress=stage("standard_cnn"), **common)
    # (b) DB-VAE with per-epoch latent-histogram resampling of the faces
    r_vae = train_dbvae(td, out=out / "train_dbvae", epochs=cfg.epochs,
                        model_config={"latent_dim": cfg.latent_dim, "n_filters": cfg.n_filters},
                        kl_weight=cfg.kl_weight, bins=cfg.bins, smoothing=cfg.smoothing,
                        sample_every=0, progress=stage("dbvae"), **common)
    from biaslens.models import load_checkpoint

    cnn, _ = load_checkpoint(Path(r_cnn.checkpoint) / "classifier", device=dev)
    vae, _ = load_checkpoint(Path(r_vae.checkpoint) / "dbvae", device=dev)
    ckpts = {}
    for name, model in (("standard_cnn", cnn), ("dbvae", vae)):
        path = save_checkpoint(model, out / "checkpoints" / name,
                               extra={"experiment": "mitigate dbvae", "data_hash": td.content_hash,
                                      "config": cfg.to_dict()})
        ckpts[name] = str(path)
    images, groups = balanced_test_faces(cfg.n_per_group, seed=cfg.seed + 1,
                                         world=cfg.test_world, scene=cfg.scene)
    probs = {"standard_cnn": face_probabilities(cnn, images, device=dev),
             "dbvae": face_probabilities(vae, images, device=dev)}
    comparison = compare_detectors(probs, groups, reference="standard_cnn",
                                   threshold=cfg.threshold, n_boot=cfg.n_boot, seed=cfg.seed)
    heldout = heldout_accuracy({"standard_cnn": cnn, "dbvae": vae}, td, is_face,
                               threshold=cfg.threshold, device=dev)
    faces = td.indices("train")[is_face[td.indices("train")]]
    data = {"source": td.source, "content_hash": td.content_hash, "n_train": n_train,
            "n_train_faces": int(len(faces)), "n_train_nonfaces": int(n_train - len(faces))}
    if td.groups is not None and "skin_type" in td.group_names:
        st = td.group("skin_type")[faces]
        data["train_darker_share"] = float((st == 1).mean()) if len(faces) else float("nan")
    if td.attrs is not None and "Male" in td.attribute_names:
        data["train_male_share"] = float(td.attrs[faces, td.attribute_names.index("Male")].mean())
    if "skin_type" in td.group_names and "Male" in td.attribute_names:
        data["resampling"] = resampling_by_group(vae, td, faces, bins=cfg.bins,
                                                 smoothing=cfg.smoothing, device=dev)
    data["heldout"] = heldout
    training = {"standard_cnn": {k: v for k, v in r_cnn.to_dict().items() if k != "config"},
                "dbvae": {k: v for k, v in r_vae.to_dict().items() if k != "config"}}
    return DBVAEExperiment(cfg, comparison, training, ckpts, data)
