"""Scoring a steering audit against the synthetic world's truth."""

from types import SimpleNamespace

import numpy as np
import pytest

from biaslens.audit.truth import score_steering


def _fake(names, corr, sig, target="Male"):
    corr = np.asarray(corr, float)
    return SimpleNamespace(target=target, target_index=names.index(target.lstrip("-")),
                           attribute_names=list(names), correlation=corr,
                           corr_ci_low=corr - 0.1, corr_ci_high=corr + 0.1,
                           significant=np.asarray(sig, bool))


NAMES = ["Male", "A", "B", "C", "D", "E", "F", "G"]


def test_perfect_recovery_scores_one():
    phi = np.array([1.0, 0.9, -0.8, 0.7, -0.6, 0.5, 0.05, -0.01])
    truth = SimpleNamespace(names=tuple(NAMES), phi=phi)
    res = _fake(NAMES, phi * 0.5, [True] * 8)
    s = score_steering(res, truth, attributes=NAMES)
    assert s.attributes == NAMES[1:]                 # target excluded
    assert s.spearman == pytest.approx(1.0)
    assert s.true_top == ["A", "B", "C", "D", "E"]
    assert s.top_true_in_measured and not s.wrong_signs
    assert all(s.passed.values())
    d = s.to_dict()
    assert d["passed"]["signs_right_for_significant"] is True


def test_wrong_sign_only_counts_when_significant():
    phi = np.array([1.0, 0.9, -0.8, 0.7, -0.6, 0.5, 0.05, -0.01])
    truth = SimpleNamespace(names=tuple(NAMES), phi=phi)
    measured = phi.copy()
    measured[6] = -0.3      # F: wrong sign, significant
    measured[7] = +0.02     # G: wrong sign, not significant
    sig = [True] * 7 + [False]
    s = score_steering(_fake(NAMES, measured, sig), truth, attributes=NAMES)
    assert s.wrong_signs == ["F"]
    assert s.passed["signs_right_for_significant"] is False
    assert s.n_significant == 6          # the target itself is not counted


def test_data_backed_signs_exclude_entries_beyond_the_data():
    phi = np.array([1.0, 0.9, -0.8, 0.7, -0.6, 0.5, 0.05, -0.01])
    truth = SimpleNamespace(names=tuple(NAMES), phi=phi)
    measured = phi.copy()
    measured[6] = -0.3                               # F: wrong sign, significant
    res = _fake(NAMES, measured, [True] * 8)
    assert score_steering(res, truth, attributes=NAMES).wrong_signs_data_backed is None
    res.data = SimpleNamespace(beyond_data=np.array([False] * 6 + [True, False]))
    s = score_steering(res, truth, attributes=NAMES)
    assert s.wrong_signs == ["F"] and s.beyond_data == ["F"]
    assert s.wrong_signs_data_backed == []
    assert s.passed["signs_right_for_data_backed"] is True
    res.data = SimpleNamespace(beyond_data=np.zeros(8, bool))
    assert score_steering(res, truth, attributes=NAMES).wrong_signs_data_backed == ["F"]


def test_missing_true_top_attribute_fails_the_topk_check():
    names = ["Male"] + [f"X{i}" for i in range(15)]
    phi = np.r_[1.0, np.linspace(0.9, 0.1, 15)]
    truth = SimpleNamespace(names=tuple(names), phi=phi)
    measured = phi.copy()
    measured[1] = 0.0       # the true #1 is not found at all
    s = score_steering(_fake(names, measured, [True] * 16), truth, attributes=names)
    assert not s.top_true_in_measured
    assert "X0" in s.true_top and "X0" not in s.measured_top


