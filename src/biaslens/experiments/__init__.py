"""Multi-run experiments composed from the library (synthesize → train → audit)."""

from biaslens.experiments.ratio_sweep import (
    RatioSweepOptions,
    RatioSweepResult,
    RatioSweepRow,
    ratio_sweep,
)

__all__ = ["RatioSweepOptions", "RatioSweepResult", "RatioSweepRow", "ratio_sweep"]
