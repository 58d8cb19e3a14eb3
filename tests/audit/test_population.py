"""Tests for the population audit: Rogan–Gladen, share correction, known generators."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biaslens.audit.population import (
    ClassifierRates,
    PopulationOptions,
    classifier_rates,
    group_cells,
    newcombe_diff_ci,
    population_audit,
    rogan_gladen,
    share_correction,
)
from biaslens.errors import BiasLensError, DataError, UnknownNameError
from biaslens.stats import wilson_ci

torch.set_num_threads(1)
NAMES = ["Male", "Smiling", "Young"]
THRESH = torch.tensor([0.0, 1.0, -1.0])  # label k is z_k > THRESH_k


class PixelGenerator(torch.nn.Module):
    """Writes z_k − THRESH_k into channel k: the label is the sign of the pixel."""

    z_dim = 3

    def forward(self, z):
        return (z - THRESH).clamp(-1, 1)[:, :, None, None].expand(-1, 3, 4, 4)


class PixelClassifier(torch.nn.Module):
    """Logit k = 10 · pixel of channel k (so label = pixel > 0)."""

    attribute_names = NAMES

    def forward(self, x):
        return 10 * x[:, :, 0, 0]


def _true_labels(n, seed):
    z = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))
    return (z > THRESH).numpy()


def _data(n=500, p=(0.3, 0.1, 0.7), seed=1):
    return np.random.default_rng(seed).random((n, 3)) < np.array(p)


# --------------------------------------------------------------------------- formulas


def test_rogan_gladen_hand_values():
    assert rogan_gladen(0.24, 0.8, 0.1) == pytest.approx(0.2)
    assert rogan_gladen(0.5, 0.9, 0.1) == pytest.approx(0.5)
    assert rogan_gladen(0.05, 0.8, 0.1) == 0.0          # below FPR: clipped
    assert rogan_gladen(0.95, 0.8, 0.1) == 1.0          # above TPR: clipped
    assert np.isnan(rogan_gladen(0.5, 0.4, 0.4))        # uninformative classifier


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0, 1), tpr=st.floats(0.05, 1), gap=st.floats(0.01, 0.95))
def test_rogan_gladen_inverts_misclassification(p, tpr, gap):
    fpr = max(0.0, tpr - gap)
    p_obs = p * tpr + (1 - p) * fpr
    assert rogan_gladen(p_obs, tpr, fpr) == pytest.approx(p, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(q=st.lists(st.floats(0.01, 1), min_size=4, max_size=4),
       t=st.lists(st.floats(0.6, 1), min_size=2, max_size=2),
       f=st.lists(st.floats(0, 0.4), min_size=2, max_size=2))
def test_share_correction_inverts_the_kronecker_mixing(q, t, f):
    q_true = np.array(q) / np.sum(q)
    m = np.kron(*[np.array([[1 - fk, 1 - tk], [fk, tk]]) for tk, fk in zip(t, f)])
    got = share_correction(m @ q_true, np.array(t), np.array(f))
    np.testing.assert_allclose(got, q_true, atol=1e-9)


def test_share_correction_with_one_attribute_is_rogan_gladen():
    p_obs, tpr, fpr = 0.35, 0.85, 0.15
    q = share_correction(np.array([1 - p_obs, p_obs]), [tpr], [fpr])
    assert q[1] == pytest.approx(rogan_gladen(p_obs, tpr, fpr))
    assert np.isnan(share_correction(np.array([0.5, 0.5]), [0.3], [0.4])).all()


def test_group_cells_first_column_is_most_significant():
    labels = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], bool)
    assert group_cells(labels).tolist() == [0, 1, 2, 3]


def test_newcombe_interval_contains_difference():
    k1, k2, n1, n2 = np.array([30, 0, 50]), np.array([20, 5, 50]), 100, 80
    p1, p2 = k1 / n1, k2 / n2
    lo, hi = newcombe_diff_ci(p1, *wilson_ci(k1, n1), p2, *wilson_ci(k2, n2))
    assert np.all(lo <= p1 - p2) and np.all(p1 - p2 <= hi)


# --------------------------------------------------------------------------- the audit


def test_known_generator_prevalence_amplification_and_shares():
    n, data = 2000, _data()
    res = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=n,
                           batch_size=n, groups=("Male", "Young"), seed=3, n_boot=200)
    truth = _true_labels(n, 3)
    np.testing.assert_allclose(res.observed, truth.mean(0))
    np.testing.assert_allclose(res.generated, truth.mean(0))  # no rates: no correction
    np.testing.assert_allclose(res.data, data.mean(0))
    side = np.sign(data.mean(0) - 0.5)
    np.testing.assert_allclose(res.amplification, side * (truth.mean(0) - data.mean(0)))
    # Male: data 0.3 and generator ~0.5 => less skewed; Young: 0.7 vs ~0.84 => amplified
    assert res.amplification[0] < 0 < res.amplification[2]
    np.testing.assert_allclose(res.ratio, truth.mean(0) / data.mean(0))
    for est, (lo, hi) in ((res.generated, res.generated_ci), (res.data, res.data_ci),
                          (res.difference, res.difference_ci), (res.ratio, res.ratio_ci),
                          (res.amplification, res.amplification_ci)):
        assert np.all(lo <= est + 1e-12) and np.all(est <= hi + 1e-12)
    # intersectional shares, cell = 2·Male + Young
    cells = 2 * truth[:, 0] + truth[:, 2]
    q = np.bincount(cells, minlength=4) / n
    np.testing.assert_allclose(res.group_share_generated, q)
    assert res.group_labels == ["Male=0,Young=0", "Male=0,Young=1", "Male=1,Young=0",
                                "Male=1,Young=1"]
    qd = np.bincount(2 * data[:, 0] + data[:, 2], minlength=4) / len(data)
    assert res.discrepancy["l2_to_uniform"] == pytest.approx(np.linalg.norm(q - 0.25))
    assert res.discrepancy["tv_to_data"] == pytest.approx(0.5 * np.abs(q - qd).sum())
    for k, v in res.discrepancy.items():
        lo, hi = res.discrepancy_ci[k]
        assert lo <= v <= hi, k
    # per-group prevalence: Smiling among generated Male=1,Young=1
    sel = cells == 3
    assert res.group_prevalence_generated[3, 1] == pytest.approx(truth[sel, 1].mean())
    json.dumps(res.to_dict(), allow_nan=False)


def test_rogan_gladen_correction_is_applied_and_reported():
    n, data = 1000, _data()
    rates = ClassifierRates(NAMES, tpr=np.array([0.9, 0.8, 0.95]),
                            fpr=np.array([0.1, 0.05, 0.2]), n_pos=np.ones(3, int),
                            n_neg=np.ones(3, int))
    res = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=n,
                           batch_size=n, classifier_rates=rates, n_boot=50)
    np.testing.assert_allclose(res.generated, rogan_gladen(res.observed, rates.tpr, rates.fpr))
    assert res.corrected and "Rogan–Gladen" in res.to_dict()["correction"]
    assert res.group_share_generated[1] == pytest.approx(res.generated[0])
    plain = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=n,
                             batch_size=n, n_boot=0)
    assert not plain.corrected and "no classifier_rates" in plain.correction_note
    assert np.isnan(plain.discrepancy_ci["l2_to_data"][0])  # n_boot=0: no CI


def test_classifier_rates_hand_counts():
    # 6 positives (4 bright), 4 negatives (1 bright): TPR 4/6, FPR 1/4 for column 0
    bright = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0], bool)
    y = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0], bool)
    images = np.where(bright[:, None, None, None], 255, 0).astype(np.uint8)
    images = np.broadcast_to(images, (10, 4, 4, 3)).copy()
    attrs = np.column_stack([y, y, ~y])  # data columns Male, Smiling, Young
    r = classifier_rates(PixelClassifier(), images, attrs, NAMES, batch_size=3)
    assert r.tpr[0] == pytest.approx(4 / 6) and r.fpr[0] == pytest.approx(1 / 4)
    assert r.tpr[2] == pytest.approx(1 / 4) and r.fpr[2] == pytest.approx(4 / 6)
    assert r.n_pos.tolist() == [6, 6, 4]
    tpr, fpr = r.rates_for(["Young", "Bald"])
    assert tpr[0] == pytest.approx(1 / 4) and np.isnan(fpr[1])


def test_conditional_generator_gets_conditions_from_the_data():
    class CondDecoder(torch.nn.Module):
        latent_dim = 2
        condition_names = ("Male",)

        def encode(self, x, c):  # pragma: no cover - protocol only
            raise NotImplementedError

        def decode(self, z, c):  # writes the condition into channel 0
            x = torch.zeros(len(z), 3, 4, 4)
            x[:, 0] = (2 * c[:, :1] - 1)[:, :, None]
            return x

    data = _data(p=(0.25, 0.5, 0.5))
    res = population_audit(CondDecoder(), PixelClassifier(), data, NAMES, n=800, n_boot=0)
    assert res.condition_agreement["Male"]["rate"] == 1.0
    assert abs(res.generated[0] - 0.25) < 0.06  # conditions drawn from the data rows


def test_determinism_and_seed_dependence():
    data = _data()
    kw = dict(n=300, batch_size=100, n_boot=50)
    a = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, seed=5, **kw)
    b = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, seed=5, **kw)
    c = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, seed=6, **kw)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict()["attributes"] != c.to_dict()["attributes"]


def test_an_options_object_and_keywords_are_the_same_call():
    data = _data()
    opts = PopulationOptions(n=200, batch_size=50, n_boot=20, seed=2)
    a = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, opts)
    b = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=200,
                         batch_size=50, n_boot=20, seed=2)
    c = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES,
                         PopulationOptions(n=200, batch_size=50), n_boot=20, seed=2)
    assert a.to_dict() == b.to_dict() == c.to_dict()
    with pytest.raises(BiasLensError, match="population_audit has no option 'nboot'"):
        population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, nboot=20)


def test_clear_errors():
    data = _data()
    with pytest.raises(UnknownNameError, match="Valid names"):
        population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=10,
                         groups=("Beardy",))
    with pytest.raises(DataError, match="data_attrs"):
        population_audit(PixelGenerator(), PixelClassifier(), data[:, :2], NAMES, n=10)
    nameless = torch.nn.Identity()
    with pytest.raises(BiasLensError, match="attribute_names"):
        population_audit(PixelGenerator(), nameless, data, NAMES, n=10)
    with pytest.raises(BiasLensError, match="z_dim"):
        population_audit(torch.nn.Identity(), PixelClassifier(), data, NAMES, n=10)


def _reference(n, coupling, seed=0):
    """Real-face stand-ins (float NCHW): Smiling's pixel = coupling · Male's + noise."""
    g = torch.Generator().manual_seed(seed)
    m = torch.rand(n, generator=g) - 0.5
    s = coupling * m + 0.1 * (torch.rand(n, generator=g) - 0.5)
    y = torch.rand(n, generator=g) - 0.5
    return torch.stack([m, s, y], 1)[:, :, None, None].expand(-1, 3, 4, 4).contiguous()


def test_associations_flag_what_the_generator_drops_and_nothing_else():
    # The generator draws the three channels independently; the data couples Smiling
    # to Male (slope 0.8): the audit must flag exactly Smiling, as weakened.
    data = _data()
    res = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, n=2000,
                           batch_size=500, seed=0, n_boot=200,
                           reference_images=_reference(1000, 0.8), reference_name="toy")
    a = res.associations
    assert res.association_target == "Male" and a is not None and a.reference == "toy"
    assert a.data_slope[1] == pytest.approx(0.8, abs=0.05)
    assert abs(a.path_slope[1]) < 0.1 and abs(a.excess[2]) < 0.1
    assert a.beyond_data.tolist() == [False, True, False] and a.verdict(1) == "weakened"
    assert res.ranked_associations() == [1, 2]
    d = res.to_dict()["associations"]
    assert d["generated_slope"][1] == pytest.approx(float(a.path_slope[1]))
    assert "path_slope" not in d
    json.dumps(res.to_dict(), allow_nan=False)


def test_associations_are_quiet_when_the_data_matches():
    # Reference drawn like the generator (independent channels): nothing beyond the data.
    ref = PixelGenerator()(torch.randn(1500, 3, generator=torch.Generator().manual_seed(9)))
    res = population_audit(PixelGenerator(), PixelClassifier(), _data(), NAMES, n=2000,
                           batch_size=500, seed=1, n_boot=200, reference_images=ref,
                           association_target="Young")
    assert res.association_target == "Young"
    assert not res.associations.beyond_data.any()
    plain = population_audit(PixelGenerator(), PixelClassifier(), _data(), NAMES, n=50,
                             n_boot=0)
    assert plain.associations is None and plain.to_dict()["associations"] is None
    with pytest.raises(BiasLensError, match="n_boot >= 50"):
        population_audit(PixelGenerator(), PixelClassifier(), _data(), NAMES, n=50,
                         n_boot=10, reference_images=ref)
    with pytest.raises(BiasLensError, match="at least 10 reference"):
        population_audit(PixelGenerator(), PixelClassifier(), _data(), NAMES, n=50,
                         n_boot=50, reference_images=ref[:3])


class _ReplayGenerator(torch.nn.Module):
    """A perfect 'generator': it returns the next real faces, whatever the noise."""

    z_dim = 2

    def __init__(self, images):
        super().__init__()
        self.images, self.pos = images, 0

    def forward(self, z):
        out = self.images[self.pos:self.pos + len(z)]
        self.pos += len(z)
        return out


@pytest.mark.slow
def test_associations_are_calibrated_on_real_faces_with_the_shipped_classifier():
    # Null check with real data: faces of the independent world "generated" by replaying
    # rendered faces, against other rendered faces of the same world. Nothing is beyond the
    # data, so the BH-controlled comparison should flag (almost) nothing.
    from biaslens.tensors import to_model_pixels
    from biaslens.data.reference import load_reference
    from biaslens.defaults import available_defaults, load_default

    if "classifier" not in available_defaults():
        pytest.skip("shipped classifier not installed")
    clf = load_default("classifier")
    gen_faces = to_model_pixels(load_reference("world:independent", n=1500, seed=11).images)
    ref = load_reference("world:independent", n=1000, seed=12).images
    data = np.random.default_rng(0).random((100, 40)) < 0.5
    res = population_audit(_ReplayGenerator(gen_faces), clf, data, list(clf.attribute_names),
                           n=1500, batch_size=500, n_boot=200, seed=0, reference_images=ref)
    assert res.associations.beyond_data.sum() <= 1
    p = res.associations.p_values
    assert np.mean(p[np.isfinite(p)] < 0.05) <= 0.2


class ConstantClassifier(torch.nn.Module):
    """Says "not Male, not Smiling, Young" whatever the image."""

    attribute_names = NAMES

    def forward(self, x):
        return torch.tensor([-3.0, -3.0, 3.0]).expand(x.shape[0], -1)


def test_constant_classifier_gets_a_clear_statement():
    res = population_audit(PixelGenerator(), ConstantClassifier(), _data(), NAMES, n=200,
                           n_boot=0)
    assert len(res.warnings) == 1 and "all 200 generated faces the same labels" in \
        res.warnings[0]
    assert res.to_dict()["warnings"] == res.warnings
    honest = population_audit(PixelGenerator(), PixelClassifier(), _data(), NAMES, n=200,
                              n_boot=0)
    assert honest.warnings == []


def test_one_valued_group_column_is_named():
    class NeverMale(PixelClassifier):
        def forward(self, x):
            out = super().forward(x).clone()
            out[:, 0] = -5.0
            return out

    res = population_audit(PixelGenerator(), NeverMale(), _data(), NAMES, n=200, n_boot=0,
                           groups=("Male",))
    assert res.warnings == [w for w in res.warnings if "labelled not Male" in w] != []


@pytest.mark.parametrize("field, value", [("n", 1), ("n_boot", -1), ("level", 1.0),
                                          ("batch_size", 0), ("fdr", 0.0)])
def test_option_ranges_are_refused_before_generating(field, value):
    calls = []

    class Counting(PixelGenerator):
        def forward(self, z):
            calls.append(1)
            return super().forward(z)

    with pytest.raises(BiasLensError, match=f"PopulationOptions: {field} must be"):
        population_audit(Counting(), PixelClassifier(), _data(), NAMES, **{field: value})
    assert calls == []


# --------------------------------------------------------------------------- identities
def test_data_identities_widen_the_reference_intervals():
    """~30 training photos per person: the data-side intervals resample people."""
    rng = np.random.default_rng(4)
    ids = np.repeat(np.arange(40), 30)
    data = rng.random((ids.size, 3)) < rng.beta(0.6, 0.6, (40, 3))[ids]
    kw = dict(n=400, batch_size=400, groups=("Male",), seed=0, n_boot=300)
    rows = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, **kw)
    clus = population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, **kw,
                            data_clusters=ids)
    np.testing.assert_array_equal(rows.data, clus.data)
    w = lambda ci: ci[1] - ci[0]                              # noqa: E731
    assert np.all(w(clus.data_ci) > 2 * w(rows.data_ci))
    assert np.all(w(clus.group_share_data_ci) > 2 * w(rows.group_share_data_ci))
    assert np.all(w(clus.difference_ci) > w(rows.difference_ci))
    assert clus.settings["data_resampling"]["text"] == "bootstrap over 40 identities (1,200 images)"
    assert rows.settings["data_interval_method"] == "wilson"
    d = json.loads(json.dumps(clus.to_dict(), allow_nan=False))
    assert len(d["groups"]["share_data_ci"]["low"]) == 2
    with pytest.raises(DataError, match="data_clusters"):
        population_audit(PixelGenerator(), PixelClassifier(), data, NAMES, **kw,
                         data_clusters=ids[:-1])
