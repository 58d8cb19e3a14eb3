"""RunOptions: one object or keywords, the family's defaults, the same config either way."""

import dataclasses
import json

import pytest

from biaslens.errors import BiasLensError
from biaslens.train import RunOptions, train_dbvae, train_gan
from biaslens.train.options import resolve_run

from .conftest import make_data

TINY = dict(generator_config={"hidden_dim": 4}, discriminator_config={"ndf": 4})


def test_resolve_run_fills_family_defaults_and_keeps_given_values():
    run = resolve_run(RunOptions(out="r", batch_size=8), {"seed": 2}, "train_x",
                      steps=2000, batch_size=128, n_samples=64)
    assert (run.steps, run.batch_size, run.n_samples, run.seed) == (2000, 8, 64, 2)
    with pytest.raises(BiasLensError, match="did you mean 'steps'"):
        resolve_run(None, {"out": "r", "step": 3}, "train_x")
    with pytest.raises(BiasLensError, match="out="):
        resolve_run(None, {"steps": 3}, "train_x")


def test_options_object_and_keywords_record_the_same_config(tmp_path, data64):
    kw = dict(steps=2, batch_size=8, log_every=1, sample_every=0, checkpoint_every=0,
              device="cpu", seed=3, command="test")
    a = train_gan(data64, out=tmp_path / "a", **kw, **TINY)
    run = RunOptions(out=tmp_path / "b", **kw)
    b = train_gan(data64, run, **TINY)
    c = train_gan(data64, dataclasses.replace(run, out=tmp_path / "c", steps=1), steps=2, **TINY)
    cfg = [json.loads((tmp_path / n / "config.json").read_text()) for n in "abc"]
    for x in cfg:
        x.pop("created")
    assert cfg[0] == cfg[1] == cfg[2] and list(cfg[0]) == list(cfg[1])
    assert a.metrics == b.metrics == c.metrics


def test_dry_run_resolves_family_defaults(tmp_path):
    data = make_data(n=96, faces=True)          # 72 train rows
    r = train_dbvae(data, RunOptions(out=tmp_path / "d", dry_run=True), epochs=3)
    assert r.config["batch_size"] == 32 and r.config["steps"] == 3 * (72 // 32)
    assert r.config["n_samples"] == 16 and "compile" not in r.config
    assert not (tmp_path / "d").exists()