def test_table_ranking_by_covariance_is_scored_beside_the_correlation_ranking():
    names = ["Male"] + [f"X{i}" for i in range(15)]
    phi = np.r_[1.0, np.linspace(0.9, 0.1, 15)]
    truth = SimpleNamespace(names=tuple(names), phi=phi)
    res = _fake(names, phi, [True] * 16)
    s = score_steering(res, truth, attributes=names)
    assert s.table_top is None and s.top_true_in_table is None      # no covariance row
    assert "true_top5_in_table_top10" not in s.passed
    # X0's logit barely moves in correlation terms (a saturated head) but has a large
    # covariance: 11th by |correlation|, first in the audit's table
    res.correlation = phi.copy()
    res.correlation[1] = 0.3          # between X10 and X11: 11th
    res.covariance = phi * 2
    res.covariance[1] = 5.0
    s = score_steering(res, truth, attributes=names)
    assert "X0" not in s.measured_top and not s.top_true_in_measured
    assert s.table_top[0] == "X0" and s.top_true_in_table
    assert s.passed == {"spearman>=0.7": True, "true_top5_in_measured_top10": False,
                        "true_top5_in_table_top10": True,
                        "signs_right_for_significant": True}


def _shipped_male_score(seed: int = 0):
    """The demo's steering audit of the shipped models (128 noise vectors, 20 steps, 2,000
    reference faces), scored against the celeba world's Male truth."""
    import torch

    from biaslens.audit.steer import steer_audit
    from biaslens.data.reference import load_reference
    from biaslens.defaults import available_defaults, load_default
    from biaslens.world import World

    if not {"generator", "classifier"} <= set(available_defaults()):
        pytest.skip("shipped generator/classifier not installed")
    torch.manual_seed(0)
    ref = load_reference("world:celeba", n=2000, seed=1)
    res = steer_audit(load_default("generator"), load_default("classifier"), "Male",
                      n_samples=128, steps=20, accumulate_grad=True, n_boot=300, seed=seed,
                      reference=ref.images)
    return score_steering(res, World.preset("celeba").truth("Male"))


@pytest.fixture(scope="module")
def shipped_score():
    return _shipped_male_score(0)


@pytest.mark.slow
def test_shipped_models_recover_the_worlds_male_truth(shipped_score):
    """The issue's acceptance check, with the shipped models (documented in README and
    docs/validation.md): what holds."""
    s = shipped_score
    assert s.spearman >= 0.7
    # every true top-5 attribute is found, significant and with the right sign; at least
    # four of them rank in the measured top 10 by |correlation|
    rows = {r.attribute: r for r in s.rows}
    assert all(rows[a].significant and rows[a].sign_ok for a in s.true_top)
    assert len(set(s.true_top) & set(s.measured_top)) >= 4
    # ... and all five in the audit's own top-10 table (ranked by |covariance|)
    assert s.top_true_in_table, s.table_top
    # Signs: every significant entry with a clear true association (|phi| >= 0.1) is right;
    # a wrong sign can only sit on a weak truth (Pale_Skin, true phi +0.07, which the
    # classifier already reads with the wrong sign on real faces -- see README).
    clear = [r for r in s.rows if r.significant and abs(r.true_phi) >= 0.1]
    assert clear and all(r.sign_ok for r in clear)
    assert all(abs(rows[a].true_phi) < 0.1 for a in s.wrong_signs)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="not met with the shipped models (issue 5): Pale_Skin has "
                   "the wrong sign, and No_Beard is 12th by |correlation| (4th in the "
                   "covariance table); see docs/validation.md. Strict: passing means the "
                   "docs need updating.")
def test_shipped_models_meet_the_full_acceptance_bar(shipped_score):
    s = shipped_score
    assert s.top_true_in_measured and not s.wrong_signs


def test_every_check_has_its_detail():
    names = ["Male"] + [f"X{i}" for i in range(15)]
    phi = np.r_[1.0, np.linspace(0.9, 0.1, 15)]
    res = _fake(names, phi, [True] * 16)
    res.covariance = phi
    res.data = SimpleNamespace(beyond_data=np.zeros(16, bool))
    s = score_steering(res, SimpleNamespace(names=tuple(names), phi=phi), attributes=names)
    assert list(s.details) == list(s.passed)
    assert s.details["spearman>=0.7"] == "(Spearman 1.00)"
    assert s.details["true_top5_in_table_top10"] == "(ranked by |covariance|)"
