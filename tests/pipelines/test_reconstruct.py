"""The reconstruction use case: the audit on a split with the cache's group columns."""

from __future__ import annotations

import json


from biaslens.audit.reconstruct import reconstruct_audit
from biaslens.pipelines import inputs
from biaslens.pipelines.reconstruct import plan_reconstruct, reconstruct_on_cache


def test_on_cache_is_the_audit_on_the_split_with_group_columns(cvae_models):
    vae, clf, cache = cvae_models
    run = reconstruct_on_cache(vae, clf, cache, split="all", per_group=3, n_boot=10,
                               n_show=1)
    expected = reconstruct_audit(vae, clf, cache.images, cache.attrs, cache.attribute_names,
                                 per_group=3, n_boot=10, n_show=1,
                                 group_columns={"skin_type": cache.groups[:, 0]})
    assert json.dumps(run.result.to_dict()) == json.dumps(expected.to_dict())
    assert run.result.groups == ["Male", "skin_type"] and run.inputs == {}


def test_plan_without_a_cache_audits_all_rows_of_a_balanced_world(tiny, monkeypatch):
    monkeypatch.setattr(inputs, "DEFAULT_CACHE_N", 40)
    notes = []
    plan = plan_reconstruct(tiny["cvae"], tiny["classifier"], device="cpu", per_group=4,
                            n_boot=0, groups=["Male"])
    assert plan.settings["split"] == "test" and plan.settings["cache"] is None
    run = plan.run(note=notes.append)  # a CVAE can play the VAE role
    assert "synthesizing a 'balanced'-world cache (40 faces" in notes[0]
    assert run.inputs == {"cache": "synthesized (balanced world, all rows)"}
    assert [g["n"] for g in run.result.to_dict()["by_group"]] == [4, 4]
