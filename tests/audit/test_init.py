"""The public face of ``biaslens.audit``."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import biaslens.audit


def test_the_documented_names_import():
    from biaslens.audit import (  # noqa: F401
        CounterfactualResult,
        DatasetStats,
        FairnessReport,
        PopulationResult,
        ReconstructResult,
        SteerOptions,
        SteerResult,
        counterfactual_audit,
        dataset_stats,
        fairness_report,
        population_audit,
        reconstruct_audit,
        score_steering,
        steer_audit,
    )


@pytest.mark.parametrize("name", biaslens.audit.__all__)
def test_every_listed_name_is_its_home_modules_object(name):
    value = getattr(biaslens.audit, name)
    home = importlib.import_module(value.__module__)
    assert getattr(home, name) is value
    assert name in dir(biaslens.audit)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'steer_audi'"):
        biaslens.audit.steer_audi  # noqa: B018
    with pytest.raises(ImportError):
        from biaslens.audit import nothing_here  # noqa: F401


def test_importing_the_package_loads_no_audit_and_no_torch():
    code = ("import sys, biaslens.audit; "
            "print(sorted(m for m in sys.modules if m.startswith('biaslens.audit.')), "
            "'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[] False"
