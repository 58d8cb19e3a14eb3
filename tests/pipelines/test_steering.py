"""The steering use case shared by ``biaslens audit steer`` and the app."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.audit.steer import SteerOptions, steer_audit
from biaslens.data.reference import ReferenceSet
from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs, steering

torch.set_num_threads(1)

SMALL = {"n_samples": 4, "steps": 2, "n_show": 2, "device": "cpu"}


@pytest.fixture
def shipped(tiny, monkeypatch):
    """The tiny checkpoints stand in for the shipped defaults."""
    monkeypatch.setattr(inputs, "model_path",
                        lambda given, role: given if given is not None else tiny[role])
    return tiny


def test_auto_reference_is_the_world_for_shipped_models_with_a_bootstrap(shipped):
    assert steering.plan_steering(n_boot=50, **SMALL).reference == steering.SHIPPED_REFERENCE
    assert steering.plan_steering(n_boot=0, **SMALL).reference == "none"
    user = steering.plan_steering(generator=shipped["generator"], n_boot=50, **SMALL)
    assert user.reference == "none"
    given = steering.plan_steering(reference="world:independent", n_boot=0, **SMALL)
    assert given.reference == "world:independent"


def test_plan_resolves_paths_and_device_and_lists_the_settings(shipped):
    plan = steering.plan_steering("-Male", SteerOptions(steps=3), judge=shipped["classifier"],
                                  device="auto", n_boot=0)
    assert plan.generator == shipped["generator"] and plan.judge == shipped["classifier"]
    assert isinstance(plan.options.device, torch.device) and plan.options.steps == 3
    settings = plan.settings()
    assert list(settings) == [
        "target", "generator", "classifier", "judge", "reference", "reference_n",
        "n_samples", "steps", "step_size", "direction", "accumulate_grad", "disentangle",
        "top_k", "n_boot", "fdr", "test", "seed", "device", "n_show", "precision",
        "min_target_change", "min_correlation"]
    assert settings["judge"] == str(shipped["classifier"]) and settings["target"] == "-Male"
    assert settings["device"] == str(plan.options.device)


def test_plan_refuses_an_unknown_option_and_a_missing_checkpoint(tmp_path):
    with pytest.raises(BiasLensError, match="did you mean 'steps'"):
        steering.plan_steering(step=3)
    with pytest.raises(BiasLensError, match="generator checkpoint not found"):
        steering.plan_steering(generator=tmp_path / "nope")


def test_run_is_the_audit_with_the_inputs_recorded(shipped):
    plan = steering.plan_steering("Smiling", n_boot=20, seed=3, **SMALL)
    run = steering.run_steering(plan)
    gen = inputs.load_for_role(shipped["generator"], "generator")
    clf = inputs.load_for_role(shipped["classifier"], "classifier")
    direct = steer_audit(gen, clf, "Smiling", plan.options)
    np.testing.assert_array_equal(run.result.covariance, direct.covariance)
    data = run.to_dict()
    assert data["inputs"] == {"generator": str(shipped["generator"]),
                              "classifier": str(shipped["classifier"]), "judge": None,
                              "reference": "none"}
    assert {k: v for k, v in data.items() if k not in ("inputs", "timing")} == {
        k: v for k, v in direct.to_dict().items() if k != "timing"}


def test_run_with_a_reference_and_progress(shipped):
    plan = steering.plan_steering(n_boot=50, reference_n=12, **SMALL)
    seen = []
    run = steering.run_steering(plan, progress=lambda k, total: seen.append((k, total)))
    assert seen == [(1, 2), (2, 2)]
    assert run.result.data is not None and run.result.data.n_reference == 12
    assert run.to_dict()["inputs"]["reference"] == steering.SHIPPED_REFERENCE


def test_steer_models_takes_a_reference_set(tiny):
    gen = inputs.load_for_role(tiny["generator"], "generator")
    clf = inputs.load_for_role(tiny["classifier"], "classifier")
    ref = steering.reference_for("world:celeba", clf, n=12, seed=1)
    assert isinstance(ref, ReferenceSet) and ref.images.shape == (12, 64, 64, 3)
    assert steering.reference_for("none", clf) is None
    res = steering.steer_models(gen, clf, "Male", n_boot=50, reference=ref, **SMALL)
    assert res.data is not None and res.data.reference == ref.description
    assert steering.steer_models(gen, clf, "Male", n_boot=0, **SMALL).data is None
