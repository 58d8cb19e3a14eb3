"""Counterfactual audit of a CVAE on 3 disjoint thirds of the held-out test split
(docs/validation.md §4).

Usage: .venv/bin/python scripts/validation/counterfactual_cvae.py CVAE CACHE OUT_JSON [PNG]
  CVAE   checkpoint folder (src/biaslens/resources/models/cvae for the shipped one)
  CACHE  the default training cache (runs/defaults/synth64); its test split (3,000 faces,
         never seen in training) is cut into 3 seeded thirds of 1,000
  PNG    optional: the first third's before/after picture (rows: original | recon |
         decoder flip | encoder flip | ×2)
Judge: the shipped classifier. Prints per third the requested-label rates (overall and per
direction) and the "what else changes" ranking; writes every result's JSON to OUT_JSON.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

from biaslens.audit.counterfactual import counterfactual_audit
from biaslens.data.cache import load_cache
from biaslens.defaults import load_default
from biaslens.models import load_checkpoint
from biaslens.train.images import save_image


def main(cvae_path: str, cache_path: str, out_json: str, png: str | None = None) -> None:
    torch.set_num_threads(1)
    cvae, _ = load_checkpoint(cvae_path)
    clf = load_default("classifier")
    cache = load_cache(cache_path)
    test = np.flatnonzero(cache.split == 2)
    results = []
    for k, rows in enumerate(np.array_split(np.random.default_rng(0).permutation(test), 3)):
        rows = np.sort(rows)
        r = counterfactual_audit(cvae.eval(), clf, np.asarray(cache.images[rows]),
                                 cache.attrs[rows], cache.attribute_names, n=len(rows),
                                 seed=k, n_boot=1000, precision="fp32", device="cpu", n_show=8)
        d = r.to_dict()
        results.append(d)
        v = d["variants"]
        print(f"third {k} (n={r.n})")
        for name, x in v.items():
            by_dir = {dd: [round(c, 3) for c in t] for dd, t in x["to_target_by_direction"].items()}
            print(f"  {name}: to_target {x['to_target']:.3f} {x['to_target_ci']} by direction "
                  f"{by_dir} changed vs recon {x['flip_vs_recon']:.3f}")
        for dd, shifts in d["what_else_changes"].items():
            print(f"  {dd}: " + ", ".join(
                f"{s['name']} {s['logit_shift']:+.2f} [{s['ci_low']:+.2f}, {s['ci_high']:+.2f}]"
                f" ({s['prevalence_shift']:+.2f})" for s in shifts[:8]))
        if k == 0 and png:
            save_image(r.pairs.reshape(-1, *r.pairs.shape[2:]), png, nrow=5)
    with open(out_json, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:5])
