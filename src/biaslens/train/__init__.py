"""The training engine: one function per model family over a shared loop helper.

The run options every family shares travel as one :class:`RunOptions` (or as keywords);
a run folder's config.json is enough to continue it (:func:`resume_run`).

>>> from biaslens.train import RunOptions, resume_run, train_gan
>>> train_gan("caches/synth64", out="runs/gan", steps=2000)   # doctest: +SKIP
>>> train_gan("caches/synth64", RunOptions(out="runs/gan2", steps=2000), lr=1e-4)  # doctest: +SKIP
>>> resume_run("runs/gan", steps=4000)   # doctest: +SKIP
"""

from biaslens.train.classifier import auto_pos_weight, train_classifier
from biaslens.train.data import TrainData, as_train_data
from biaslens.train.dbvae import dbvae_loss, dbvae_sampling_probs, train_dbvae
from biaslens.train.evaluate import ClassifierEval, evaluate_scores, rank_auc
from biaslens.train.gan import train_gan
from biaslens.train.images import make_grid, save_image
from biaslens.train.loop import TrainingDiverged, TrainResult, pick_device
from biaslens.train.options import RunOptions
from biaslens.train.resume import resume_run
from biaslens.train.vae import train_cvae, train_vae, vae_loss

__all__ = [
    "TrainData", "TrainResult", "TrainingDiverged", "ClassifierEval", "RunOptions",
    "as_train_data", "auto_pos_weight", "dbvae_loss", "dbvae_sampling_probs",
    "evaluate_scores", "make_grid", "pick_device", "rank_auc", "resume_run", "save_image",
    "train_classifier", "train_cvae", "train_dbvae", "train_gan", "train_vae", "vae_loss",
]
