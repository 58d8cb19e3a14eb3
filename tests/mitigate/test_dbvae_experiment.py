"""DB-VAE: balanced test faces, face probabilities, a cache without a face column."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.errors import BiasLensError, DataError
from biaslens.mitigate.dbvae_experiment import (
    GROUPS,
    DBVAEConfig,
    balanced_test_faces,
    face_probabilities,
    run_dbvae_experiment,
)
from biaslens.models import build_model


def test_balanced_test_faces_has_n_per_group_in_order():
    imgs, groups = balanced_test_faces(3, seed=0, size=32)
    assert imgs.shape == (12, 32, 32, 3) and imgs.dtype == np.uint8
    assert list(groups) == [g for g in GROUPS for _ in range(3)]
    again, _ = balanced_test_faces(3, seed=0, size=32)
    np.testing.assert_array_equal(imgs, again)
    with pytest.raises(BiasLensError):
        balanced_test_faces(0)


def test_face_probabilities_reads_dbvae_and_cnn():
    torch.manual_seed(0)
    imgs = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    vae = build_model("dbvae", latent_dim=4, n_filters=2)
    cnn = build_model("standard_cnn", n_filters=2)
    for m in (vae, cnn):
        p = face_probabilities(m, imgs, batch_size=2)
        assert p.shape == (5,) and np.all((p > 0) & (p < 1))
    x = torch.from_numpy(imgs).float().div(127.5).sub(1).permute(0, 3, 1, 2)
    np.testing.assert_allclose(face_probabilities(vae, imgs),
                               torch.sigmoid(vae.eval().classify(x)[:, 0]).detach().numpy(),
                               rtol=1e-5)


def test_cache_without_face_column_is_a_clear_error(tmp_path):
    from biaslens.train import TrainData

    td = TrainData(images=np.zeros((40, 64, 64, 3), np.uint8))
    with pytest.raises(DataError, match="is_face"):
        run_dbvae_experiment(td, out=tmp_path, config=DBVAEConfig(device="cpu"))
