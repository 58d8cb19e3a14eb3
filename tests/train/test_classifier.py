"""Classifier training (train/classifier.py) on tiny data."""

import json

import numpy as np

from biaslens.train import train_classifier


def test_classifier_learns_and_evaluates(tmp_path, data64):
    r = train_classifier(data64, out=tmp_path / "c", steps=30, batch_size=12, lr=1e-2,
                         arch="test_tiny_linear_classifier",
                         model_config={"image_size": 64}, pos_weight="auto", eval_every=0,
                         log_every=10, checkpoint_every=0, device="cpu")
    ev = json.loads((tmp_path / "c" / "eval.json").read_text())
    assert ev["n"] == 12 and set(ev["auc"]) == {"Male", "Smiling", "Young"}
    assert ev["auc"]["Male"] > 0.9            # "Male" rows were made darker
    assert r.evaluation["accuracy"] == ev["accuracy"]
    train = data64.attrs[data64.split == 0]
    p = train.mean(0)
    assert np.allclose(r.config["pos_weight_values"], np.clip((1 - p) / p, 0.01, 100))
    losses = [rec["loss"] for rec in map(json.loads, (tmp_path / "c" / "metrics.jsonl")
                                        .read_text().splitlines()) if "loss" in rec]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_best_checkpoint_is_kept_by_mean_auc_and_survives_resume(tmp_path, data64):
    from biaslens.models import load_checkpoint
    from biaslens.train import resume_run

    out = tmp_path / "c"
    common = dict(batch_size=12, lr=3e-2, arch="test_tiny_linear_classifier",
                  model_config={"image_size": 64}, eval_every=5, log_every=5,
                  checkpoint_every=5, device="cpu")
    train_classifier(data64, out=out, steps=40, should_stop=lambda: False, **common)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [rec for rec in lines if "eval" in rec]
    assert len(evals) == 8
    aucs = [rec["eval"]["mean_auc"] for rec in evals]
    assert len(set(aucs)) > 2 and aucs[-1] < max(aucs)       # the last is not the best here
    best_step = evals[int(np.argmax(aucs))]["step"]          # first of ties
    last = evals[-1]["eval"]["best"]
    assert last == {"metric": "mean_auc", "value": max(aucs), "step": best_step,
                    "split": "val", "checkpoint": "checkpoints/best/classifier"}
    for rec in evals:                                         # best so far, at every line
        upto = [a for r, a in zip(evals, aucs) if r["step"] <= rec["step"]]
        assert rec["eval"]["best"]["value"] == max(upto)
    model, info = load_checkpoint(out / "checkpoints" / "best" / "classifier")
    assert info.extra["step"] == best_step and info.extra["best"]["value"] == max(aucs)
    # resumed to more steps, the best of the first part stays unless beaten
    r = resume_run(out, data=data64, steps=45)
    assert r.evaluation["best"]["value"] >= max(aucs)
    assert r.evaluation["best"]["step"] in (best_step, 45)


def test_image_size_is_taken_from_the_data_and_a_mismatch_refused(tmp_path, data64):
    import pytest

    from biaslens.errors import DataError

    r = train_classifier(data64, out=tmp_path / "a", steps=1, batch_size=12,
                         arch="test_tiny_linear_classifier", device="cpu", eval_every=0,
                         checkpoint_every=0)
    assert r.status == "completed" and r.config["model_config"] == {}
    with pytest.raises(DataError, match="32×32 images but the data holds 64×64"):
        train_classifier(data64, out=tmp_path / "b", steps=1, batch_size=12,
                         arch="test_tiny_linear_classifier", model_config={"image_size": 32},
                         device="cpu")
