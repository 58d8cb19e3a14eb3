"""Plain-language findings, from hand-made result dicts: units, [lo, hi] intervals,
significance, group words, the rate that differs, and the ranking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.report.summary import (
    beyond_data_findings,
    dataset_findings,
    fairness_findings,
    judge_findings,
    population_findings,
    ranked_findings,
    signed,
    steer_findings,
    summarize,
)
from biaslens.report.words import anchor

M = "\u2212"


def _row(name, cov, half, sig=True, r=0.5, q=0.01):
    return {"name": name, "covariance": cov, "ci_low": cov - half, "ci_high": cov + half,
            "correlation": r if cov > 0 else -r, "q_value": q, "significant": sig}


def test_steer_findings_have_units_intervals_and_anchors():
    steer = {"target": "Male", "ranked": [_row("Wearing_Lipstick", -2.9, 0.3, q=1e-9),
                                          _row("Goatee", 1.9, 0.2), _row("Bald", 0.5, 0.1)]}
    down, up = steer_findings(steer)
    assert down["text"] == (f"Steering toward Male lowers Wearing_Lipstick most: covariance "
                            f"{M}2.9 logit² [{M}3.2, {M}2.6], r {M}0.50, q <0.001.")
    assert up["text"].startswith("Steering toward Male raises Goatee most: covariance +1.9 "
                                 "logit² [+1.7, +2.1]")
    assert "±" not in down["text"] + up["text"]
    assert down["anchor"] == anchor("steer", "Male", "Wearing_Lipstick")
    assert down["significant"] and down["section"] == "steering"


def test_steer_findings_say_when_nothing_is_significant():
    none = {"target": "Male", "ranked": [_row("Young", 0.01, 0.5, sig=False, q=0.7)]}
    (f,) = steer_findings(none)
    assert "changes no other attribute significantly" in f["text"] and "q 0.700" in f["text"]
    assert not f["significant"] and "excludes 0" not in f["text"]
    # an interval that excludes 0 with q above the FDR is explained, not left as a puzzle
    odd = {"target": "Male", "attribute_names": ["Male", "Young", "Bald"],
           "ranked": [_row("Young", 0.8, 0.5, sig=False, q=0.11)]}
    (g,) = steer_findings(odd)
    assert "[+0.30, +1.30], q 0.110): its 95% interval excludes 0, but not after the " \
           "Benjamini–Hochberg correction for testing 2 attributes at once." in g["text"]
    assert steer_findings({"target": "Male", "ranked": []}) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3),
                          st.floats(0, 1), st.booleans()), min_size=1, max_size=8))
def test_steer_findings_name_the_extremes(rows):
    ranked = [_row(f"A{i}", c, h, s) for i, (c, h, s) in enumerate(rows)]
    text = " ".join(f["text"] for f in steer_findings({"target": "T", "ranked": ranked}))
    sig = [r for r in ranked if r["significant"]]
    pos = [r for r in sig if r["covariance"] > 0]
    neg = [r for r in sig if r["covariance"] < 0]
    if pos:
        assert f"raises {max(pos, key=lambda r: r['covariance'])['name']} most" in text
    else:
        assert "raises" not in text
    if neg:
        assert f"lowers {min(neg, key=lambda r: r['covariance'])['name']} most" in text
    else:
        assert "lowers" not in text


def test_signed_uses_a_typographic_minus():
    assert signed(-2.94) == f"{M}2.9" and signed(0.25, 2) == "+0.25"


def test_dataset_findings_decode_groups():
    stats = {"n": 1000, "target": "Male", "min_group": 30,
             "top_correlated": [{"name": "Goatee", "phi": 0.41, "ci_lo": 0.37, "ci_hi": 0.45,
                                 "p_given_target": 0.15, "p_given_not": 0.0}],
             "groups": [{"label": "Male=0, skin_type=1", "count": 20, "share": 0.02,
                         "small": True},
                        {"label": "Male=1, skin_type=0", "count": 980, "share": 0.98,
                         "small": False}]}
    phi, rare = dataset_findings(stats)
    assert "phi (correlation of the two labels) +0.41 [+0.37, +0.45]" in phi["text"]
    assert "15% of Male rows vs 0% of the others" in phi["text"]
    assert rare["text"].startswith("The rarest group is Female, darker skin: 20 of 1,000 rows "
                                   "(2.0%; an even split would give 50.0%)")
    assert "Male=0" not in rare["text"] and "fewer than 30 rows" in rare["text"]
    assert rare["anchor"] == anchor("dataset", "group", "Male=0, skin_type=1")


def test_population_findings_state_labeller_and_uncertainty():
    sure = {"corrected": False, "attributes": [
        {"name": "Male", "amplification": 0.1, "generated": 0.52, "data": 0.42,
         "difference": 0.1, "difference_ci": [0.05, 0.15]},
        {"name": "Young", "amplification": -0.02, "generated": 0.76, "data": 0.78,
         "difference": -0.02, "difference_ci": [-0.05, 0.01]}]}
    (f,) = population_findings(sure)
    assert "amplifies the data's imbalance in Male: 52.0% of generated faces" in f["text"]
    assert "labelled by the classifier, uncorrected" in f["text"]
    assert f["text"].endswith("percentage points [+5.0, +15.0].") and f["significant"]
    (u,) = population_findings({"attributes": [sure["attributes"][1]], "corrected": True})
    assert u["text"].endswith("the interval includes no change.") and not u["significant"]
    assert "dampens" in u["text"] and "corrected for its error rates" in u["text"]


def test_population_finding_is_the_largest_magnitude():
    rows = [{"name": n, "amplification": a, "generated": 0.5, "data": 0.5, "difference": a,
             "difference_ci": [a - 0.01, a + 0.01]} for n, a in
            (("A", 0.05), ("B", -0.3), ("C", 0.2))]
    assert population_findings({"attributes": rows})[0]["anchor"] == anchor("population", "B")


def test_fairness_names_the_rate_that_differs_with_enough_decimals():
    # EO difference from the FPR; TPR equal to the shown precision must not be the one named
    fair = {"feature_names": ["Male"], "groups": ["Male=0", "Male=1"],
            "by_group": {"true_positive_rate": [1.0, 0.9996],
                         "false_positive_rate": [0.01, 0.14]},
            "disparities": {"between_groups": {"equalized_odds_difference":
                                               {"value": 0.13, "ci": [0.05, 0.2]}}}}
    (f,) = fairness_findings(fair, "Smiling")
    assert f["text"] == ("The Smiling classifier's equalized-odds difference across Male is "
                         "0.130 [0.050, 0.200] (0 = equal error rates); it comes from the "
                         "false-positive rate, 1% for Female vs 14% for Male.")
    fair["by_group"] = {"true_positive_rate": [0.9996, 0.9991], "false_positive_rate": [0, 0]}
    (g,) = fairness_findings(fair, "Smiling")
    assert "true-positive rate, 99.91% for Male vs 99.96% for Female" in g["text"]
    assert "too wide to tell" not in g["text"]
    fair["disparities"]["between_groups"]["equalized_odds_difference"]["ci"] = [0.0, 1.0]
    (h,) = fairness_findings(fair, "Smiling")
    assert h["text"].endswith("too wide to tell (too few positives or negatives in a group).")
    # a wide interval that excludes 0 is not a finding either; the smallest group is named
    fair["disparities"]["between_groups"]["equalized_odds_difference"]["ci"] = [0.1, 1.0]
    fair["counts"] = [1200, 23]
    (w,) = fairness_findings(fair, "Smiling")
    assert not w["significant"]
    assert w["text"].endswith("(too few positives or negatives in a group: Male has 23 test "
                              "faces).")


def test_beyond_data_findings_say_added_weakened_reversed():
    steer = {"target": "-Male", "attribute_names": ["Male", "Bald", "Smiling", "Young", "A"],
             "ranked": [],
             "data_comparison": {"beyond_data": [False, True, True, True, True],
                                 "path_slope": [1.0, -0.5, 0.1, 0.2, 0.1],
                                 "data_slope": [1.0, -0.1, 0.3, -0.1, 0.05],
                                 "excess": [None, -0.4, -0.2, 0.3, 0.05],
                                 "n_reference": 50}}
    found = beyond_data_findings(steer)
    assert [f["anchor"] for f in found] == [anchor("steer", "-Male", a)
                                            for a in ("Bald", "Young", "Smiling")]
    bald, young, smiling = (f["text"] for f in found)
    assert "amplifies (steeper than in the data) the link with Bald" in bald
    assert "per unit of Male logit" in bald
    assert "reverses (opposite sign to the data) the link with Young" in young
    assert "weakens (flatter than in the data) the link with Smiling" in smiling
    steer["data_comparison"]["beyond_data"] = [False] * 5
    (same,) = beyond_data_findings(steer)
    assert "as strong as in the training data (50 reference images)" in same["text"]
    assert beyond_data_findings({"target": "Male", "attribute_names": ["Male"]}) == []


def test_summarize_ranks_significant_first_then_by_effect():
    fair = {"feature_names": ["Male"], "groups": ["Male=0", "Male=1"],
            "by_group": {"true_positive_rate": [0.9, 0.6]},
            "disparities": {"between_groups": {"equalized_odds_difference":
                                               {"value": 0.3, "ci": [0.2, 0.4]}}}}
    weak = {"target": "Male", "ranked": [_row("Bald", 1.0, 0.1, r=0.1)]}
    strong = {"target": "Smiling", "ranked": [_row("Young", -1.0, 0.1, r=0.9)]}
    ns = {"target": "Young", "ranked": [_row("Bald", 1.0, 2.0, sig=False, r=0.99, q=0.4)]}
    report = {"steer": [weak, ns, strong], "fairness": [{"target": "Smiling", "report": fair}]}
    ranked = ranked_findings(report)
    assert [f["effect"] for f in ranked[:3]] == [0.9, 0.3, 0.1]
    assert not ranked[-1]["significant"]
    assert summarize(report) == [f["text"] for f in ranked]


def test_steer_summary_says_when_the_target_did_not_move():
    verdict = "the target Male barely moved along the path (largest mean logit change 1e-06)"
    steer = {"target": "Male", "practical_effect": {"verdict": verdict},
             "ranked": [{"name": "Smiling", "covariance": 1e-12, "significant": False}]}
    (finding,) = steer_findings(steer)
    assert finding["text"] == f"Pushing toward Male: {verdict}." and not finding["significant"]


def _judge(corrected=True, lo=(0.70, 0.10), hi=(0.80, 0.20), data=(0.6, 0.4)):
    block = {"judge": "skin_tone", "group_names": ["lighter", "darker"],
             "judged_names": ["lighter", "darker"], "raw": [0.8, 0.2],
             "raw_ci": [[0.76, 0.16], [0.84, 0.24]], "data_shares": list(data)}
    if corrected:
        block.update(corrected=[0.75, 0.15], corrected_ci=[list(lo), list(hi)])
    else:
        block.update(corrected=None, corrected_ci=None)
    return block


def test_judge_findings_compare_the_corrected_share_with_the_data():
    (f,) = judge_findings(_judge())
    assert f["text"] == ("Corrected for the skin_tone judge's errors, 15.0% [10.0%, 20.0%] of "
                         "generated faces are darker, vs 40.0% of training faces.")
    assert f["significant"] and f["anchor"] == anchor("judge", "skin_tone", "corrected",
                                                      "darker")
    assert f["effect"] == pytest.approx(0.25)
    # an interval that includes the data's share, or one too wide, is not a finding
    (f,) = judge_findings(_judge(lo=(0.3, 0.1), hi=(0.7, 0.45)))
    assert not f["significant"] and f["text"].endswith("the interval includes the data's share.")
    (f,) = judge_findings(_judge(lo=(0.2, 0.0), hi=(0.9, 0.8)))
    assert not f["significant"] and "[" not in f["text"] and "too wide to tell" in f["text"]


def test_judge_findings_raw_only_or_without_data():
    (f,) = judge_findings(_judge(corrected=False))
    assert not f["significant"] and "(its raw reading)" in f["text"]
    assert "80.0%" not in f["text"] and "reads 20.0% [16.0%, 24.0%]" in f["text"]
    assert judge_findings({**_judge(), "data_shares": None}) == []
    # raw categories that are not the data's groups (six ITA classes): nothing to compare
    six = {**_judge(corrected=False), "judged_names": list("abcdef")}
    assert judge_findings(six) == []
    # a report's findings include the judges', ranked with the rest
    assert any(f["section"] == "population" and "judge" in f["text"]
               for f in ranked_findings({"judges": [_judge()]}))
    # the judge's table carries the data's shares the sentence compares with
    from biaslens.report.judges import DATA, judge_rows

    data_rows = [r for r in judge_rows({**_judge(), "level": 0.95}) if r["shares"] == DATA]
    assert [(r["category"], r["share"]) for r in data_rows] == [("lighter", 0.6),
                                                                ("darker", 0.4)]


def test_an_added_link_against_a_weak_data_slope_of_the_other_sign_says_so():
    steer = {"target": "Male", "attribute_names": ["Male", "Brown_Hair"],
             "data_comparison": {"beyond_data": [False, True], "path_slope": [1.0, 0.45],
                                 "data_slope": [1.0, -0.08], "excess": [None, 0.53],
                                 "q_values": [None, 0.0031], "n_reference": 1600}}
    (f,) = beyond_data_findings(steer)
    assert f["text"].startswith("Steering toward Male amplifies (steeper than in the data, "
                                "where the link is weak and the other way) the link with "
                                "Brown_Hair: +0.45")
    assert f["text"].endswith("vs −0.08 across 1,600 training images (the excess over the "
                              "data: q 0.003).")


def test_a_gap_made_by_a_group_without_positives_is_no_finding():
    fair = {"feature_names": ["Male"], "groups": ["Male=0", "Male=1"], "counts": [23, 40],
            "positives": [0, 12], "negatives": [23, 28],
            "by_group": {"true_positive_rate": [0.0, 1.0], "false_positive_rate": [0.0, 0.1]},
            "disparities": {"between_groups": {"equalized_odds_difference":
                                               {"value": 1.0, "ci": [1.0, 1.0]}}}}
    (f,) = fairness_findings(fair, "Eyeglasses")
    assert not f["significant"]
    assert ("true-positive rate, 0% for Female vs 100% for Male, but Female has no positive "
            "test faces, so that rate is undefined there (0 by convention): no evidence of a "
            "gap.") in f["text"]
