"""Tests of the World attribute model: calibration, rules, presets, overrides, truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biaslens.errors import BiasLensError, DataError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.world import TruthTable, World, WorldSample
from biaslens.world.attributes import VARIABLES, phi_from_moments
from biaslens.world.fit import celeba_targets, read_params, read_stats

N = 20_000
MALE = CELEBA_ATTRIBUTES.index("Male")
SMILING = CELEBA_ATTRIBUTES.index("Smiling")


@pytest.fixture(scope="module")
def celeba() -> World:
    return World.preset("celeba")


@pytest.fixture(scope="module")
def sample(celeba) -> WorldSample:
    return celeba.sample(N, seed=0)


def _phi(attrs: np.ndarray) -> np.ndarray:
    X = attrs.astype(np.float64)
    return phi_from_moments(X.mean(0), X.T @ X / len(X))


def test_sample_contract(sample):
    assert sample.attrs.shape == (N, 40) and sample.attrs.dtype == bool
    assert sample.skin_tone.dtype == np.float32 and sample.skin_type.dtype == np.int8
    assert sample.attribute_names == CELEBA_ATTRIBUTES
    assert ((sample.skin_tone >= 0) & (sample.skin_tone <= 1)).all()
    assert np.array_equal(sample.skin_type == 1, sample.skin_tone > 0.5)
    json.dumps(sample.to_dict())


def test_calibrated_to_celeba(sample):
    stats = read_stats()
    p = np.array(stats["prevalence"])
    T = np.array(stats["joint_positive_rate"])
    m = sample.attrs.mean(0)
    se = np.sqrt(p * (1 - p) / N)
    assert np.all(np.abs(m - p) <= 4 * se + 0.002), np.abs(m - p).max()
    err = np.abs(_phi(sample.attrs) - phi_from_moments(p, T))[np.triu_indices(40, 1)]
    assert err.max() <= 0.05 + 4 / np.sqrt(N)


def test_hard_rules_never_violated(sample):
    model, _, _, _ = read_params()
    X = np.column_stack([sample.attrs, sample.skin_type.astype(bool)])
    assert model.violations(X).sum() == 0
    a = {n: sample.attrs[:, i] for i, n in enumerate(CELEBA_ATTRIBUTES)}
    assert not (a["Bald"] & a["Bangs"]).any()
    assert not (a["Mustache"] & ~a["Male"]).any()
    assert not (a["Pale_Skin"] & (sample.skin_type == 1)).any()
    assert sample.skin_tone[a["Pale_Skin"]].max() <= 0.15


def test_rules_are_consistent_with_data():
    stats = read_stats()
    _, _, clauses = celeba_targets(stats)
    p, T, _ = celeba_targets(stats)
    for i, vi, j, vj in clauses:               # every enforced cell is empty in the data
        cell = {(1, 1): T[i, j], (1, 0): p[i] - T[i, j], (0, 1): p[j] - T[i, j],
                (0, 0): 1 - p[i] - p[j] + T[i, j]}[(vi, vj)]
        assert cell < 0.5 / stats["n_rows"]


def test_skin_share_and_determinism(celeba, sample):
    assert abs(sample.skin_type.mean() - 0.15) < 4 * np.sqrt(0.15 * 0.85 / N) + 0.003
    a = celeba.sample(300, seed=5)
    b = celeba.sample(300, seed=5)
    assert np.array_equal(a.attrs, b.attrs) and np.array_equal(a.skin_tone, b.skin_tone)
    assert not np.array_equal(a.attrs, celeba.sample(300, seed=6).attrs)


def test_balanced_preset():
    s = World.preset("balanced").sample(N, seed=1)
    tol = 4 * np.sqrt(0.25 / 16384) + 0.002     # shares are drawn per chain
    assert abs(s.attrs[:, MALE].mean() - 0.5) < tol
    assert abs(s.skin_type.mean() - 0.5) < tol
    r = np.corrcoef(s.attrs[:, MALE], s.skin_type)[0, 1]
    assert abs(r) < 4 / np.sqrt(16384)
    # other dependencies kept: lipstick still strongly anti-correlated with Male
    assert np.corrcoef(s.attrs[:, MALE], s.attrs[:, CELEBA_ATTRIBUTES.index(
        "Wearing_Lipstick")])[0, 1] < -0.6


def test_independent_preset(sample):
    s = World.preset("independent").sample(N, seed=2)
    err = np.abs(_phi(s.attrs))[np.triu_indices(40, 1)]
    assert err.max() < 5 / np.sqrt(N)
    assert abs(s.attrs.mean(0) - sample.attrs.mean(0)).max() < 0.03


def test_overrides_plant_and_remove():
    w = World.from_json({"base": "celeba", "marginals": {"Smiling": 0.3},
                         "correlations": {"Smiling,Male": 0.6, "Young,Attractive": 0},
                         "group_shares": {"skin_type_darker": 0.4}, "name": "planted"})
    s = w.sample(N, seed=3)
    phi = _phi(s.attrs)
    assert abs(s.attrs[:, SMILING].mean() - 0.3) < 0.015
    assert abs(phi[SMILING, MALE] - 0.6) < 0.05
    young, attr = CELEBA_ATTRIBUTES.index("Young"), CELEBA_ATTRIBUTES.index("Attractive")
    assert abs(phi[young, attr]) < 0.05
    assert abs(s.skin_type.mean() - 0.4) < 0.02
    d = w.to_dict()
    json.dumps(d)
    assert d["name"] == "planted" and d["spec"]["marginals"] == {"Smiling": 0.3}


def test_from_json_file_and_errors(tmp_path):
    f = tmp_path / "w.json"
    f.write_text('{"base": "celeba", "group_shares": {"Male": 0.5}}')
    w = World.from_json(f)
    assert w.group_shares == {MALE: 0.5}
    bad = tmp_path / "bad.json"
    bad.write_text('{"base": "celeba",\n "marginals": {')
    with pytest.raises(DataError, match="line 2"):
        World.from_json(bad)
    with pytest.raises(UnknownNameError, match="Valid names"):
        World.from_json({"marginals": {"Smilling_Face": 0.3}})
    with pytest.raises(DataError, match="marginals.Smiling"):
        World.from_json({"marginals": {"Smiling": 1.5}})
    with pytest.raises(DataError, match="correlations"):
        World.from_json({"correlations": {"Smiling": 0.5}})
    with pytest.raises(DataError, match="hard rule"):
        World.from_json({"correlations": {"Bald,Bangs": 0.2}})
    with pytest.raises(DataError, match="impossible"):
        World.from_json({"correlations": {"Bald,Smiling": 0.9}})
    with pytest.raises(DataError, match="base"):
        World.from_json({"base": "nope"})
    with pytest.raises(DataError, match="unknown key"):
        World.from_json({"margnals": {}})
    with pytest.raises(UnknownNameError, match="celeba"):
        World.preset("celeb")
    assert issubclass(UnknownNameError, BiasLensError)


def test_truth_table(celeba):
    t = celeba.truth("Male")
    assert isinstance(t, TruthTable) and t.names == VARIABLES and t.n_samples == 400_000
    lip = CELEBA_ATTRIBUTES.index("Wearing_Lipstick")
    assert t.p_given_target[lip] < 0.05 < 0.5 < t.p_given_not_target[lip]
    assert t.phi[MALE] == pytest.approx(1.0)
    f = celeba.truth("-Male")
    assert f.target == "-Male" and f.sign == -1
    np.testing.assert_allclose(f.covariance, -t.covariance, atol=1e-12)
    np.testing.assert_allclose(f.p_given_target, t.p_given_not_target)
    # phi agrees with CelebA's real statistic within Monte Carlo + fit error
    p, T, _ = celeba_targets(read_stats())
    assert abs(t.phi[lip] - phi_from_moments(p, T)[MALE, lip]) < 0.03
    assert celeba.truth("Female").target == "-Male"
    json.dumps(t.to_dict())
    assert t.top(3)[0][0] in {"Wearing_Lipstick", "Heavy_Makeup", "No_Beard"}
