"""Tests of the pure-numpy Ising sampler and moment fitter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.world.ising import IsingModel, fit_moments, gibbs_sample, moments, \
    zero_cell_clauses


def _exact(model: IsingModel) -> tuple[np.ndarray, np.ndarray]:
    """Exact means and joint rates by enumerating all 2^V states (small V only)."""
    v = model.n_vars
    X = np.array(list(itertools.product([0, 1], repeat=v)), dtype=float)
    logw = X @ model.h + 0.5 * np.einsum("ni,ij,nj->n", X, model.J, X)
    ok = model.violations(X.astype(bool)) if len(model.clauses) else None
    w = np.exp(logw - logw.max())
    if ok is not None:
        c = model.clauses
        bad = ((X[:, c[:, 0]] == c[:, 1]) & (X[:, c[:, 2]] == c[:, 3])).any(axis=1)
        w[bad] = 0
    w /= w.sum()
    return w @ X, X.T @ (X * w[:, None])


def _small_model(seed: int, v: int = 4, clauses=()) -> IsingModel:
    rng = np.random.default_rng(seed)
    J = rng.normal(0, 1.0, (v, v))
    J = np.triu(J, 1)
    return IsingModel(rng.normal(0, 1.0, v), J + J.T, np.array(clauses).reshape(-1, 4))


def test_sampler_matches_exact_enumeration():
    model = _small_model(0, clauses=[(0, 1, 1, 1), (2, 1, 3, 0)])  # 0 excl 1; 2 => 3
    m_exact, M_exact = _exact(model)
    S = gibbs_sample(model, 40_000, seed=3, burn_in=30, thin=2)
    m, M = moments(S)
    se = np.sqrt(m_exact * (1 - m_exact) / 40_000)
    assert np.all(np.abs(m - m_exact) < 5 * se + 2e-3)
    assert np.abs(M - M_exact).max() < 0.015
    assert model.violations(S).sum() == 0


def test_sampler_is_deterministic_and_seed_dependent():
    model = _small_model(1)
    a = gibbs_sample(model, 500, seed=7)
    assert np.array_equal(a, gibbs_sample(model, 500, seed=7))
    assert not np.array_equal(a, gibbs_sample(model, 500, seed=8))


def test_clamp_gives_conditional_and_mixture():
    model = _small_model(2, clauses=[(0, 1, 1, 0)])          # 0 => 1
    S = gibbs_sample(model, 4000, seed=0, clamp={0: 1.0})
    assert S[:, 0].all() and S[:, 1].all()                   # clamp + repair of the start
    S = gibbs_sample(model, 8000, seed=0, clamp={2: 0.25}, max_chains=8000)
    assert abs(S[:, 2].mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 8000)


def test_fit_recovers_exact_moments():
    true = _small_model(4, v=5, clauses=[(0, 1, 4, 1)])
    m, M = _exact(true)
    res = fit_moments(m, M, clauses=true.clauses, n_iter=400, n_chains=4096, seed=0)
    m2, M2 = _exact(res.model)
    assert np.abs(m2 - m).max() < 0.01
    assert np.abs(M2 - M).max() < 0.01
    assert res.to_dict()["n_iter"] == 400


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_zero_cell_clauses_found_and_valid(seed):
    rng = np.random.default_rng(seed)
    X = rng.random((300, 4)) < rng.uniform(0.2, 0.8, 4)
    X[X[:, 0], 1] = False                                    # plant: 0 excludes 1
    m, M = moments(X)
    c = zero_cell_clauses(m, M, 300)
    assert [0, 1, 1, 1] in c.tolist()
    assert IsingModel(np.zeros(4), np.zeros((4, 4)), c).violations(X).sum() == 0


def test_model_validates_shapes():
    with pytest.raises(ValueError):
        IsingModel(np.zeros(3), np.ones((3, 3)))
    with pytest.raises(ValueError):
        IsingModel(np.zeros(3), np.zeros((2, 2)))
