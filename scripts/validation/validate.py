"""Independent-world validation of the steering audit (docs/validation.md).

Usage: .venv/bin/python scripts/validation/validate.py [ROOT] [SEEDS...]
Writes ROOT/validation.json and prints the tables used in docs/validation.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from biaslens.audit.steer import steer_audit
from biaslens.audit.truth import score_steering
from biaslens.data.cache import load_cache
from biaslens.defaults.evaluate import classifier_logits, generate
from biaslens.defaults.recipes import RECIPES
from biaslens.models import load_checkpoint
from biaslens.stats import wilson_ci
from biaslens.world import World
from biaslens.world.render import RENDERED_ATTRIBUTES

torch.set_num_threads(1)
root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/independent")
seeds = [int(s) for s in sys.argv[2:]] or [0]
latest = root / "run-generator/checkpoints/latest"
folder = RECIPES["generator"].model_folder                # generator_ema: the weight average
gen, _ = load_checkpoint(latest / (folder if (latest / folder).is_dir() else "generator"))
clf, _ = load_checkpoint(root / "run-classifier/checkpoints/latest/classifier")
names = list(clf.attribute_names)
truth = World.preset("independent").truth("Male")
others = [a for a in RENDERED_ATTRIBUTES if a != "Male"]
oi = np.array([names.index(a) for a in others])
ti = np.array([list(truth.names).index(a) for a in others])
m = names.index("Male")
out: dict = {"attributes": others, "true_phi": truth.phi[ti].tolist(), "audits": {}}


def phi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Phi (Pearson) correlation of bool column y (n,) with each bool column of x (n, k)."""
    x, y = x.astype(float), y.astype(float)[:, None]
    xc, yc = x - x.mean(0), y - y.mean(0)
    return (xc * yc).sum(0) / np.sqrt((xc ** 2).sum(0) * (yc ** 2).sum(0) + 1e-300)


# 1. steering audits (the demo's settings), scored against the independent world's truth
for seed in seeds:
    t0 = time.perf_counter()
    r = steer_audit(gen, clf, "Male", n_samples=128, steps=20, accumulate_grad=True,
                    n_boot=500, seed=seed)
    score = score_steering(r, truth)
    sig = np.asarray(r.significant)[oi]
    flagged = [{"attribute": a, "corr": float(r.correlation[names.index(a)]),
                "ci": [float(r.corr_ci_low[names.index(a)]), float(r.corr_ci_high[names.index(a)])],
                "q": float(r.q_values[names.index(a)]), "true_phi": float(truth.phi[t])}
               for a, s, t in zip(others, sig, ti) if s]
    out["audits"][seed] = {"n_flagged": int(sig.sum()), "n_tested": len(others),
                           "fraction": float(sig.mean()), "flagged": flagged,
                           "correlation": np.asarray(r.correlation)[oi].tolist(),
                           "score": score.to_dict(), "elapsed_s": time.perf_counter() - t0}
    print(f"seed {seed}: {int(sig.sum())}/{len(others)} flagged ({sig.mean():.3f}), "
          f"Spearman {score.spearman:.3f}, {time.perf_counter() - t0:.0f}s")
    for f in sorted(flagged, key=lambda f: -abs(f["corr"])):
        print(f"   {f['attribute']:20s} corr {f['corr']:+.3f} [{f['ci'][0]:+.3f}, "
              f"{f['ci'][1]:+.3f}] q {f['q']:.2g} true phi {f['true_phi']:+.4f}")

# 2. the classifier on real independent-world test faces: does it read Male as attr?
cache = load_cache(root / "synth64")
test = np.flatnonzero(cache.split == 2)
labels = np.asarray(cache.attrs[test])
cn = list(cache.attribute_names)
pred = classifier_logits(clf, np.asarray(cache.images[test])) > 0
male = labels[:, cn.index("Male")]
lab = labels[:, [cn.index(a) for a in others]]
prd = pred[:, oi]
k1, n1 = prd[male].sum(0), male.sum()
k0, n0 = prd[~male].sum(0), (~male).sum()
lo1, hi1 = wilson_ci(k1, n1)
lo0, hi0 = wilson_ci(k0, n0)
# given the TRUE attribute label, does Male still move the prediction? (false-positive and
# true-positive rates split by Male)
fpr = [(prd[~lab[:, j] & male, j].mean(), prd[~lab[:, j] & ~male, j].mean())
       for j in range(len(others))]
tpr = [(prd[lab[:, j] & male, j].mean() if (lab[:, j] & male).any() else np.nan,
        prd[lab[:, j] & ~male, j].mean() if (lab[:, j] & ~male).any() else np.nan)
       for j in range(len(others))]
# 3. the generator: phi(pred attr, pred Male) on generated faces
fake_pred = classifier_logits(clf, generate(gen, 10_000, seed=0)) > 0
out["classifier_real"] = {
    "n": int(len(test)), "n_male": int(n1), "n_not_male": int(n0),
    "p_pred_given_male": (k1 / n1).tolist(), "p_pred_given_not_male": (k0 / n0).tolist(),
    "ci_male": [lo1.tolist(), hi1.tolist()], "ci_not_male": [lo0.tolist(), hi0.tolist()],
    "p_label_given_male": lab[male].mean(0).tolist(),
    "p_label_given_not_male": lab[~male].mean(0).tolist(),
    "phi_label_label": phi(lab, male).tolist(),
    "phi_pred_pred": phi(prd, pred[:, m]).tolist(),
    "phi_pred_label": phi(prd, male).tolist(),
    "fpr_male_vs_not": [list(map(float, x)) for x in fpr],
    "tpr_male_vs_not": [list(map(float, x)) for x in tpr],
}
out["generated"] = {"n": 10_000, "male_rate": float(fake_pred[:, m].mean()),
                    "phi_pred_pred": phi(fake_pred[:, oi], fake_pred[:, m]).tolist(),
                    "rate": fake_pred[:, oi].mean(0).tolist()}
(root / "validation.json").write_text(json.dumps(out, indent=1, default=float))

c, g = out["classifier_real"], out["generated"]
print(f"\nreal test faces: {c['n']} ({c['n_male']} Male); generated: Male rate {g['male_rate']:.3f}")
hdr = ("attribute", "true phi", "steer corr s0", "P(pred|M)", "P(pred|notM)", "phi lab",
       "phi pred(real)", "FPR M/notM", "TPR M/notM", "phi pred(gen)")
print(" | ".join(hdr))
corr0 = out["audits"][seeds[0]]["correlation"]
for j, a in enumerate(others):
    print(f"{a} | {out['true_phi'][j]:+.4f} | {corr0[j]:+.3f} | {c['p_pred_given_male'][j]:.3f} | "
          f"{c['p_pred_given_not_male'][j]:.3f} | {c['phi_label_label'][j]:+.3f} | "
          f"{c['phi_pred_pred'][j]:+.3f} | {fpr[j][0]:.3f}/{fpr[j][1]:.3f} | "
          f"{tpr[j][0]:.3f}/{tpr[j][1]:.3f} | {g['phi_pred_pred'][j]:+.3f}")
