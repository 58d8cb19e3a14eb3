"""``biaslens models defaults train|evaluate``: the options (--world, --n-faces,
--no-ship, --ship, --dry-run); the default call still ships, any other world never does.

Training and evaluation are replaced by recorders, so nothing is trained or shipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biaslens.cli.main import app
from biaslens.defaults import RESOURCE_MODELS, data, evaluate, run, ship
from biaslens.defaults.recipes import DATASETS, RECIPES

runner = CliRunner()
CMD = ["models", "defaults"]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replace make_data/train/evaluate_run/ship by recorders (and the grid by a no-op)."""
    calls: dict[str, list] = {"make_data": [], "train": [], "evaluate": [], "ship": []}

    def make_data(key, root, *, world=None, n_faces=None):
        calls["make_data"].append((key, world, n_faces))
        return Path(root) / DATASETS[key]["folder"]

    def train(name, root, *, log=print, world=None, n_faces=None):
        calls["train"].append((name, world, n_faces))
        (Path(root) / f"run-{name}").mkdir(parents=True, exist_ok=True)
        return Path(root) / f"run-{name}"

    def evaluate_run(name, root):
        calls["evaluate"].append(name)
        (Path(root) / f"run-{name}").mkdir(parents=True, exist_ok=True)
        return {"mean_auc_rendered": 0.5, "auc": {"Male": 0.5}}

    def ship_fn(name, root, quality, dest=RESOURCE_MODELS, *, world=None, n_faces=None):
        calls["ship"].append((name, world, n_faces))
        return Path("shipped") / name

    monkeypatch.setattr(data, "make_data", make_data)
    monkeypatch.setattr(run, "train", train)
    monkeypatch.setattr(evaluate, "evaluate_run", evaluate_run)
    monkeypatch.setattr(ship, "ship", ship_fn)
    return calls


def invoke(*args: str) -> None:
    res = runner.invoke(app, [*CMD, *args])
    assert res.exit_code == 0, res.output


def test_default_call_ships(recorder, tmp_path: Path) -> None:
    invoke("train", "classifier", "--root", str(tmp_path))
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
    invoke("train", "classifier", "--root", str(tmp_path), *extra)
    assert recorder["make_data"] == [("faces", world, n_faces)]
    assert recorder["train"] == [("classifier", world, n_faces)]
    assert recorder["ship"] == []
    quality = json.loads((tmp_path / "run-classifier" / "quality.json").read_text())
    assert quality["mean_auc_rendered"] == 0.5


def test_evaluate_only_evaluates(recorder, tmp_path: Path) -> None:
    invoke("evaluate", "classifier", "--root", str(tmp_path))
    assert recorder["train"] == [] and recorder["evaluate"] == ["classifier"]
    assert recorder["ship"] == []


def test_ship_evaluates_and_ships_without_training(recorder, tmp_path: Path) -> None:
    invoke("evaluate", "classifier", "--root", str(tmp_path), "--ship")
    assert recorder["train"] == [] and recorder["evaluate"] == ["classifier"]
    assert recorder["ship"] == [("classifier", None, None)]


@pytest.mark.parametrize("option, value", [("--world", "no-such-world"), ("--n-faces", "3")])
def test_bad_options_exit_2(recorder, option: str, value: str) -> None:
    res = runner.invoke(app, [*CMD, "train", "classifier", option, value])
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert any(option in line and value in line for line in lines)  # one line naming both
    assert recorder["make_data"] == [] and recorder["train"] == []


def test_unknown_step_exit_2(recorder) -> None:
    res = runner.invoke(app, [*CMD, "train", "gan"])
    assert res.exit_code == 2 and "'gan' is not a step" in res.stderr
    assert recorder["make_data"] == []


def test_dry_run_prints_the_resolved_recipes_and_trains_nothing(recorder, tmp_path) -> None:
    res = runner.invoke(app, [*CMD, "train", "all", "--root", str(tmp_path / "r"),
                              "--dry-run"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert [s["step"] for s in shown["steps"]] == ["data", *RECIPES]
    vae = shown["steps"][3]
    assert vae["train"]["function"] == "biaslens.train.train_vae"
    assert vae["train"]["kwargs"]["steps"] == RECIPES["vae"].kwargs["steps"]
    assert shown["shipping"] and vae["ship"] == str(RESOURCE_MODELS / "vae")
    assert all(not v for v in recorder.values())
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("extra, shipped", [([], True), (["--world", "independent"], False)])
def test_generator_grid_goes_to_root_unless_shipping(recorder, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     extra: list[str], shipped: bool) -> None:
    """Only the shipping call loads the shipped generator and writes the docs grid."""
    import biaslens.models

    loaded, grids = [], []
    monkeypatch.setattr(biaslens.models, "load_checkpoint",
                        lambda path, **kw: (loaded.append(Path(path)), None))
    monkeypatch.setattr(ship, "save_generated_grid", lambda gen, path: grids.append(path) or path)
    docs_grid = tmp_path / "docs_grid.png"
    invoke("train", "generator", "--root", str(tmp_path), "--grid", str(docs_grid), *extra)
    if shipped:
        assert loaded == [RESOURCE_MODELS / "generator"] and grids == [docs_grid]
    else:
        folder = RECIPES["generator"].model_folder          # generator_ema: the average
        assert loaded == [tmp_path / "run-generator" / "checkpoints" / "latest" / folder]
        assert grids == [tmp_path / "generated_grid.png"]
