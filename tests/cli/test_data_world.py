"""``biaslens data synth|truth|preview|demo`` through the real CLI app (tiny sizes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.data.cache import load_cache
from biaslens.data.celeba import read_celeba
from biaslens.world import World, attributes


@pytest.fixture
def quick_truth(monkeypatch):
    """World.truth on 4k instead of 400k samples, so the tests stay fast."""
    monkeypatch.setattr(attributes, "TRUTH_N", 4_000)


def test_synth_cache_and_preview(tmp_path):
    cache = tmp_path / "c"
    res = CliRunner().invoke(app, ["data", "synth", "--world", "balanced", "--n", "24",
                                   "--size", "16", "--seed", "4", "--nonfaces", "4",
                                   "--out", str(cache)])
    assert res.exit_code == 0, res.output
    c = load_cache(cache)
    assert len(c) == 28 and c.group_names == ["skin_type", "is_face"]
    text = " ".join(res.output.split())
    n = {k: int((c.split == i).sum()) for i, k in enumerate(("train", "val", "test"))}
    assert (f"world balanced; splits: train {n['train']}, val {n['val']}, test {n['test']}; "
            "under 100 test faces: wide intervals") in text
    assert f"hash {c.content_hash}" in text
    np.testing.assert_array_equal(c.attrs[c.groups[:, 1] == 1],
                                  World.preset("balanced").sample(24, seed=4).attrs)
    # a second run refuses to clobber; --overwrite replaces with identical content
    again = CliRunner().invoke(app, ["data", "synth", "--world", "balanced", "--n", "24",
                                     "--size", "16", "--seed", "4", "--nonfaces", "4",
                                     "--out", str(cache)])
    assert again.exit_code != 0 and "already exists" in str(again.exception)
    again = CliRunner().invoke(app, ["data", "synth", "--world", "balanced", "--n", "24",
                                     "--size", "16", "--seed", "4", "--nonfaces", "4",
                                     "--out", str(cache), "--overwrite"])
    assert again.exit_code == 0 and load_cache(cache).content_hash == c.content_hash

    sheet = tmp_path / "sheet.png"
    res = CliRunner().invoke(app, ["data", "preview", str(cache), "--out", str(sheet),
                                   "--n", "6"])
    assert res.exit_code == 0, res.output
    with Image.open(sheet) as im:
        assert im.format == "PNG" and im.width > 6 * 16


def test_synth_celeba_format(tmp_path):
    out = tmp_path / "celeba"
    res = CliRunner().invoke(app, ["data", "synth", "--n", "5", "--format", "celeba",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = read_celeba(out)
    np.testing.assert_array_equal(table.attrs, World.preset("celeba").sample(5, seed=0).attrs)


def test_preview_of_a_world(tmp_path):
    sheet = tmp_path / "w.png"
    res = CliRunner().invoke(app, ["data", "preview", "independent", "--out", str(sheet),
                                   "--n", "3", "--size", "24"])
    assert res.exit_code == 0, res.output
    with Image.open(sheet) as im:
        assert im.size[0] > 3 * 24


def test_preview_of_a_missing_path_names_it(tmp_path):
    from biaslens.errors import DataError

    for given in (tmp_path / "no-cache", "worlds/missing.json"):
        res = CliRunner().invoke(app, ["data", "preview", str(given), "--out",
                                       str(tmp_path / "w.png")])
        assert isinstance(res.exception, DataError)
        assert str(res.exception).startswith(f"{given}: no such cache folder or world file")
        assert not (tmp_path / "w.png").exists()


def test_truth_command(tmp_path, quick_truth):
    out = tmp_path / "t.json"
    res = CliRunner().invoke(app, ["data", "truth", "--world", "celeba", "--target", "Female",
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Wearing_Lipstick" in res.output
    d = json.loads(out.read_text())
    assert d["target"] == "-Male"
    lip = d["names"].index("Wearing_Lipstick")
    assert d["phi"][lip] > 0.5  # the world plants lipstick with women
    assert f"{d['phi'][lip]:+.3f}" in res.output


def test_demo(tmp_path, quick_truth):
    out = tmp_path / "demo"
    args = ["data", "demo", "--out", str(out), "--n", "300", "--size", "16", "--n-boot", "50"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "true phi" in res.output and "Intersectional groups of Male × skin_type" in res.output
    d = json.loads((out / "stats.json").read_text())
    assert d["stats"]["n"] == 300 and d["stats"]["target"] == "Male"
    assert len(d["true_phi_top"]) == 10
    assert d["max_abs_phi_error_top"] < 0.25
    assert load_cache(out / "cache").content_hash == d["content_hash"]
    assert (out / "contact_sheet.png").stat().st_size > 0
    # re-running replaces its own cache
    assert CliRunner().invoke(app, args).exit_code == 0
