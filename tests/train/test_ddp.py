"""Two gloo ranks under torchrun train like one process with the same global batch."""

import os
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

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


def _weights(run):
    return load_file(str(run / "checkpoints" / "latest" / "classifier" / "model.safetensors"))


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
    single, ddp = _weights(tmp_path / "single"), _weights(tmp_path / "ddp")
    for k in single:
        assert torch.allclose(single[k], ddp[k], atol=1e-5), k
    cfg = (tmp_path / "ddp" / "config.json").read_text()
    assert '"world_size": 2' in cfg
