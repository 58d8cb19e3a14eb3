import numpy as np
import pytest
import torch

from biaslens.errors import BiasLensError
from biaslens.models import build_model
from biaslens.models.judges import SkinToneJudge
from biaslens.pipelines.judges import judge_shares
from biaslens.pipelines.population import plan_population


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from biaslens.world import World
    from biaslens.world.synth import synthesize_cache

    world = World.from_json({"base": "celeba", "group_shares": {"skin_type": 0.5}})
    return synthesize_cache(world, 80, tmp_path_factory.mktemp("jc") / "cache", size=64,
                            seed=0)


def test_judge_shares_says_who_labelled_what(cache):
    torch.manual_seed(0)
    gen = build_model("coursera_dcgan_generator", hidden_dim=4).eval()
    doc = judge_shares(gen, SkinToneJudge(), cache, n=50, n_boot=30, seed=1)
    assert doc["judge"] == "skin_tone" and doc["shares"] == "corrected"
    assert doc["group_names"] == ["lighter", "darker"] and len(doc["judged_names"]) == 6
    assert doc["n_generated"] == 50 and doc["n_calibration"] == len(cache.subset("val"))
    assert "skin_type" in doc["labelled"] and sum(doc["corrected"]) == pytest.approx(1)
    assert np.all(np.array(doc["corrected_ci"][0]) <= np.array(doc["corrected"]) + 1e-9)


def test_plan_population_refuses_an_unknown_judge_before_loading(tmp_path):
    with pytest.raises(BiasLensError, match="not a judge name"):
        plan_population(judge="oracle", device="cpu")
    assert plan_population(judge="skin_tone", device="cpu").settings["judge"] == "skin_tone"
