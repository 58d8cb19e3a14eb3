"""Ratio sweep: options, up-front checks and the JSON of a result."""

from __future__ import annotations

import json

import pytest

from biaslens.errors import BiasLensError
from biaslens.experiments import (
    RatioSweepOptions,
    RatioSweepResult,
    RatioSweepRow,
    ratio_sweep,
)


def test_options_and_checks_refuse_before_any_work(tmp_path):
    with pytest.raises(BiasLensError, match="did you mean 'steps'"):
        ratio_sweep([0.3], classifier=None, out=tmp_path / "s", step=2)
    with pytest.raises(BiasLensError, match="unknown model 'diffusion'"):
        ratio_sweep([0.3], RatioSweepOptions(model="diffusion"), classifier=None,
                    out=tmp_path / "s")
    with pytest.raises(BiasLensError, match=r"shares must be in \(0, 1\)"):
        ratio_sweep([1.5], classifier=None, out=tmp_path / "s", model="gan")
    assert not (tmp_path / "s").exists()


def test_result_json_is_strict():
    row = RatioSweepRow(target_share=0.3, data_share=0.31, generated_share=float("nan"),
                        generated_ci=(float("nan"), 0.5), observed_share=0.2, run="r",
                        cache="c", train_status="completed")
    d = RatioSweepResult(model="vae", attribute="Male", corrected=True, rows=[row]).to_dict()
    assert d["rows"][0]["generated_ci"] == [None, 0.5]
    assert d["rows"][0]["generated_share"] is None and d["slope"] is None
    json.dumps(d, allow_nan=False)
