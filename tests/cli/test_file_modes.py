"""Every output file is readable as the umask says (0644 under umask 022), folders 0755:
JSON, PNGs, checkpoints (config.json + model.safetensors), training runs (trainer state
included), caches and CelebA exports."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from biaslens.cli.main import app

runner = CliRunner()


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(root):
    """(path, mode) of every file and folder under ``root`` (``root`` included)."""
    out = [(root, stat.S_IMODE(os.stat(root).st_mode))]
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(folder, name)
            out.append((p, stat.S_IMODE(os.stat(p).st_mode)))
    return out


def test_outputs_follow_the_umask(tiny, tmp_path, umask_022):
    outs = {
        "run": ["train", "classifier", str(tiny["cache"]), "--steps", "2", "--batch-size", "8",
                "--eval-every", "2", "--checkpoint-every", "2", "--device", "cpu"],
        "steer": ["audit", "steer", "--generator", str(tiny["generator"]), "--classifier",
                  str(tiny["classifier"]), "--n", "4", "--steps", "2", "--n-boot", "0",
                  "--reference", "none", "--device", "cpu"],
        "celeba": ["data", "synth", "--format", "celeba", "--n", "4"],
        "cache": ["data", "synth", "--n", "4", "--size", "32"],
        "info": ["models", "info", str(tiny["generator"]), "--json"],
    }
    for name, args in outs.items():
        dest = tmp_path / name
        args = args + ([str(dest / "info.json")] if name == "info" else ["--out", str(dest)])
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (name, res.output)
    sheet = tmp_path / "sheet.png"
    assert runner.invoke(app, ["data", "preview", str(tiny["cache"]), "--out", str(sheet),
                               "--n", "4"]).exit_code == 0
    found = [m for name in outs for m in _modes(tmp_path / name)] + _modes(sheet)
    kinds = {os.path.splitext(p)[1] for p, _ in found}
    assert {".json", ".png", ".safetensors", ".jpg", ".txt", ".npy"} <= kinds
    wrong = [(p, oct(m)) for p, m in found
             if m != (0o755 if os.path.isdir(p) else 0o644)]
    assert wrong == []
