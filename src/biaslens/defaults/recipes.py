"""The fixed recipes that train the shipped default models, and the data they train on.

Every default model is one :class:`Recipe`: a cache rendered from the default synthetic
world (:data:`DATASETS`), one call of the training engine (``biaslens.train.<train_fn>``)
with fixed keywords, and the folder of the trained model to ship. The recipes also train
on another world preset or face count (:func:`dataset_spec`), which never ships.

Examples
--------
>>> from biaslens.defaults.recipes import RECIPES
>>> RECIPES["classifier"].train_fn
'train_classifier'
>>> train_command("vae", Path("runs/defaults"))
'biaslens models defaults train vae --root runs/defaults'
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DATASETS", "DEFAULT_WORLD", "DOCS_GRID", "RECIPES", "STEPS", "Recipe",
           "dataset_spec", "train_command"]

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
    # The condition joins every decoder resolution and a latent adversary (weight 0.1)
    # keeps z from carrying it, so the decoder takes sex from c: with c only at the
    # decoder input (800 steps) a decoder flip reached the requested sex in 24 % of faces
    # (docs/validation.md, "Counterfactual CVAE").
    Recipe("cvae", "train_cvae", "faces", "cvae", "cvae",
           dict(condition=["Male"],
                model_config={"hidden_dim": 16, "latent_dim": 128,
                              "decoder_condition": "every", "adversary_hidden": 64},
                adversary=0.1, steps=3200, batch_size=64, lr=1e-3, beta=5e-4,
                recon_loss="mse", log_every=50, sample_every=400, checkpoint_every=200,
                seed=0),
           max_minutes=60),
    Recipe("dbvae", "train_dbvae", "faces_nonfaces", "dbvae", "dbvae",
           dict(epochs=2, batch_size=32, lr=5e-4, uniform_epochs=0, log_every=50,
                sample_every=500, checkpoint_every=500, seed=0),
           max_minutes=6),
]}


#: Every step of a run (biaslens.defaults.run): ``all`` (= ``data`` and every recipe),
#: ``data`` (render the caches), a recipe in training order, ``grid`` (the sample grid).
STEPS: tuple[str, ...] = ("all", "data", *RECIPES, "grid")

#: Where the shipping call saves the shipped generator's sample grid.
DOCS_GRID = Path("docs/img/generated_grid.png")


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


def train_command(step: str, root: Path, world: str | None = None,
                  n_faces: int | None = None) -> str:
    """The command that trains ``step`` into ``root``, as recorded in the run and the
    shipped checkpoint (the world and face count only when they are not the recipe's)."""
    argv = ["biaslens", "models", "defaults", "train", step, "--root", str(root)]
    if world is not None and world != DEFAULT_WORLD:
        argv += ["--world", world]
    if n_faces is not None:
        argv += ["--n-faces", str(n_faces)]
    return shlex.join(argv)
