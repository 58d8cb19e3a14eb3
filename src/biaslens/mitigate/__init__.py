"""Bias mitigations: DB-VAE adaptive resampling and latent-space augmentation.

* :mod:`biaslens.mitigate.latent` — pure geometry: hyperplanes, complementary ``z'``.
* :mod:`biaslens.mitigate.latent_aug` — :class:`LatentAugmentation` estimator and the
  baseline-vs-augmented pipeline (Ramaswamy, Kim & Russakovsky, CVPR 2021).
* :mod:`biaslens.mitigate.dbvae_experiment` — DB-VAE vs standard CNN face detection, per group.
* :mod:`biaslens.mitigate.evaluate` — per-group detection with paired bootstrap CIs.
* :mod:`biaslens.mitigate.world_generator` — a generator with known latent hyperplanes.

The run folders of ``biaslens mitigate …`` (default world, models for their roles, JSON)
are built by :mod:`biaslens.pipelines.mitigation`. See docs/mitigation.md.
"""

from biaslens.mitigate.evaluate import (
    DetectionComparison,
    DetectorGroups,
    compare_detectors,
)
from biaslens.mitigate.latent import (
    Hyperplanes,
    NearParallelError,
    NearParallelWarning,
    complementary_z,
    complementary_z_domain,
    complementary_z_multi,
    f1_threshold,
    fit_hyperplanes,
    least_norm_shift,
)
from biaslens.mitigate.latent_aug import (
    CATEGORIES,
    LatentAugmentation,
    LatentAugOptions,
    LatentAugResult,
    LatentPairs,
    run_latent_aug,
    summarize_by_category,
)
from biaslens.mitigate.world_generator import WorldGenerator

__all__ = [
    "CATEGORIES", "DetectionComparison", "DetectorGroups", "Hyperplanes", "LatentAugOptions",
    "LatentAugResult", "LatentAugmentation", "LatentPairs", "NearParallelError",
    "NearParallelWarning", "WorldGenerator", "compare_detectors", "complementary_z",
    "complementary_z_domain", "complementary_z_multi", "f1_threshold", "fit_hyperplanes",
    "least_norm_shift", "run_latent_aug", "summarize_by_category",
]
