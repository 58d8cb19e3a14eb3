"""Words of a judge block: which judge labelled what, and when a correction says nothing."""

from biaslens.report.judges import CORRECTED, RAW, judge_rows, judge_verdict


def _block(lows, highs, n_cal=20):
    return {"judge": "gender", "labelled": "100 generated faces and 20 val faces",
            "judged_names": ["Female", "Male"], "group_names": ["Female", "Male"],
            "raw": [0.58, 0.42], "raw_ci": [[0.48, 0.33], [0.67, 0.52]], "level": 0.95,
            "corrected": [0.28, 0.72], "corrected_ci": [lows, highs],
            "n_calibration": n_cal}


def test_a_corrected_interval_too_wide_to_tell_is_said_so():
    wide = judge_verdict(_block([0.0, 0.0], [1.0, 1.0]))
    assert "too wide to tell anything (up to 1.00 wide): 20 calibration faces" in wide
    narrow = judge_verdict(_block([0.2, 0.6], [0.4, 0.8], n_cal=900))
    assert "too wide" not in narrow and narrow.startswith("The gender judge labelled")
    rows = judge_rows(_block([0.2, 0.6], [0.4, 0.8]))
    assert [r["shares"] for r in rows] == [RAW, RAW, CORRECTED, CORRECTED]
