"""Checkpoint folders: atomic writes, metadata and every failure mode."""

from __future__ import annotations

import json

import pytest
import torch

import biaslens
from biaslens.errors import CheckpointError, UnknownNameError
from biaslens.models import build_model, load_checkpoint, read_checkpoint_info, save_checkpoint
from biaslens.models.registry import list_architectures


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    model = build_model("coursera_classifier", hidden_dim=4, attribute_names=["Male", "Young"])
    folder = save_checkpoint(model, tmp_path / "cls", extra={"settings": {"lr": 1e-3}})
    return model, folder


def test_config_json_contents(ckpt):
    model, folder = ckpt
    meta = json.loads((folder / "config.json").read_text())
    assert meta["format"] == "biaslens-model" and meta["version"] == 1
    assert meta["architecture"] == "coursera_classifier"
    assert meta["config"] == model.config
    assert meta["attribute_names"] == ["Male", "Young"]
    assert meta["image_size"] == 64
    assert meta["extra"] == {"settings": {"lr": 1e-3}}
    assert meta["versions"] == {"biaslens": biaslens.__version__, "torch": torch.__version__}
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]


def test_overwrite_and_shared_tensors(tmp_path):
    # Tied weights share storage; safetensors needs them as separate tensors.
    model = build_model("vae", image_size=16, latent_dim=4, hidden_dim=2)
    save_checkpoint(model, tmp_path / "m")
    bn = model.encoder.convs[1]
    bn.bias = bn.weight                               # tied: two keys, one storage
    with torch.no_grad():
        model.encoder.fc.weight.data = model.encoder.fc.weight.data.t().contiguous().t()
    save_checkpoint(model, tmp_path / "m")          # non-contiguous weight, overwrite
    loaded, _ = load_checkpoint(tmp_path / "m")
    assert torch.equal(loaded.encoder.fc.weight, model.encoder.fc.weight)
    assert torch.equal(loaded.encoder.convs[1].bias, model.encoder.convs[1].weight)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json",
                                                                 "model.safetensors"]


def test_wrong_architecture(ckpt):
    _, folder = ckpt
    with pytest.raises(CheckpointError, match=r"cls: checkpoint is a 'coursera_classifier', "
                                              r"expected 'coursera_dcgan_generator'"):
        load_checkpoint(folder, expected_architecture="coursera_dcgan_generator")


def test_wrong_shape_names_the_keys(ckpt):
    _, folder = ckpt
    meta = json.loads((folder / "config.json").read_text())
    meta["config"]["hidden_dim"] = 8
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(folder)
    msg = str(exc.value)
    assert "model.safetensors" in msg and "shape mismatches" in msg
    assert "classifier.0.0.weight: expected (8, 3, 4, 4), found (4, 3, 4, 4)" in msg


def test_missing_and_non_checkpoint(tmp_path, ckpt):
    _, folder = ckpt
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="config.json not found"):
        load_checkpoint(tmp_path)
    some_file = tmp_path / "weights.pth"
    some_file.write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="models import"):
        load_checkpoint(some_file)
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors not found"):
        load_checkpoint(folder)


def test_corrupt_weights_and_config(ckpt):
    _, folder = ckpt
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256 differs"):
        load_checkpoint(folder)
    weights.write_bytes(b"garbage")
    meta = json.loads((folder / "config.json").read_text())
    meta["weights_sha256"] = None                     # skip the hash: the parser must complain
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)
    (folder / "config.json").write_text('{"format": "biaslens-model",\n "version": }')
    with pytest.raises(CheckpointError, match=r"config.json, line 2: invalid JSON"):
        load_checkpoint(folder)
    (folder / "config.json").write_text(json.dumps({"format": "biaslens-cache"}))
    with pytest.raises(CheckpointError, match="field 'format' must be 'biaslens-model'"):
        load_checkpoint(folder)
    (folder / "config.json").write_text(json.dumps({"format": "biaslens-model", "version": 9}))
    with pytest.raises(CheckpointError, match="field 'version' 9 is not supported"):
        read_checkpoint_info(folder)


def test_unknown_architecture_and_config_key(ckpt):
    _, folder = ckpt
    meta = json.loads((folder / "config.json").read_text())
    for arch, config, pattern in [("stylegan9", {}, "Valid architectures"),
                                  ("coursera_classifier", {"depth": 3}, "Valid keys")]:
        (folder / "config.json").write_text(json.dumps({**meta, "architecture": arch,
                                                        "config": config}))
        with pytest.raises(CheckpointError, match=pattern):
            load_checkpoint(folder)


def test_build_model_unknown_names():
    with pytest.raises(UnknownNameError) as exc:
        build_model("resnet")
    assert all(name in str(exc.value) for name in list_architectures())
    with pytest.raises(UnknownNameError, match="unknown config key.*widht.*Valid keys: "):
        build_model("resnet_classifier", widht=[8])


def test_unjsonable_extra_writes_nothing(tmp_path):
    model = build_model("standard_cnn", n_filters=2)
    with pytest.raises(CheckpointError, match="not JSON-able"):
        save_checkpoint(model, tmp_path / "x", extra={"when": object()})
    assert not (tmp_path / "x").exists()


def test_unregistered_model_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not a registered biaslens architecture"):
        save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "lin")
