"""Mitigation runs: the DB-VAE run folder, latent-augmentation inputs and options."""

from __future__ import annotations

import json

import pytest
import torch

from biaslens.errors import BiasLensError
from biaslens.mitigate.dbvae_experiment import GROUPS, DBVAEConfig
from biaslens.pipelines.mitigation import (
    dbvae_run,
    latent_aug_experiment,
    latent_aug_run,
)


def test_tiny_experiment_end_to_end(tmp_path):
    torch.set_num_threads(1)
    cfg = DBVAEConfig(epochs=1, n_faces=64, n_nonfaces=64, n_per_group=6, latent_dim=4,
                      n_filters=2, n_boot=50, device="cpu")
    res = dbvae_run(None, out=tmp_path, config=cfg)
    d = res.to_dict()
    ev = d["evaluation"]
    assert set(ev["detectors"]) == {"standard_cnn", "dbvae"}
    for det in ev["detectors"].values():
        assert set(det["by_group"]) == set(GROUPS)
        assert all(b["n"] == 6 for b in det["by_group"].values())
    assert "dbvae - standard_cnn" in ev["gap_change"]
    for name in ("standard_cnn", "dbvae"):
        assert (tmp_path / "checkpoints" / name / "model.safetensors").exists()
    assert d["data"]["n_train_faces"] + d["data"]["n_train_nonfaces"] == d["data"]["n_train"]
    # face/non-face accuracy on the cache's test split, and where resampling puts its mass
    held = d["data"]["heldout"]
    assert held["n"] > 0 and 0 <= held["dbvae"]["accuracy"] <= 1
    lo, hi = held["dbvae - standard_cnn"]["ci"]
    assert lo <= held["dbvae - standard_cnn"]["accuracy_diff"] <= hi
    rs = d["data"]["resampling"]
    assert sum(rs[g]["share"] for g in GROUPS) == pytest.approx(1.0)
    assert sum(rs[g]["sampling_mass"] for g in GROUPS) == pytest.approx(1.0)
    # the run folder: config first, the synthesized default world, the evaluation
    assert json.loads((tmp_path / "config.json").read_text()) == {"cache": None,
                                                                  **cfg.to_dict()}
    assert (tmp_path / "data" / "manifest.json").is_file()
    saved = json.loads((tmp_path / "dbvae_eval.json").read_text())
    assert set(saved["evaluation"]["detectors"]) == {"standard_cnn", "dbvae"}


def test_unknown_options_are_refused_before_any_work(tmp_path):
    with pytest.raises(BiasLensError, match="did you mean 'epochs'"):
        dbvae_run(None, out=tmp_path / "d", epoch=1)
    assert not (tmp_path / "d").exists()
    with pytest.raises(BiasLensError, match="did you mean 'n_fit'"):
        latent_aug_run(tmp_path / "none", target="Smiling", out=tmp_path, n_fitt=10)


def test_latent_aug_inputs(tmp_path, monkeypatch):
    from biaslens.world.synth import synthesize_cache

    with pytest.raises(BiasLensError, match="--toy"):
        latent_aug_experiment(None, targets=["Smiling"], out=tmp_path)
    small = synthesize_cache("celeba", 30, tmp_path / "small", size=64, seed=0,
                             test_frac=0.3)
    with pytest.raises(BiasLensError, match="test rows"):
        latent_aug_run(small.path, target="Smiling", out=tmp_path / "r")
    monkeypatch.setenv("BIASLENS_MODELS_DIR", str(tmp_path / "no-models"))
    cache = synthesize_cache("celeba", 60, tmp_path / "c", size=64, seed=0, test_frac=0.4)
    with pytest.raises(BiasLensError, match="--generator"):
        latent_aug_run(cache.path, target="Smiling", out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("field, value", [("n_faces", -5), ("epochs", 0), ("threshold", 1.0)])
def test_dbvae_run_refuses_a_bad_option_before_writing_config(tmp_path, field, value):
    with pytest.raises(BiasLensError, match=f"DBVAEConfig: {field} must be"):
        dbvae_run(None, out=tmp_path / "run", **{field: value})
    assert not (tmp_path / "run").exists()


def test_latent_aug_experiment_repeats_every_target_per_seed(tmp_path, monkeypatch):
    """--seeds: one run per (seed, target) under OUT/seed<S>/<target>, the seed handed to
    the run, recorded in each row, and the verdicts counted per target."""
    import dataclasses

    import biaslens.pipelines.mitigation as pm
    from biaslens.mitigate.latent_aug import LatentAugResult, category_of

    calls = []

    def fake_run(td, gen, o, *, target, out, **kw):
        calls.append((o.seed, target, out))
        c = {"difference": o.seed - 1.0, "ci": [o.seed - 1.5, o.seed - 0.5],
             "verdict": "reduced" if o.seed == 0 else "no significant change"}
        m = {k: 1.0 for k in ("ap", "deo", "ba", "kl", "ap_pm", "deo_pm", "ba_pm", "kl_pm")}
        return LatentAugResult(target=target, protected=["Male"], category=category_of(target),
                               baseline=m, augmented=m, change={"deo": c, "ba": c, "ap": c},
                               augmentation={}, pairs={"premise": {"hyperplane_auc": [0.9],
                                                                   "holds": True}},
                               settings=dataclasses.asdict(o))

    monkeypatch.setattr(pm, "run_latent_aug", fake_run)
    monkeypatch.setattr(pm, "_toy_setup", lambda *a: (None, None, None))
    doc = latent_aug_experiment(None, targets=["Smiling", "Young"], toy=True, out=tmp_path,
                                seeds=[0, 2])
    assert [(s, t) for s, t, _ in calls] == [(0, "Smiling"), (0, "Young"), (2, "Smiling"),
                                            (2, "Young")]
    assert calls[-1][2] == tmp_path / "seed2" / "Young"
    assert (tmp_path / "seed0" / "Smiling" / "latent_aug.json").is_file()
    assert doc["seeds"] == [0, 2] and [r["seed"] for r in doc["targets"]] == [0, 0, 2, 2]
    assert doc["by_target"]["Young"]["deo"]["reduced"] == 1
    assert doc["by_target"]["Young"]["deo"]["no significant change"] == 1
    assert [r["seed"] for r in doc["by_target"]["Young"]["deo"]["per_seed"]] == [0, 2]
    assert doc["summary"]["all"]["n_runs"] == 4 and doc["summary"]["all"]["n_targets"] == 2
    saved = json.loads((tmp_path / "experiment.json").read_text())
    assert saved["by_target"] == json.loads(json.dumps(doc["by_target"]))
    with pytest.raises(BiasLensError, match="distinct"):
        latent_aug_experiment(None, targets=["Smiling"], toy=True, out=tmp_path / "x",
                              seeds=[1, 1])
    with pytest.raises(BiasLensError, match="--n-real 64 gives 51 training faces .* batch "
                                             "size 64: give --n-real >= 80"):
        latent_aug_experiment(None, targets=["Smiling"], toy=True, out=tmp_path / "x",
                              n_real=64)
    assert not (tmp_path / "x").exists()
