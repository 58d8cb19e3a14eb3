"""Training precision (auto | fp32 | bf16): both run on CPU, are recorded, and resume as
recorded; run folders from before ``precision`` (only ``mixed_precision``) resume as before."""

import json

import pytest
import torch
from safetensors.torch import load_file

from biaslens.errors import BiasLensError
from biaslens.precision import resolve_precision
from biaslens.train import resume_run, train_classifier, train_gan
from biaslens.train.loop import legacy_precision

from .conftest import make_data

RUN = dict(log_every=1, sample_every=0, checkpoint_every=0, device="cpu", command="test")
TINY_GAN = dict(generator_config={"hidden_dim": 4, "z_dim": 8},
                discriminator_config={"ndf": 4}, batch_size=8)
TINY_CLF = dict(batch_size=12, arch="test_tiny_linear_classifier",
                model_config={"image_size": 64}, eval_every=0)


def _config(run):
    return json.loads((run / "config.json").read_text())


def _weights(run, name):
    return load_file(str(run / "checkpoints" / "latest" / name / "model.safetensors"))


@pytest.mark.parametrize("train,kw", [(train_gan, TINY_GAN), (train_classifier, TINY_CLF)])
def test_fp32_and_bf16_train_on_cpu_with_close_losses(tmp_path, data64, train, kw):
    results = {p: train(data64, out=tmp_path / p, steps=3, precision=p, **RUN, **kw)
               for p in ("fp32", "bf16")}
    for p, r in results.items():
        assert r.status == "completed" and r.config["precision"] == p
        assert _config(tmp_path / p)["precision"] == p
        assert "mixed_precision" not in _config(tmp_path / p)
    fp32, bf16 = results["fp32"].metrics, results["bf16"].metrics
    for k in fp32:
        if k.startswith("loss"):
            assert bf16[k] == pytest.approx(fp32[k], rel=0.05, abs=0.02), k
    auto = train(data64, out=tmp_path / "auto", steps=1, **RUN, **kw)
    assert auto.config["precision"] == resolve_precision("auto", "cpu")


def test_resume_keeps_the_recorded_precision(tmp_path, data64):
    for p in ("fp32", "bf16"):
        first = train_gan(data64, out=tmp_path / p, steps=3, precision=p, **RUN, **TINY_GAN,
                          should_stop=lambda: True)
        assert first.step == 1
        r = resume_run(tmp_path / p, data=data64)       # no precision given: the recorded one
        assert r.status == "completed" and r.step == 3 and r.config["precision"] == p
        assert _config(tmp_path / p)["precision"] == p
    with pytest.raises(BiasLensError, match="precision"):
        resume_run(tmp_path / "fp32", data=data64, steps=4, precision="bf16")
    with pytest.raises(BiasLensError, match="precision must be one of"):
        train_gan(data64, out=tmp_path / "bad", steps=1, precision="fp16", **RUN, **TINY_GAN)


def _make_legacy(run, mixed_precision):
    """Rewrite config.json as a run folder from before ``precision`` wrote it."""
    cfg = _config(run)
    del cfg["precision"]
    cfg["mixed_precision"] = mixed_precision
    (run / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("mixed_precision", [True, False])
def test_legacy_run_folder_resumes_in_fp32_on_cpu_exactly(tmp_path, data64, mixed_precision):
    train_gan(data64, out=tmp_path / "full", steps=4, precision="fp32", **RUN, **TINY_GAN)
    for how in ("resume_run", "resume=True"):
        half = tmp_path / how
        train_gan(data64, out=half, steps=2, precision="fp32", **RUN, **TINY_GAN)
        _make_legacy(half, mixed_precision)
        if how == "resume_run":
            r = resume_run(half, data=data64, steps=4)
        else:   # precision left at "auto", which alone would pick bf16 on a bf16 CPU
            r = train_gan(data64, out=half, steps=4, resume=True, **RUN, **TINY_GAN)
        assert r.status == "completed" and r.config["precision"] == "fp32"
        assert _config(half)["precision"] == "fp32"
        a, b = _weights(tmp_path / "full", "generator"), _weights(half, "generator")
        assert all(torch.equal(a[k], b[k]) for k in a)
    legacy = tmp_path / "legacy-explicit"
    train_gan(data64, out=legacy, steps=2, precision="fp32", **RUN, **TINY_GAN)
    _make_legacy(legacy, mixed_precision)
    with pytest.raises(BiasLensError, match="precision"):
        train_gan(data64, out=legacy, steps=4, resume=True, precision="bf16", **RUN, **TINY_GAN)


def test_legacy_precision_is_bf16_only_on_cuda_with_mixed_precision():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert legacy_precision({"mixed_precision": True}, cpu) == "fp32"
    assert legacy_precision({"mixed_precision": True}, cuda) == "bf16"
    assert legacy_precision({"mixed_precision": False}, cuda) == "fp32"


def test_dry_run_records_the_resolved_precision(tmp_path):
    data = make_data(n=16)
    r = train_gan(data, out=tmp_path / "d", dry_run=True, precision="auto", device="cpu")
    assert r.config["precision"] == resolve_precision("auto", "cpu")
    r = train_gan(data, out=tmp_path / "d", dry_run=True, precision="fp32", device="cpu")
    assert r.config["precision"] == "fp32"
