"""Tests for the ``python -m biaslens.defaults_train`` CLI options (--world, --n-faces,
--no-ship): the default call still ships, any other world never does.

Training and evaluation are replaced by recorders, so nothing is trained or shipped."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from biaslens import defaults_train as dt
from biaslens.errors import DataError


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replace make_data/train/evaluate/ship by recorders (and the grid by a no-op)."""
    calls: dict[str, list] = {"make_data": [], "train": [], "evaluate": [], "ship": []}

    def make_data(key, root, *, world=None, n_faces=None):
        calls["make_data"].append((key, world, n_faces))
        return Path(root) / dt.DATASETS[key]["folder"]

    def train(name, root, *, log=print, world=None, n_faces=None):
        calls["train"].append((name, world, n_faces))
        (Path(root) / f"run-{name}").mkdir(parents=True, exist_ok=True)
        return Path(root) / f"run-{name}"

    def evaluate(name, root):
        calls["evaluate"].append(name)
        (Path(root) / f"run-{name}").mkdir(parents=True, exist_ok=True)
        return {"mean_auc_rendered": 0.5, "auc": {"Male": 0.5}}

    def ship(name, root, quality, dest=dt.RESOURCE_MODELS, *, world=None, n_faces=None):
        calls["ship"].append((name, world, n_faces))
        return Path("shipped") / name

    for fn in (make_data, train, evaluate, ship):
        monkeypatch.setattr(dt, fn.__name__, fn)
    return calls


def test_default_call_ships(recorder, tmp_path: Path) -> None:
    assert dt.main(["classifier", "--root", str(tmp_path)]) == 0
    assert recorder["make_data"] == [("faces", None, None)]
    assert recorder["train"] == [("classifier", None, None)]
    assert recorder["ship"] == [("classifier", None, None)]
    assert not (tmp_path / "run-classifier" / "quality.json").exists()


@pytest.mark.parametrize("extra, world, n_faces", [
    (["--world", "independent", "--n-faces", "20000"], "independent", 20000),
    (["--world", "independent"], "independent", None),
    (["--n-faces", "500"], None, 500),
    (["--no-ship"], None, None),
])
def test_other_world_or_size_never_ships(recorder, tmp_path: Path, extra: list[str],
                                         world: str | None, n_faces: int | None) -> None:
    assert dt.main(["classifier", "--root", str(tmp_path), *extra]) == 0
    assert recorder["make_data"] == [("faces", world, n_faces)]
    assert recorder["train"] == [("classifier", world, n_faces)]
    assert recorder["ship"] == []
    quality = json.loads((tmp_path / "run-classifier" / "quality.json").read_text())
    assert quality["mean_auc_rendered"] == 0.5


def test_no_train_only_evaluates(recorder, tmp_path: Path) -> None:
    dt.main(["classifier", "--root", str(tmp_path), "--no-train", "--world", "independent"])
    assert recorder["train"] == [] and recorder["evaluate"] == ["classifier"]
    assert recorder["ship"] == []


@pytest.mark.parametrize("option, value", [("--world", "no-such-world"), ("--n-faces", "3")])
def test_bad_options_exit_2(recorder, option: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        dt.main(["classifier", option, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in err and value in err            # one line naming the bad option
    assert recorder["make_data"] == [] and recorder["train"] == []


def test_dataset_spec_overrides_only_what_is_given() -> None:
    for key, spec in dt.DATASETS.items():
        assert dt.dataset_spec(key) == spec
        got = dt.dataset_spec(key, "independent", 123)
        assert got["world"] == "independent" and got["n"] == 123
        assert {k: v for k, v in got.items() if k not in ("world", "n")} == {
            k: v for k, v in spec.items() if k not in ("world", "n")}
    assert dt.DATASETS["faces"]["world"] == dt.DEFAULT_WORLD  # not mutated


def test_command_records_non_default_options() -> None:
    root = Path("runs/x")
    assert shlex.split(dt._command("generator", root)) == [
        "python", "-m", "biaslens.defaults_train", "generator", "--root", "runs/x"]
    assert shlex.split(dt._command("generator", root, "celeba"))[-2:] == ["--root", "runs/x"]
    argv = shlex.split(dt._command("generator", root, "independent", 20000))
    assert argv[-4:] == ["--world", "independent", "--n-faces", "20000"]


def test_make_data_refuses_a_cache_of_another_world(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete cache is reused only when its world and face count match the spec."""
    import biaslens.world.synth as synth

    monkeypatch.setitem(dt.DATASETS, "faces", {**dt.DATASETS["faces"], "size": 16})
    rendered = []
    real = synth.synthesize_cache

    def spy(*args, **kwargs):
        rendered.append(args[:2])
        return real(*args, **{**kwargs, "workers": 1})

    monkeypatch.setattr(synth, "synthesize_cache", spy)
    out = dt.make_data("faces", tmp_path, world="independent", n_faces=12)
    assert rendered == [("independent", 12)]
    assert dt.make_data("faces", tmp_path, world="independent", n_faces=12) == out
    assert len(rendered) == 1                       # reused, not re-rendered
    with pytest.raises(DataError, match="independent") as exc:
        dt.make_data("faces", tmp_path)             # the recipe's celeba/30000
    assert str(out) in str(exc.value)
    with pytest.raises(DataError, match="12 faces"):
        dt.make_data("faces", tmp_path, world="independent", n_faces=13)


@pytest.mark.parametrize("extra, shipped", [([], True), (["--world", "independent"], False)])
def test_generator_grid_goes_to_root_unless_shipping(recorder, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     extra: list[str], shipped: bool) -> None:
    """Only the shipping call loads the shipped generator and writes the docs grid."""
    import biaslens.models

    loaded, grids = [], []
    monkeypatch.setattr(biaslens.models, "load_checkpoint",
                        lambda path, **kw: (loaded.append(Path(path)), None))
    monkeypatch.setattr(dt, "save_generated_grid", lambda gen, path: grids.append(path) or path)
    docs_grid = tmp_path / "docs_grid.png"
    dt.main(["generator", "--root", str(tmp_path), "--grid", str(docs_grid), *extra])
    if shipped:
        assert loaded == [dt.RESOURCE_MODELS / "generator"] and grids == [docs_grid]
    else:
        folder = dt.RECIPES["generator"].model_folder          # generator_ema: the average
        assert loaded == [tmp_path / "run-generator" / "checkpoints" / "latest" / folder]
        assert grids == [tmp_path / "generated_grid.png"]
