"""Why Pale_Skin gets the wrong sign: the logit scale of a saturated head (docs/validation.md).

Usage: .venv/bin/python scripts/validation/logit_scale.py [SEEDS...]
1. The shipped classifier's Pale_Skin head on 6,000 fresh faces of the celeba world, by sex:
   positive rate, TPR, FPR and the mean logit of pale and non-pale faces.
2. The shipped models' -Male steering audit (the demo's settings) scored against the truth
   with the other attributes' changes read on three scales: logits (the audit's, the
   course's), probabilities (sigmoid), and the target's logit with the others' probabilities.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import torch

from biaslens.audit.steer import covariance_statistics, steer_audit
from biaslens.audit.truth import score_steering
from biaslens.defaults import load_default
from biaslens.defaults.evaluate import classifier_logits
from biaslens.world import World
from biaslens.world.render import render_faces

torch.set_num_threads(1)
seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
gen, clf = load_default("generator"), load_default("classifier")
cn = list(clf.attribute_names)
world = World.preset("celeba")

sample = world.sample(6000, seed=7)
names, attrs = list(sample.attribute_names), sample.attrs
logits = classifier_logits(clf, render_faces(attrs, sample.skin_tone, seed=7, size=64))
male, pale = attrs[:, names.index("Male")], attrs[:, names.index("Pale_Skin")]
lp = logits[:, cn.index("Pale_Skin")]
print(f"label phi(Pale_Skin, -Male) {np.corrcoef(pale, ~male)[0, 1]:+.3f}; "
      f"logit corr(Pale_Skin, -Male logit) "
      f"{np.corrcoef(lp, -logits[:, cn.index('Male')])[0, 1]:+.3f}")
for who, g in (("women", ~male), ("men", male)):
    print(f"  {who}: n {g.sum()}, pale {pale[g].mean():.3f}, TPR {(lp[g & pale] > 0).mean():.3f}, "
          f"FPR {(lp[g & ~pale] > 0).mean():.4f}, mean logit pale {lp[g & pale].mean():+.2f}, "
          f"not pale {lp[g & ~pale].mean():+.2f}")

truth = world.truth("-Male")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


for seed in seeds:
    r = steer_audit(gen, clf, "-Male", n_samples=128, steps=20, accumulate_grad=True,
                    n_boot=500, seed=seed)
    h, h0, t = r.history.astype(np.float64), r.initial[None].astype(np.float64), r.target_index
    for scale in ("logit", "probability", "target logit, others probability"):
        d = h - h0 if scale == "logit" else sigmoid(h) - sigmoid(h0)
        if scale.startswith("target"):
            d[..., t] = (h - h0)[..., t]
        st = covariance_statistics(d, t, r.sign, n_boot=500, fdr=0.05, seed=seed, test="t")
        s = score_steering(SimpleNamespace(
            target=r.target, target_index=t, attribute_names=r.attribute_names,
            correlation=st.correlation, corr_ci_low=st.corr_ci_low,
            corr_ci_high=st.corr_ci_high, significant=st.significant,
            covariance=st.covariance), truth)
        print(f"seed {seed}, {scale}: Spearman {s.spearman:.2f}, true top-5 in the top 10 by "
              f"|corr| {s.top_true_in_measured} (missing {sorted(set(s.true_top) - set(s.measured_top))}), "
              f"by |cov| {s.top_true_in_table}, significant {s.n_significant}, wrong signs "
              f"{s.wrong_signs}", flush=True)
