"""Plain-language summary sentences, from hand-made result dicts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.report.summary import (
    dataset_summary,
    fairness_summary,
    population_summary,
    signed,
    steer_summary,
    summarize,
)


def _row(name, cov, half, sig=True):
    return {"name": name, "covariance": cov, "ci_low": cov - half, "ci_high": cov + half,
            "significant": sig}


def test_steer_summary_issue_example():
    steer = {"target": "Male", "ranked": [_row("Wearing_Lipstick", -2.9, 0.3),
                                          _row("Goatee", 1.9, 0.2), _row("Bald", 0.5, 0.1)]}
    assert steer_summary(steer) == ("Pushing toward Male most increases Goatee (+1.9 ±0.2) and "
                                    "decreases Wearing_Lipstick (\u22122.9 ±0.3).")


def test_steer_summary_ignores_non_significant_and_small_scales():
    steer = {"target": "-Male", "ranked": [_row("Goatee", -0.9, 0.8, sig=False),
                                           _row("Smiling", 0.04, 0.01)]}
    assert steer_summary(steer) == "Pushing toward -Male most increases Smiling (+0.040 ±0.010)."
    none = {"target": "Male", "ranked": [_row("Young", 0.01, 0.5, sig=False)]}
    assert "changes no other attribute significantly" in steer_summary(none)
    assert steer_summary({"target": "Male", "ranked": []}) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3),
                          st.floats(0, 1), st.booleans()), min_size=1, max_size=8))
def test_steer_summary_names_the_extremes(rows):
    ranked = [_row(f"A{i}", c, h, s) for i, (c, h, s) in enumerate(rows)]
    text = steer_summary({"target": "T", "ranked": ranked})
    sig = [r for r in ranked if r["significant"]]
    pos = [r for r in sig if r["covariance"] > 0]
    neg = [r for r in sig if r["covariance"] < 0]
    if pos:
        assert f"increases {max(pos, key=lambda r: r['covariance'])['name']} (" in text
    else:
        assert "increases" not in text
    if neg:
        assert f"decreases {min(neg, key=lambda r: r['covariance'])['name']} (" in text
    else:
        assert "decreases" not in text


def test_signed_uses_a_typographic_minus():
    assert signed(-2.94) == "\u22122.9" and signed(0.25, 2) == "+0.25"


def test_dataset_summary():
    stats = {"n": 1000, "target": "Male", "min_group": 30,
             "top_correlated": [{"name": "Goatee", "phi": 0.41, "ci_lo": 0.37, "ci_hi": 0.45,
                                 "p_given_target": 0.15, "p_given_not": 0.0}],
             "groups": [{"label": "Male=0, skin_type=1", "count": 20, "share": 0.02,
                         "small": True},
                        {"label": "Male=1, skin_type=0", "count": 980, "share": 0.98,
                         "small": False}]}
    lines = dataset_summary(stats)
    assert lines[0].startswith("In the data, Male goes most with Goatee (phi +0.41 [+0.37, "
                               "+0.45])")
    assert "15% vs 0%" in lines[0]
    assert lines[1] == ("The rarest group is Male=0, skin_type=1 with 20 of 1,000 rows (2.0%); "
                        "1 group(s) fall below 30 rows.")


def test_population_summary_states_uncertainty():
    sure = {"attributes": [
        {"name": "Male", "amplification": 0.1, "generated": 0.52, "data": 0.42,
         "difference": 0.1, "difference_ci": [0.05, 0.15]},
        {"name": "Young", "amplification": -0.02, "generated": 0.76, "data": 0.78,
         "difference": -0.02, "difference_ci": [-0.05, 0.01]}]}
    (line,) = population_summary(sure)
    assert "amplifies the data's bias in Male: 52%" in line and line.endswith("[+5.0, +15.0]).")
    unsure = {"attributes": [sure["attributes"][1]]}
    assert population_summary(unsure)[0].endswith("the CI includes no change.")
    assert "dampens" in population_summary(unsure)[0]


def test_fairness_summary_and_summarize():
    fair = {"feature_names": ["Male"], "groups": ["Male=0", "Male=1"],
            "by_group": {"true_positive_rate": [0.9, 0.6]},
            "disparities": {"between_groups": {"equalized_odds_difference":
                                               {"value": 0.3, "ci": [0.2, 0.4]}}}}
    (line,) = fairness_summary(fair, "Smiling")
    assert line == ("The Smiling classifier's equalized-odds difference across Male is 0.30 "
                    "(95% CI [0.20, 0.40]); true-positive rate ranges from 60% (Male=1) to "
                    "90% (Male=0).")
    report = {"dataset": None, "steer": [{"target": "Male", "ranked": [_row("Bald", 1.0, 0.1)]}],
              "population": None, "fairness": [{"target": "Smiling", "report": fair}]}
    assert summarize(report) == [steer_summary(report["steer"][0]), line]


def test_beyond_data_sentences():
    from biaslens.report.summary import beyond_data_summary, summarize

    steer = {"target": "-Male", "attribute_names": ["Male", "Bald", "Smiling", "Young", "A"],
             "ranked": [],
             "data_comparison": {"beyond_data": [False, True, True, True, True],
                                 "path_slope": [1.0, -0.5, 0.3, 0.2, 0.1],
                                 "data_slope": [1.0, -0.1, 0.2, 0.0, 0.05],
                                 "excess": [None, -0.4, 0.1, 0.2, 0.05],
                                 "n_reference": 50}}
    text = beyond_data_summary(steer)
    # largest excess first, at most three named, the target's sign kept in the sentence
    assert text.startswith("Beyond the training data, pushing toward -Male moves Bald")
    assert "per unit of Male logit" in text and "and 1 more" in text
    assert text.index("Young") < text.index("Smiling")
    steer["data_comparison"]["beyond_data"] = [False] * 5
    assert "consistent with the training data (50 reference images)" in beyond_data_summary(steer)
    assert beyond_data_summary({"target": "Male", "attribute_names": ["Male"]}) is None
    assert any(s.startswith("Every co-movement") for s in summarize({"steer": [steer]}))


def test_steer_summary_says_when_the_target_did_not_move():
    verdict = "the target Male barely moved along the path (largest mean logit change 1e-06)"
    steer = {"target": "Male", "practical_effect": {"verdict": verdict},
             "ranked": [{"name": "Smiling", "covariance": 1e-12, "significant": False}]}
    assert steer_summary(steer) == f"Pushing toward Male: {verdict}."
