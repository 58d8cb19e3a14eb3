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
