"""resume_run: a run folder's config.json is the whole call."""

import json

import pytest
import torch
from safetensors.torch import load_file

from biaslens.errors import BiasLensError
from biaslens.train import resume_run, train_classifier, train_cvae, train_dbvae, train_vae

from .conftest import make_data

VAE = {"latent_dim": 4, "hidden_dim": 4}
RUN = dict(log_every=1, sample_every=0, checkpoint_every=0, device="cpu", command="test")


def _weights(run, name):
    return load_file(str(run / "checkpoints" / "latest" / name / "model.safetensors"))


@pytest.mark.parametrize("family,train,kw,data", [
    ("vae", train_vae, dict(batch_size=8, model_config=VAE, recon_loss="l1", lr=2e-3), None),
    ("cvae", train_cvae, dict(batch_size=8, model_config=VAE, condition=["male"]), None),
    ("cvae", train_cvae, dict(batch_size=8, condition=["male"], adversary=0.1,
                              model_config={**VAE, "decoder_condition": "every"}), None),
    ("classifier", train_classifier,
     dict(batch_size=12, arch="test_tiny_linear_classifier", model_config={"image_size": 64},
          pos_weight="auto", eval_every=0), None),
    ("dbvae", train_dbvae, dict(batch_size=8, model_config={"latent_dim": 3, "n_filters": 2},
                                seed=1), "faces"),
])
def test_resume_run_continues_exactly(tmp_path, family, train, kw, data):
    data = make_data(n=32, faces=True) if data else make_data()
    train(data, out=tmp_path / "full", steps=4, **RUN, **kw)
    train(data, out=tmp_path / "half", steps=2, **RUN, **kw)
    r = resume_run(tmp_path / "half", data=data, steps=4, family=family)
    assert r.status == "completed" and r.step == 4 and r.family == family
    a, b = _weights(tmp_path / "full", family), _weights(tmp_path / "half", family)
    assert a.keys() and all(torch.equal(a[k], b[k]) for k in a)
    full, half = (json.loads((tmp_path / n / "config.json").read_text()) for n in ("full", "half"))
    assert {k for k in full if full[k] != half[k]} <= {"created"}


def test_resume_run_refuses_what_it_cannot_continue(tmp_path, data64):
    with pytest.raises(BiasLensError, match="no config.json"):
        resume_run(tmp_path / "nothing")
    train_vae(data64, out=tmp_path / "v", steps=1, batch_size=8, model_config=VAE, **RUN)
    with pytest.raises(BiasLensError, match="is a vae run, not gan"):
        resume_run(tmp_path / "v", family="gan")
    with pytest.raises(BiasLensError, match="pass data="):
        resume_run(tmp_path / "v")           # trained on in-memory arrays
    with pytest.raises(BiasLensError, match="beta"):
        resume_run(tmp_path / "v", data=data64, steps=2, beta=0.5)
