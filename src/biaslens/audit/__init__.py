"""The audits: pure functions of models and data that return result dataclasses.

Each audit takes tensors, arrays or models and returns a result with ``to_dict()``; none
reads files, prints or plots (``biaslens.report`` renders, ``biaslens.pipelines``
resolves the inputs).

>>> from biaslens.audit import SteerOptions, steer_audit
>>> SteerOptions(steps=5).steps
5

The names load lazily (PEP 562), so ``from biaslens.audit import dataset_stats`` does not
import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names by the submodule that defines them.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "steer": ("RankedAttribute", "SteerHistory", "SteerOptions", "SteerResult",
              "SteerStatistics", "covariance_ranking", "covariance_statistics", "steer_audit",
              "steer_history", "steering_objective", "steering_score"),
    "steer_reference": ("DataComparison", "compare_with_data"),
    "truth": ("TruthRow", "TruthScore", "score_steering"),
    "population": ("PopulationResult", "population_audit"),
    "reconstruct": ("ReconstructResult", "reconstruct_audit"),
    "counterfactual": ("CounterfactualResult", "counterfactual_audit"),
    "fairness": ("FairnessReport", "fairness_report"),
    "dataset": ("DatasetStats", "dataset_stats"),
    "frame": ("GroupFrame",),
    "ramaswamy": ("RamaswamyReport", "ramaswamy_metrics"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
