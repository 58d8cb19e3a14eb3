"""Reconstruction gap of the shipped VAE per gender × skin type (docs/validation.md §3).

Usage: .venv/bin/python scripts/validation/reconstruct_gap.py CACHE PER_GROUP[,PER_GROUP...]
  CACHE  a balanced-world cache, e.g. ``biaslens data synth --world balanced --n 8000
         --seed 7 --out runs/bal8k`` (all its rows are used)
Prints one line per (per_group, seed 0/1/2): Male kept per group, the best − worst gap with
its simultaneous CI, the MSE gap, and whether each is decided.
"""

from __future__ import annotations

import sys
import time

import torch

from biaslens.data.cache import load_cache
from biaslens.defaults import load_default
from biaslens.pipelines.reconstruct import reconstruct_on_cache


def main(cache_path: str, per_groups: str) -> None:
    torch.set_num_threads(1)
    cache = load_cache(cache_path)
    vae, clf = load_default("vae"), load_default("classifier")
    for pg in [int(x) for x in per_groups.split(",")]:
        for seed in (0, 1, 2):
            t = time.time()
            r = reconstruct_on_cache(vae, clf, cache, split="all", per_group=pg, seed=seed,
                                     precision="fp32", n_boot=1000).result
            kept = [round(float(x), 3) for x in r.preserved["Male"]]
            print(f"per_group {pg} seed {seed} ({time.time() - t:.0f} s) n {r.n.tolist()} "
                  f"groups {r.group_labels} kept {kept} "
                  f"gap {r.preservation_gap['Male']:.3f} "
                  f"[{r.preservation_gap_ci['Male'][0]:.3f}, {r.preservation_gap_ci['Male'][1]:.3f}]"
                  f" {r.preservation_gap_groups['Male']} mse gap {r.mse_gap:.5f} "
                  f"[{r.mse_gap_ci[0]:.5f}, {r.mse_gap_ci[1]:.5f}] decided {r.decided}",
                  flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
