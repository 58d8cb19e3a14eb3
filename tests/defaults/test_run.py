"""Tests for running the default recipes (biaslens.defaults.run): the steps, the keywords
each recipe trains with, and the plan that ``--dry-run`` prints (nothing is trained)."""

from __future__ import annotations

import json
from pathlib import Path

from biaslens.defaults import RESOURCE_MODELS
from biaslens.defaults.recipes import RECIPES, STEPS
from biaslens.defaults.run import expand_steps, plan, train_call


def test_all_is_data_then_every_recipe_in_order() -> None:
    assert expand_steps(["all"]) == ["data", *RECIPES]
    assert expand_steps(["generator", "grid"]) == ["generator", "grid"]
    assert expand_steps(["grid", "all"]) == ["data", *RECIPES]       # all stands alone
    assert set(STEPS) == {"all", "data", "grid", *RECIPES}


def test_train_call_is_the_recipe_plus_run_folders(tmp_path: Path) -> None:
    call = train_call("cvae", tmp_path)
    assert call["data"] == tmp_path / "synth64" and call["out"] == tmp_path / "run-cvae"
    assert call["device"] == "cpu" and call["resume"] is False
    assert {k: call[k] for k in RECIPES["cvae"].kwargs} == RECIPES["cvae"].kwargs
    (tmp_path / "run-cvae" / "checkpoints" / "latest").mkdir(parents=True)
    assert train_call("cvae", tmp_path)["resume"] is True      # an existing run continues


def test_plan_resolves_every_step_without_touching_disk(tmp_path: Path) -> None:
    root = tmp_path / "never"
    got = plan(["data", *RECIPES, "grid"], root, world="independent", n_faces=200)
    json.dumps(got)                                             # printable as JSON
    assert not root.exists()
    assert got["shipping"] is False and got["world"] == "independent"
    steps = {s["step"]: s for s in got["steps"]}
    assert steps["data"]["caches"]["faces"]["n"] == 200
    gen = steps["generator"]
    assert gen["ship"] is None and gen["quality"] == str(root / "run-generator" / "quality.json")
    assert gen["train"]["kwargs"]["command"].endswith("--world independent --n-faces 200")
    assert steps["grid"]["png"] == str(root / "generated_grid.png")


def test_plan_of_the_default_call_ships_and_evaluate_only_does_not(tmp_path: Path) -> None:
    shipped = plan(["vae"], tmp_path)
    assert shipped["shipping"] and shipped["steps"][0]["ship"] == str(RESOURCE_MODELS / "vae")
    only = plan(["vae"], tmp_path, train_models=False, ship_models=False)
    assert only["steps"][0]["train"] is None and only["steps"][0]["ship"] is None
