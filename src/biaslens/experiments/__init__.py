"""Multi-run experiments composed from the library (synthesize → train → audit)."""

from biaslens.experiments.ratio_sweep import RatioSweepResult, RatioSweepRow, ratio_sweep

__all__ = ["RatioSweepResult", "RatioSweepRow", "ratio_sweep"]
