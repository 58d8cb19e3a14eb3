"""The shared training loop (train/loop.py): refusing changed options, samples and stop
requests, dry runs, the divergence guard; two gloo ranks train like one process."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from biaslens.errors import BiasLensError
from biaslens.train import TrainingDiverged, train_classifier, train_gan

from .conftest import TINY_D, TINY_G, latest_weights, train_tiny_gan

SCRIPT = textwrap.dedent('''
    import sys, numpy as np, torch
    from torch import nn
    from biaslens.models import register_model
    from biaslens.train import TrainData, train_classifier
    torch.set_num_threads(1)

    @register_model("ddp_tiny_linear")
    class Tiny(nn.Module):
        def __init__(self, attribute_names=("a",)):
            super().__init__()
            self.config = {"attribute_names": list(attribute_names)}
            self.attribute_names = tuple(attribute_names)
            self.fc = nn.Linear(3 * 8 * 8, len(attribute_names))
        def forward(self, x):
            return self.fc(x.flatten(1))

    rng = np.random.default_rng(0)
    data = TrainData(images=rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8),
                     attrs=rng.random((40, 2)) < 0.5, attribute_names=["a", "b"])
    train_classifier(data, out=sys.argv[1], steps=4, batch_size=8, lr=1e-2,
                     arch="ddp_tiny_linear", log_every=2, checkpoint_every=0,
                     device="cpu", precision="fp32", seed=0, command="ddp-test")
''')


def test_two_gloo_ranks_match_single_process(tmp_path):
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    subprocess.run([sys.executable, str(script), str(tmp_path / "single")], check=True,
                   env=env, timeout=60)
    ddp_run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                              "--nproc_per_node", "2", str(script), str(tmp_path / "ddp")],
                             env=env, timeout=180, capture_output=True, text=True)
    assert ddp_run.returncode == 0, ddp_run.stderr[-4000:]
    single = latest_weights(tmp_path / "single", "classifier")
    ddp = latest_weights(tmp_path / "ddp", "classifier")
    for k in single:
        assert torch.allclose(single[k], ddp[k], atol=1e-5), k
    cfg = (tmp_path / "ddp" / "config.json").read_text()
    assert '"world_size": 2' in cfg


def test_resume_refuses_changed_options_and_existing_run(tmp_path, data64):
    train_tiny_gan(data64, tmp_path / "r", 1)
    with pytest.raises(BiasLensError, match="lr"):
        train_gan(data64, out=tmp_path / "r", steps=2, batch_size=8, lr=1e-3,
                  generator_config=TINY_G, discriminator_config=TINY_D, device="cpu",
                  seed=3, log_every=1, sample_every=0, checkpoint_every=0, resume=True)
    with pytest.raises(BiasLensError, match="--resume"):
        train_tiny_gan(data64, tmp_path / "r", 2)


def test_gan_writes_samples_and_stops_on_request(tmp_path, data64):
    calls = []
    r = train_gan(data64, out=tmp_path / "s", steps=50, batch_size=8, generator_config=TINY_G,
                  discriminator_config=TINY_D, sample_every=2, n_samples=4, device="cpu",
                  progress=lambda s, t, m: calls.append(s), should_stop=lambda: len(calls) >= 2)
    assert r.status == "stopped" and r.step == 3
    assert (tmp_path / "s" / "samples" / "step_0000002.png").exists()
    assert (tmp_path / "s" / "checkpoints" / "latest" / "trainer_state.json").exists()


def test_dry_run_writes_nothing(tmp_path, data64):
    r = train_gan(data64, out=tmp_path / "d", dry_run=True)
    assert r.status == "dry_run" and r.config["batch_size"] == 128 and r.config["lr"] == 2e-4
    assert r.config["betas"] == [0.5, 0.999] and not (tmp_path / "d").exists()


def test_divergence_guard_stops_and_keeps_no_bad_checkpoint(tmp_path, data64):
    with pytest.raises(TrainingDiverged, match="NaN") as exc:
        train_classifier(data64, out=tmp_path / "n", steps=10, batch_size=12,
                         arch="test_nan_classifier", model_config={"image_size": 64},
                         log_every=2, checkpoint_every=1, device="cpu")
    # step 1 is checkpointed only after its loss was checked: the guard fires first
    assert exc.value.result.status == "diverged" and exc.value.result.checkpoint is None
    last = json.loads((tmp_path / "n" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "diverged"


def _strict(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (not JSON)."""
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


def _json_files(run):
    files = sorted(p for p in run.rglob("*") if p.suffix in (".json", ".jsonl"))
    assert files
    for path in files:
        lines = path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]
        for line in lines:
            yield path, line


def test_every_json_file_of_a_run_is_strict_json(tmp_path, data64):
    train_gan(data64, out=tmp_path / "g", steps=2, batch_size=8, generator_config=TINY_G,
              discriminator_config=TINY_D, log_every=1, sample_every=0, checkpoint_every=1,
              device="cpu", seed=3, command="test")
    # a NaN loss: the guard stops the run; metrics.jsonl must still parse strictly
    with pytest.raises(TrainingDiverged):
        train_classifier(data64, out=tmp_path / "n", steps=4, batch_size=12,
                         arch="test_nan_classifier", model_config={"image_size": 64},
                         log_every=1, checkpoint_every=1, device="cpu")
    seen = set()
    for path, text in _json_files(tmp_path):
        _strict(text)
        seen.add(path.name)
    assert {"config.json", "metrics.jsonl", "trainer_state.json"} <= seen
    lines = (tmp_path / "n" / "metrics.jsonl").read_text().splitlines()
    bad = [r for r in map(_strict, lines) if "nonfinite" in r]
    assert bad and all(r[k] is None and v == "nan" for r in bad
                       for k, v in r["nonfinite"].items())   # which loss was NaN, said


@pytest.mark.parametrize("field, value", [("steps", -5), ("batch_size", 0), ("log_every", 0),
                                          ("seed", -1)])
def test_a_bad_run_option_is_refused_before_the_run_folder(tmp_path, data64, field, value):
    seen = []
    with pytest.raises(BiasLensError, match=f"RunOptions: {field} must be"):
        train_gan(data64, out=tmp_path / "r", device="cpu", **{field: value},
                  progress=lambda *a: seen.append(a))
    assert not (tmp_path / "r").exists() and seen == []
