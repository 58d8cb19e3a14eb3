"""Unit tests of the app's plain helpers (no Streamlit)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from biaslens.app.common import (
    MAX_UPLOAD_BYTES,
    association_word,
    cluster_order,
    decode_upload,
    grid_columns,
    group_words,
    source_words,
    steer_rows,
    steer_verdict,
    target_curve,
    target_options,
    upload_warnings,
    upscale,
)
from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES, resolve_attribute


def test_target_options_cover_both_signs_and_resolve():
    opts = target_options(CELEBA_ATTRIBUTES)
    assert len(opts) == 2 * len(CELEBA_ATTRIBUTES)
    for label, target in opts.items():
        idx, sign = resolve_attribute(target)
        assert label.split(" ", 1)[1] == CELEBA_ATTRIBUTES[idx]
        assert sign == (1 if label.startswith("more ") else -1)


@pytest.mark.parametrize("fmt,mode,shape", [("PNG", "RGB", (30, 50, 3)), ("JPEG", "L", (70, 40)),
                                            ("PNG", "RGBA", (20, 20, 4))])
def test_decode_upload_crops_and_resizes(fmt, mode, shape):
    arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, fmt)
    out = decode_upload(buf.getvalue(), 16)
    assert out.shape == (1, 16, 16, 3) and out.dtype == np.uint8
    assert out.flags.writeable


def test_decode_upload_keeps_a_uniform_colour():
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), (10, 200, 30)).save(buf, "PNG")
    out = decode_upload(buf.getvalue(), 8)
    assert np.all(np.abs(out.astype(int) - [10, 200, 30]) <= 1)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=256))
def test_decode_upload_refuses_non_images(data):
    with pytest.raises(DataError, match="x.bin"):
        decode_upload(data, 8, name="x.bin")


def test_decode_upload_refuses_huge_files():
    with pytest.raises(DataError, match="limit"):
        decode_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), 8)


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize("label,words", [
    ("Male=0", "Female"), ("Male=1|skin_type=0", "Male, lighter skin"),
    ("Male=0, skin_type=1", "Female, darker skin"), ("Male=1,Young=0", "Male, older"),
    ("Smiling=0|Eyeglasses=1", "not Smiling, Eyeglasses"), ("region=north", "region=north")])
def test_group_words_reads_every_audits_labels(label, words):
    assert group_words(label) == words


def test_association_word_says_reversed_only_for_a_significant_sign_change():
    assert association_word(0.1, -0.2, "weakened") == "reversed"
    assert association_word(0.3, -0.2, "added") == "reversed"
    assert association_word(0.1, -0.2, "no") == "no"
    assert association_word(0.1, 0.2, "weakened") == "weakened"


def test_source_words_never_name_a_temp_folder(tiny):
    from biaslens.pipelines.inputs import open_cache

    cache = open_cache(tiny["cache"])
    assert source_words(cache) == "synthetic default world, 160 faces"
    assert source_words(cache, "caches/x") == "synthetic world 'celeba', 160 faces, from caches/x"


# --------------------------------------------------------------------------- pictures


def test_cluster_order_puts_correlated_blocks_together():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 500))
    cols = [a, b + 0.1 * rng.normal(size=500), a + 0.1 * rng.normal(size=500),
            b, -a + 0.1 * rng.normal(size=500)]  # block {0, 2, 4} (4 anti-correlated), {1, 3}
    phi = np.corrcoef(np.stack(cols))
    phi[1, 3] = phi[3, 1] = np.nan  # undefined entries do not break it
    order = cluster_order(phi).tolist()
    assert sorted(order) == [0, 1, 2, 3, 4]
    pos = [order.index(i) for i in (0, 2, 4)]
    assert max(pos) - min(pos) == 2  # the three of the block are adjacent


def test_grid_columns_keep_the_first_and_last_step():
    for steps in (1, 2, 5, 20, 60):
        cols = grid_columns(steps, 6)
        assert cols[0] == 0 and cols[-1] == steps - 1 and len(cols) == min(6, steps)
        assert (np.diff(cols) > 0).all()


def test_upscale_repeats_pixels():
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    up = upscale(img, 3)
    assert up.shape == (6, 6, 3) and (up[::3, ::3] == img).all() and (up[2, 2] == img[0, 0]).all()


def _world_faces(n: int = 64) -> np.ndarray:
    from biaslens.world import World
    from biaslens.world.render import render_faces

    s = World.preset("celeba").sample(n, seed=0)
    return render_faces(s.attrs, s.skin_tone, seed=0, size=64)


def test_upload_warnings_flag_grayscale_and_photo_like_noise_not_a_training_face():
    ref = _world_faces()
    assert upload_warnings(ref[:1], ref[1:]) == []
    gray = np.repeat(ref[:1].mean(axis=-1, keepdims=True), 3, axis=-1).astype(np.uint8)
    assert any("grayscale" in w for w in upload_warnings(gray, ref[1:]))
    noise = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    (why,) = upload_warnings(noise, ref)
    assert "edge density (higher)" in why


# --------------------------------------------------------------------------- steering


def _steer_result(n: int = 40, steps: int = 5, seed: int = 0):
    import torch

    from biaslens.audit.steer import steer_audit

    torch.manual_seed(seed)

    class G(torch.nn.Module):
        z_dim = 4

        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3 * 4 * 4)

        def forward(self, z):
            return torch.tanh(self.lin(z)).view(-1, 3, 4, 4)

    class C(torch.nn.Module):
        attribute_names = ["Male", "Smiling", "Young"]

        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(48, 3)

        def forward(self, x):
            return self.lin(x.flatten(1)) * 3

    return steer_audit(G(), C(), "-Male", n_samples=n, steps=steps, n_boot=50, seed=seed,
                       direction="+", keep_history=True, precision="fp32")


def test_target_curve_is_the_mean_probability_of_the_base_attribute():
    res = _steer_result()
    curve = target_curve(res)
    assert curve.shape == (res.steps,)
    p = 1 / (1 + np.exp(-res.history[:, :, res.target_index].astype(float)))
    assert np.allclose(curve, p.mean(axis=1))
    assert np.allclose(target_curve(res, [0, res.steps - 1]), curve[[0, -1]])
    assert curve[-1] < curve[0]  # steering toward less Male lowers P(Male)


def test_steer_verdict_counts_explains_and_warns():
    res = _steer_result(n=12)
    line, notes, warns = steer_verdict(res)
    k = sum(r.significant for r in res.ranked)
    assert line.startswith(f"{k} of {len(res.ranked)}" if k else "None of the")
    assert "away from Male" in line
    assert warns and "Only 12 faces" in warns[0]
    ci_only = [r.name for r in res.ranked if not r.significant and (r.ci_low > 0 or r.ci_high < 0)]
    assert bool(notes) == bool(ci_only)
    assert steer_verdict(_steer_result(n=40))[2] == []  # enough faces: no warning


def test_steer_rows_are_rounded_with_bracketed_cis():
    rows = steer_rows(_steer_result(), 10)
    for r in rows:
        assert r["covariance"] == round(r["covariance"], 3)
        assert r["95% CI"] == "—" or (r["95% CI"].startswith("[") and ", " in r["95% CI"])


def test_target_curve_prefers_the_results_per_step_probability():
    from types import SimpleNamespace

    signed = np.array([[0.9, 0.6, 0.2]])  # P(less Male) per step, one pass
    res = SimpleNamespace(target_probability=signed, sign=-1, history=None, steps=3,
                          target_index=0)
    assert np.allclose(target_curve(res), [0.1, 0.4, 0.8])  # shown as P(Male)
    res.sign = 1
    assert np.allclose(target_curve(res, [0, 2]), [0.9, 0.2])
    with pytest.raises(ValueError, match="history"):
        target_curve(SimpleNamespace(target_probability=None, history=None))
