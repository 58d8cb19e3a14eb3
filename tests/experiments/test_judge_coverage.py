import numpy as np
import pytest

from biaslens.errors import BiasLensError
from biaslens.experiments.judge_coverage import judge_coverage


def test_small_study_runs_and_corrected_beats_raw_on_label_noise():
    r = judge_coverage(judges=["label_noise", "skin_tone"], n_pool=400, n_rep=12, n_boot=100,
                       n_calibration=300, n_generated=600, seed=1)
    rows = {(x.judge, x.method): x for x in r.rows}
    assert set(rows) == {("label_noise", "raw"), ("label_noise", "corrected"),
                         ("skin_tone", "corrected")}
    raw, cor = rows[("label_noise", "raw")], rows[("label_noise", "corrected")]
    assert cor.mean_abs_error < raw.mean_abs_error      # 30 % flips bias the raw shares
    assert cor.coverage > raw.coverage and cor.coverage >= 0.8
    assert len(cor.groups) == 4 and rows[("skin_tone", "corrected")].k_judged == 6
    d = r.to_dict()
    assert d["experiment"] == "judge-coverage" and d["settings"]["n_rep"] == 12
    assert np.isnan(rows[("skin_tone", "corrected")].judge_accuracy)


def test_bad_options_are_refused():
    with pytest.raises(BiasLensError, match="unknown judge"):
        judge_coverage(judges=["oracle"])
    with pytest.raises(BiasLensError, match="need a classifier"):
        judge_coverage(judges=["classifier"])
    with pytest.raises(BiasLensError, match=r"\(0, 1\)"):
        judge_coverage(judges=["label_noise"], male_share=1.0)
