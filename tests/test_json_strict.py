"""Every JSON file biaslens writes parses with a strict parser (NaN/inf are null)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import biaslens
from biaslens.cli.main import app

SRC = Path(biaslens.__file__).parent


def strict_load(text: str):
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def test_data_and_model_writers_are_strict(tiny, tmp_path):
    from biaslens.data.cache import CacheWriter
    from biaslens.models import build_model, save_checkpoint

    written = []
    # NaN in recorded provenance becomes null, in the cache manifest and a checkpoint
    with CacheWriter(tmp_path / "c", n=1, height=2, width=2, attribute_names=["a"],
                     source={"kind": "test", "ratio": float("nan")}) as w:
        w.write_images(0, np.zeros((1, 2, 2, 3), np.uint8))
        w.set_labels(attrs=np.ones((1, 1), bool))
    written.append(tmp_path / "c" / "manifest.json")
    ck = save_checkpoint(build_model("standard_cnn", n_filters=2), tmp_path / "ck",
                         extra={"val_loss": float("nan"), "best": float("inf")})
    written.append(ck / "config.json")
    assert strict_load(written[-1].read_text())["extra"] == {"val_loss": None, "best": None}
    # the data and models commands' --json files, and data info --json on stdout
    _run("data", "stats", tiny["cache"], "--target", "Male", "--n-boot", "20",
         "--json", tmp_path / "stats.json")
    _run("data", "synth", "--n", "8", "--size", "8", "--out", tmp_path / "s")
    _run("models", "list", "--json", tmp_path / "models.json")
    _run("models", "info", tiny["classifier"], "--json", tmp_path / "info.json")
    written += [tmp_path / "stats.json", tmp_path / "s" / "manifest.json",
                tmp_path / "models.json", tmp_path / "info.json"]
    for path in written:
        strict_load(path.read_text())
    info = strict_load(_run("data", "info", tmp_path / "c", "--json", "-"))
    assert info["source"]["ratio"] is None and info["verified"] == {"labels": True,
                                                                     "images": False}


# Files are written through biaslens.io (strict); none of these modules may bypass it.
OWN = ["data", "models", "names.py", "cli/main.py", "cli/data_ingest.py", "cli/data_stats.py",
       "cli/data_world.py", "cli/models_cmds.py", "audit/fairness.py", "audit/frame.py"]


@pytest.mark.parametrize("where", OWN)
def test_no_lenient_json_writer(where):
    files = [SRC / where] if where.endswith(".py") else sorted((SRC / where).glob("*.py"))
    for path in files:
        assert not re.search(r"json\.dump\(|allow_nan=True", path.read_text()), path
