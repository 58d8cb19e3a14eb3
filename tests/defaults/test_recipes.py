"""Tests for the recipes of the default models (biaslens.defaults.recipes)."""

from __future__ import annotations

import shlex
from pathlib import Path

from biaslens.defaults.recipes import (
    DATASETS,
    DEFAULT_WORLD,
    dataset_spec,
    train_command,
)


def test_dataset_spec_overrides_only_what_is_given() -> None:
    for key, spec in DATASETS.items():
        assert dataset_spec(key) == spec
        got = dataset_spec(key, "independent", 123)
        assert got["world"] == "independent" and got["n"] == 123
        assert {k: v for k, v in got.items() if k not in ("world", "n")} == {
            k: v for k, v in spec.items() if k not in ("world", "n")}
    assert DATASETS["faces"]["world"] == DEFAULT_WORLD  # not mutated


def test_command_records_non_default_options() -> None:
    root = Path("runs/x")
    assert shlex.split(train_command("generator", root)) == [
        "biaslens", "models", "defaults", "train", "generator", "--root", "runs/x"]
    assert shlex.split(train_command("generator", root, "celeba"))[-2:] == ["--root", "runs/x"]
    argv = shlex.split(train_command("generator", root, "independent", 20000))
    assert argv[-4:] == ["--world", "independent", "--n-faces", "20000"]
