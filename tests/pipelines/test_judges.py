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
    # the data's own shares of the true groups, from the training split, to compare with
    train = np.asarray(cache.subset("train").groups)[:, list(cache.group_names).index("skin_type")]
    assert doc["data_shares"] == pytest.approx([np.mean(train == 0), np.mean(train == 1)])


def test_plan_population_refuses_an_unknown_judge_before_loading(tmp_path):
    with pytest.raises(BiasLensError, match="not a judge name"):
        plan_population(judge="oracle", device="cpu")
    assert plan_population(judge="skin_tone", device="cpu").settings["judge"] == "skin_tone"


def test_judge_shares_without_a_calibration_set_gives_raw_shares_or_refuses(tmp_path):
    from biaslens.world.synth import synthesize_cache

    torch.manual_seed(0)
    gen = build_model("coursera_dcgan_generator", hidden_dim=4).eval()
    cache = synthesize_cache("celeba", 12, tmp_path / "cache", size=64, seed=0, val_frac=0,
                             test_frac=0)
    assert len(cache.subset("val")) == 0
    with pytest.raises(BiasLensError, match="no val rows"):
        judge_shares(gen, SkinToneJudge(), cache, n=20, n_boot=10)
    doc = judge_shares(gen, SkinToneJudge(), cache, n=20, n_boot=10, require_calibration=False)
    assert doc["shares"] == "raw" and doc["corrected"] is None and doc["n_generated"] == 20
    assert sum(doc["raw"]) == pytest.approx(1) and "no val rows" in doc["not_corrected"]
    assert sum(doc["data_shares"]) == pytest.approx(1)   # no train split: all the faces
    assert np.all(np.array(doc["raw_ci"][0]) <= np.array(doc["raw"]))


def test_judge_blocks_label_raw_and_corrected_and_check_names_first(cache):
    from biaslens.pipelines.judges import check_judges, judge_blocks
    from biaslens.report.judges import CORRECTED, DATA, RAW, judge_lines, judge_rows

    torch.manual_seed(0)
    gen = build_model("coursera_dcgan_generator", hidden_dim=4).eval()
    (block,) = judge_blocks(gen, cache, ["skin_tone"], n=30, n_boot=20)
    rows = judge_rows(block)
    assert [r["shares"] for r in rows] == [RAW] * 6 + [CORRECTED] * 2 + [DATA] * 2
    assert [r["category"] for r in rows[6:]] == ["lighter", "darker"] * 2
    lines = judge_lines(block)
    assert any(CORRECTED in line for line in lines)
    # the last line compares the corrected shares with the data's, in one sentence
    assert lines[-1].startswith("  Corrected for the skin_tone judge's errors, ")
    assert "training faces" in lines[-1] and lines[-2].startswith(f"  {DATA}: lighter ")
    assert check_judges("skin_tone, ") == ("skin_tone",)
    with pytest.raises(BiasLensError, match="--judge oracle"):
        check_judges(["skin_tone", "oracle"])
