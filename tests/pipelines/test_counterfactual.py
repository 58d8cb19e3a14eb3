"""The counterfactual use case: the same job for loaded models (app) and for paths (CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biaslens.audit.counterfactual import counterfactual_audit
from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs
from biaslens.pipelines.counterfactual import (
    counterfactual_on_cache,
    plan_counterfactual,
)


def _same(a, b):
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    np.testing.assert_array_equal(a.pairs, b.pairs)


def test_the_apps_rule_matches_the_apps_former_wiring(cvae_models):
    cvae, clf, cache = cvae_models
    run = counterfactual_on_cache(cvae, clf, cache, split=None, condition="Male",
                                  groups=["Male"], n=8, n_boot=20, seed=3, n_show=0)
    # formerly: the app drew the n rows of the test split itself, then audited all of them
    view = cache.subset("test")
    rows = np.sort(np.random.default_rng(3).permutation(len(view))[:8])
    _same(run.result, counterfactual_audit(cvae, clf, np.asarray(view.images[rows]),
                                           np.asarray(view.attrs)[rows],
                                           list(cache.attribute_names), condition="Male",
                                           groups=["Male"], n=8, n_boot=20, seed=3,
                                           n_show=0))


def test_on_cache_offers_the_cache_group_columns(cvae_models):
    cvae, clf, cache = cvae_models
    run = counterfactual_on_cache(cvae, clf, cache, split="all", groups=["Male", "skin_type"],
                                  n=12, n_boot=0, n_show=2)
    assert run.result.groups == ["Male", "skin_type"] and run.result.pairs.shape[:2] == (2, 5)


def test_plan_checks_the_condition_before_any_data(tiny, monkeypatch):
    monkeypatch.setattr(inputs, "cache_or_default", None)  # must not be reached
    plan = plan_counterfactual(tiny["cvae"], tiny["classifier"], device="cpu",
                               condition="Smiling")
    assert list(plan.settings) == ["cvae", "classifier", "cache", "condition", "groups", "n",
                                   "scale", "split", "n_boot", "seed", "precision",
                                   "device"]
    with pytest.raises(BiasLensError, match="--condition 'Smiling': .* conditioned on Male"):
        plan.run()


def test_plan_runs_on_a_cache(tiny, cvae_models):
    cvae, clf, cache = cvae_models
    plan = plan_counterfactual(tiny["cvae"], tiny["classifier"], tiny["cache"], device="cpu",
                               n=6, n_boot=0, split="all")
    run = plan.run()
    assert run.inputs == {"cache": str(cache.path)}
    _same(run.result, counterfactual_on_cache(cvae, clf, cache, split="all", n=6,
                                              n_boot=0).result)
