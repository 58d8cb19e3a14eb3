"""biaslens.precision: resolving ``auto | fp32 | bf16`` and the autocast it implies."""

from __future__ import annotations

import pytest
import torch

from biaslens import precision
from biaslens.errors import BiasLensError
from biaslens.precision import PRECISIONS, autocast, cpu_has_bf16, resolve_precision


def test_explicit_precisions_pass_through():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert set(PRECISIONS) == {"auto", "fp32", "bf16"}


def test_unknown_precision_names_the_valid_ones():
    with pytest.raises(BiasLensError, match="auto, fp32, bf16"):
        resolve_precision("fp16", "cpu")


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_on_cpu_follows_the_bf16_units(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: has_bf16)
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("auto", torch.device("cpu")) == expected


def test_auto_on_other_devices_is_fp32():
    assert resolve_precision("auto", "meta") == "fp32"


def test_cpu_has_bf16_is_a_cached_bool():
    assert isinstance(cpu_has_bf16(), bool)
    assert cpu_has_bf16() is cpu_has_bf16()


def test_autocast_bf16_runs_matmuls_in_bf16_and_fp32_is_a_no_op():
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with autocast("cpu", "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with autocast("cpu", "fp32"):
        assert (a @ b).dtype == torch.float32
    assert (a @ b).dtype == torch.float32  # nothing leaks out of the context


def test_autocast_auto_without_bf16_units_is_fp32(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    with autocast("cpu", "auto"):
        assert (torch.randn(2, 2) @ torch.randn(2, 2)).dtype == torch.float32
