"""Tests for the steering-vs-data comparison and the judge classifier."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from biaslens.audit.steer import steer_audit
from biaslens.audit.steer_reference import compare_with_data, data_slopes, path_slopes
from biaslens.errors import BiasLensError

torch.set_num_threads(1)
NAMES = ["Male", "Wearing_Lipstick", "No_Beard", "Smiling"]


def _linear_world(seed: int, a: int = 5, k: int = 8, m: int = 4000):
    """Logits ``L = A z`` of a linear model; the path moves along ∇ℓ_0 = A[0]."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(a, k))
    ref = rng.normal(size=(m, k)) @ A.T
    return rng, A, ref


def _path(rng, A, n=64, steps=10, noise=0.0):
    size = rng.uniform(0.5, 1.5, size=n)                         # per-image step size
    move = (A @ A[0])[None, :]                                   # ∇ℓ_j · ∇ℓ_0
    d = np.stack([(k / steps) * size[:, None] * move for k in range(steps)])
    return d + noise * rng.normal(size=d.shape)


@given(st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_linear_generator_path_slope_equals_covariance_ratio(seed):
    # For a linear model with Gaussian noise the path slope along the target's gradient
    # is exactly Cov(ℓ_j, ℓ_t) / Var(ℓ_t) of the population: the comparison's premise.
    rng, A, _ = _linear_world(seed)
    expected = (A @ A[0]) / (A[0] @ A[0])
    np.testing.assert_allclose(path_slopes(_path(rng, A), 0), expected, rtol=1e-9, atol=1e-12)


def test_data_slopes_are_ols_slopes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 3))
    x[:, 1] += 0.7 * x[:, 0]
    for j in range(3):
        np.testing.assert_allclose(data_slopes(x, 0)[j], np.polyfit(x[:, 0], x[:, j], 1)[0])


def test_null_is_calibrated():
    # Faithful generator (path slope = population slope): p < 0.05 about 5 % of the time.
    ps = []
    for seed in range(40):
        rng, A, ref = _linear_world(seed, a=6, m=1000)
        res = compare_with_data(_path(rng, A, noise=0.1), ref, 0, n_boot=200, seed=seed)
        ps.extend(res.p_values[1:])
    rate = float(np.mean(np.asarray(ps) < 0.05))
    assert 0.01 <= rate <= 0.10, rate


def test_added_association_is_flagged_and_negated_target_flips():
    rng, A, ref = _linear_world(3)
    d = _path(rng, A, noise=0.05)
    d[:, :, 2] += 0.8 * d[:, :, 0]                  # the "generator" ties attribute 2 to 0
    res = compare_with_data(d, ref, 0, n_boot=300)
    assert res.beyond_data[2] and not res.beyond_data[0]
    assert res.verdict(2) == "added" and res.verdict(1) in ("no", "added", "weakened")
    assert res.excess[2] == pytest.approx(0.8, abs=0.05)
    assert res.excess_ci_low[2] < res.excess[2] < res.excess_ci_high[2]
    neg = compare_with_data(d, ref, 0, sign=-1, n_boot=300)
    np.testing.assert_allclose(neg.path_slope[1:], -res.path_slope[1:])
    np.testing.assert_allclose(neg.excess[1:], -res.excess[1:])
    assert neg.path_slope[0] == 1.0 and np.isnan(neg.excess[0]) and not neg.beyond_data[0]
    d2 = res.to_dict()
    assert d2["excess"][0] is None and d2["beyond_data"][2] is True


def test_user_errors_name_the_problem():
    rng, A, ref = _linear_world(0)
    d = _path(rng, A)
    with pytest.raises(BiasLensError, match="shape"):
        compare_with_data(d, ref[:, :3], 0)
    with pytest.raises(BiasLensError, match="at least 10"):
        compare_with_data(d, ref[:5], 0)
    with pytest.raises(BiasLensError, match="n_boot >= 50"):
        compare_with_data(d, ref, 0, n_boot=10)
    with pytest.raises(BiasLensError, match="steps, images"):
        compare_with_data(d[0], ref, 0)


# ------------------------------------------------------------------ through steer_audit


class Gen(nn.Module):
    z_dim = 4

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3 * 4 * 4)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.lin(z)).view(-1, 3, 4, 4)


class Clf(nn.Module):
    attribute_names = NAMES

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.lin = nn.Linear(48, len(NAMES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1))


def _gen():
    torch.manual_seed(1)
    return Gen()


def test_reference_through_steer_audit_and_to_dict():
    gen, clf = _gen(), Clf()
    ref = np.random.default_rng(0).integers(0, 256, size=(200, 4, 4, 3), dtype=np.uint8)
    r = steer_audit(gen, clf, "Male", n_samples=16, steps=4, n_boot=60, reference=ref,
                    reference_name="toy")
    assert r.data is not None and r.data.n_reference == 200 and r.data.reference == "toy"
    assert r.data.path_slope.shape == (4,) and r.data.path_slope[0] == pytest.approx(1.0)
    assert r.to_dict()["data_comparison"]["reference"] == "toy"
    assert steer_audit(gen, clf, "Male", n_samples=16, steps=4, n_boot=60).data is None


def test_judge_identical_to_guide_reproduces_the_plain_audit():
    gen, clf = _gen(), Clf()
    plain = steer_audit(gen, clf, "-Male", n_samples=16, steps=4, n_boot=60)
    judged = steer_audit(gen, clf, "-Male", n_samples=16, steps=4, n_boot=60,
                         judge=copy.deepcopy(clf))
    np.testing.assert_allclose(judged.covariance, plain.covariance, rtol=1e-5, atol=1e-7)
    info = judged.extra["judge"]
    np.testing.assert_allclose(info["guide_target_change"], info["judge_target_change"],
                               rtol=1e-5, atol=1e-6)


def test_judge_measures_and_guide_steers():
    gen, guide, judge = _gen(), Clf(0), Clf(7)
    r = steer_audit(gen, guide, "Male", n_samples=16, steps=4, n_boot=60, judge=judge,
                    precision="fp32")  # initial logits compared with fp32 ones
    # the guide's Male logit goes up in the + pass, down in the − pass
    up, down = r.extra["judge"]["guide_target_change"]
    assert up > 0 > down
    # the recorded history is the judge's logits of the same images
    with torch.no_grad():
        z0 = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        start = judge(gen(z0)).numpy()
    np.testing.assert_allclose(r.initial, start, rtol=1e-4, atol=1e-5)


def test_judge_without_the_target_is_a_user_error():
    class Other(Clf):
        attribute_names = ["Smiling", "Young", "Bald", "Eyeglasses"]

    with pytest.raises(BiasLensError, match="guide classifier cannot steer"):
        steer_audit(_gen(), Other(), "Male", n_samples=4, steps=2, n_boot=0, judge=Clf())


def test_undefined_slopes_are_never_flagged():
    # One step: every logit change is 0, so the path slopes are undefined (0/0).
    rng, A, ref = _linear_world(0)
    d = np.zeros((1, 16, 5))
    res = compare_with_data(d, ref, 0, n_boot=60)
    assert np.isnan(res.path_slope[1:]).all() and np.isnan(res.p_values).all()
    assert not res.beyond_data.any()
    gen, clf = _gen(), Clf()
    img = np.random.default_rng(0).integers(0, 256, size=(20, 4, 4, 3), dtype=np.uint8)
    r = steer_audit(gen, clf, "Male", n_samples=8, steps=1, n_boot=60, reference=img)
    assert not r.data.beyond_data.any()
