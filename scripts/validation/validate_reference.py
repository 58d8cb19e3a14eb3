"""Steering audit + data comparison scored against a world's truth (docs/validation.md).

Usage: .venv/bin/python scripts/validation/validate_reference.py WORLD ROOT TARGET SEEDS...
  WORLD  world preset the models were trained on (celeba | independent)
  ROOT   folder with run-generator/ and run-classifier/ (runs/independent), or "shipped"
         (the shipped models), or "shipped:GEN" (generator checkpoint GEN, shipped classifier)
Reference: 2,000 training-split images of ROOT/synth64 (or, for "shipped", 2,000 rendered
faces of the celeba world). Prints one line per seed and writes ROOT/validation_reference.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from biaslens.audit.steer import steer_audit
from biaslens.audit.truth import score_steering
from biaslens.data.cache import load_cache
from biaslens.data.reference import load_reference
from biaslens.defaults import load_default
from biaslens.defaults.recipes import RECIPES
from biaslens.models import load_checkpoint
from biaslens.world import World
from biaslens.world.render import RENDERED_ATTRIBUTES

torch.set_num_threads(1)
world, root, target = sys.argv[1], sys.argv[2], sys.argv[3]
seeds = [int(s) for s in sys.argv[4:]] or [0]
if root == "shipped" or root.startswith("shipped:"):
    # "shipped:GEN" scores another generator checkpoint with the shipped classifier
    gen_path = root.partition(":")[2]
    gen = load_checkpoint(gen_path)[0] if gen_path else load_default("generator")
    clf = load_default("classifier")
    ref = load_reference(f"world:{world}", n=2000, seed=1)
    ref_images = ref.images
    out_path = (Path(gen_path).with_suffix(".validation_reference.json") if gen_path
                else Path("runs/validation_reference_shipped.json"))
else:
    latest = Path(root) / "run-generator/checkpoints/latest"
    folder = RECIPES["generator"].model_folder            # generator_ema: the weight average
    gen, _ = load_checkpoint(latest / (folder if (latest / folder).is_dir() else "generator"))
    clf, _ = load_checkpoint(Path(root) / "run-classifier/checkpoints/latest/classifier")
    cache = load_cache(Path(root) / "synth64")
    rows = np.flatnonzero(np.asarray(cache.split) == 0)
    pick = np.sort(np.random.default_rng(1).choice(rows, 2000, replace=False))
    ref_images, out_path = np.asarray(cache.images[pick]), Path(root) / "validation_reference.json"
names = list(clf.attribute_names)
truth = World.preset(world).truth(target)
others = [a for a in RENDERED_ATTRIBUTES if a != target.lstrip("-")]
oi = np.array([names.index(a) for a in others])
report = {"world": world, "root": root, "target": target, "attributes": others, "seeds": {}}
for seed in seeds:
    r = steer_audit(gen, clf, target, n_samples=128, steps=20, accumulate_grad=True,
                    n_boot=500, seed=seed, reference=ref_images,
                    reference_name="training images")
    score = score_steering(r, truth)
    sig, beyond = r.significant[oi], r.data.beyond_data[oi]
    backed = sig & ~beyond
    tphi = np.array([truth.phi[list(truth.names).index(a)] for a in others])
    wrong_backed = [a for a, b, m, t in zip(others, backed, r.correlation[oi], tphi)
                    if b and np.sign(m) != np.sign(t)]
    rec = {"n": len(others), "co_moving": int(sig.sum()), "beyond_data": int(beyond.sum()),
           "data_backed": int(backed.sum()), "spearman": score.spearman,
           "top5_in_top10": score.top_true_in_measured,
           "top5_in_table_top10": score.top_true_in_table, "wrong_signs": score.wrong_signs,
           "wrong_signs_data_backed": wrong_backed,
           "beyond_list": [a for a, b in zip(others, beyond) if b],
           "backed_list": [a for a, b in zip(others, backed) if b],
           "slopes": {a: [float(r.data.path_slope[names.index(a)]),
                          float(r.data.data_slope[names.index(a)])] for a in others}}
    report["seeds"][seed] = rec
    print(f"{world} seed {seed}: co-moving {rec['co_moving']}/{len(others)}, beyond data "
          f"{rec['beyond_data']}, data-backed {rec['data_backed']} {rec['backed_list']}; "
          f"spearman {score.spearman:.2f}, top5 {score.top_true_in_measured} (in the covariance "
          f"table: {score.top_true_in_table}), wrong signs "
          f"{score.wrong_signs} (data-backed: {wrong_backed})", flush=True)
out_path.write_text(json.dumps(report, indent=1))
