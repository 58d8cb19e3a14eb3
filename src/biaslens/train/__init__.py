"""The training engine: one function per model family over a shared loop helper.

>>> from biaslens.train import train_gan
>>> train_gan("caches/synth64", out="runs/gan", steps=2000)   # doctest: +SKIP
"""

from biaslens.train.classifier import auto_pos_weight, train_classifier
from biaslens.train.data import TrainData, as_train_data
from biaslens.train.dbvae import dbvae_loss, dbvae_sampling_probs, train_dbvae
from biaslens.train.evaluate import ClassifierEval, evaluate_scores, rank_auc
from biaslens.train.gan import train_gan
from biaslens.train.images import make_grid, save_image
from biaslens.train.loop import TrainingDiverged, TrainResult, pick_device
from biaslens.train.vae import train_cvae, train_vae, vae_loss

__all__ = [
    "TrainData", "TrainResult", "TrainingDiverged", "ClassifierEval", "as_train_data",
    "auto_pos_weight", "dbvae_loss", "dbvae_sampling_probs", "evaluate_scores", "make_grid",
    "pick_device", "rank_auc", "save_image", "train_classifier", "train_cvae", "train_dbvae",
    "train_gan", "train_vae", "vae_loss",
]
