"""The population use case: the same job for loaded models (app) and for paths (CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from biaslens.audit.population import (
    PopulationOptions,
    classifier_rates,
    population_audit,
)
from biaslens.data.reference import sample_images, sample_training_images
from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs
from biaslens.pipelines.population import plan_population, population_on_cache


@pytest.fixture(scope="module")
def models(tiny):
    torch.set_num_threads(1)
    return (inputs.load_for_role(tiny["generator"], "generator"),
            inputs.load_for_role(tiny["classifier"], "classifier"),
            inputs.open_cache(tiny["cache"]))


def _same(a, b):
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def test_on_cache_is_the_audit_on_the_split_with_val_rates(models):
    gen, clf, cache = models
    run = population_on_cache(gen, clf, cache, n=40, n_boot=60, seed=2, groups=["Male"])
    train, val = cache.subset("train"), cache.subset("val")
    rates = classifier_rates(clf, val.images, val.attrs, cache.attribute_names)
    ref = sample_images(train.images, 2000, 3)
    _same(run.result, population_audit(gen, clf, train.attrs, cache.attribute_names, n=40,
                                       n_boot=60, seed=2, classifier_rates=rates,
                                       reference_images=ref,
                                       reference_name=f"the train split of {cache.path}"))
    assert run.inputs == {"classifier_rates": rates.to_dict()}


def test_the_apps_rule_matches_the_apps_former_wiring(models):
    gen, clf, cache = models
    opts = PopulationOptions(n=32, groups=("Male",), seed=1, n_boot=60, batch_size=16)
    run = population_on_cache(gen, clf, cache, opts, split=None, correct=False,
                              reference_n=100, reference_seed=1, reference_name="app")
    _same(run.result, population_audit(gen, clf, cache.subset("train").attrs,
                                       cache.attribute_names, opts,
                                       reference_images=sample_training_images(cache, 100, 1),
                                       reference_name="app"))
    assert run.inputs == {"classifier_rates": None}


class _Rows:
    """A cache reduced to the rows of ``view`` (all of them in every split)."""

    def __init__(self, cache, view):
        self.cache, self.view = cache, view
        self.path, self.attribute_names = cache.path, cache.attribute_names

    def subset(self, split=None):
        return self.view


def test_auto_associations_are_skipped_where_they_cannot_run(models):
    gen, clf, cache = models
    few = population_on_cache(gen, clf, cache, correct=False, n=20, n_boot=10)
    assert few.result.associations is None
    small = cache.subset(None, indices=np.arange(8))  # fewer than 10 faces in the split
    tiny_split = population_on_cache(gen, clf, _Rows(cache, small), split="all",
                                     correct=False, n=20, n_boot=60)
    assert tiny_split.result.associations is None
    with pytest.raises(BiasLensError, match="needs --n-boot >= 50"):
        population_on_cache(gen, clf, cache, correct=False, associations="Male", n=20,
                            n_boot=10)
    with pytest.raises(BiasLensError, match="--reference-n must be >= 10"):
        population_on_cache(gen, clf, cache, correct=False, reference_n=5, n=20, n_boot=60)


def test_plan_records_the_clis_settings_and_runs_the_same_job(tiny, models):
    gen, clf, cache = models
    plan = plan_population(tiny["generator"], tiny["classifier"], tiny["cache"],
                           device="cpu", n=30, n_boot=0, groups=["Male"], correct=False)
    assert list(plan.settings) == ["generator", "classifier", "cache", "n", "batch_size",
                                   "groups", "split", "correct", "n_boot", "seed",
                                   "associations", "reference_n", "precision", "device"]
    run = plan.run()
    assert run.inputs == {"cache": str(cache.path), "classifier_rates": None}
    _same(run.result, population_on_cache(gen, clf, cache, n=30, n_boot=0, groups=["Male"],
                                          correct=False).result)
    with pytest.raises(BiasLensError, match="did you mean 'n_boot'"):
        plan_population(tiny["generator"], tiny["classifier"], n_bot=3)
