"""Control: steer REAL independent-world test faces in pixel space along the classifier's
Male gradient (no generator) and run the same covariance test (docs/validation.md)."""
import json, sys
from pathlib import Path
import numpy as np
import torch
from biaslens.audit.steer import covariance_statistics, steer_audit
from biaslens.data.cache import load_cache
from biaslens.tensors import to_model_pixels
from biaslens.models import load_checkpoint
from biaslens.world.render import RENDERED_ATTRIBUTES

torch.set_num_threads(1)
root = Path("runs/independent")
clf, _ = load_checkpoint(root / "run-classifier/checkpoints/latest/classifier")
gen, _ = load_checkpoint(root / "run-generator/checkpoints/latest/generator")
for p in clf.parameters():
    p.requires_grad_(False)
names = list(clf.attribute_names); m = names.index("Male")
others = [a for a in RENDERED_ATTRIBUTES if a != "Male"]; oi = [names.index(a) for a in others]
cache = load_cache(root / "synth64")
test = np.flatnonzero(cache.split == 2)[:128]
x0 = to_model_pixels(np.asarray(cache.images[test]))
K, alpha = 20, float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
with torch.no_grad():
    l0 = clf(x0).numpy()
hist = []
for sgn in (1.0, -1.0):
    x = x0.clone()
    for _ in range(K):
        x.requires_grad_(True)
        g, = torch.autograd.grad(clf(x)[:, m].sum(), x)
        with torch.no_grad():
            x = (x + sgn * alpha * g / g.flatten(1).norm(dim=1).view(-1, 1, 1, 1)).clamp(-1, 1)
            hist.append(clf(x).numpy())
d = np.stack(hist) - l0[None]
st = covariance_statistics(d, m, 1, n_boot=500, seed=0)
sig = st.significant[oi]
print(f"pixel-space steering of 128 real faces, step {alpha} (L2), {K} steps x 2 directions")
print(f"Male logit change after {K} steps: +pass {d[K-1,:,m].mean():+.2f}, -pass {d[2*K-1,:,m].mean():+.2f}")
print(f"flagged {int(sig.sum())}/{len(others)}:")
rows = sorted([(a, float(st.correlation[j]), float(st.q_values[j])) for a, j, s in zip(others, oi, sig) if s], key=lambda r: -abs(r[1]))
for a, c, q in rows:
    print(f"   {a:20s} corr {c:+.3f} q {q:.2g}")
# generator steering magnitudes (seed 0): how far do the logits move?
r = steer_audit(gen, clf, "Male", n_samples=128, steps=20, accumulate_grad=True, n_boot=0, seed=0)
mc = np.asarray(r.mean_change)  # (P, A) mean change at the last step per pass
print("generator steering, mean logit change at last step (+ pass / - pass):")
for a in ["Male", "Chubby", "Bald", "Gray_Hair", "Wavy_Hair", "Black_Hair", "Big_Lips", "Young", "Goatee"]:
    j = names.index(a)
    print(f"   {a:12s} {mc[0, j]:+.3f} / {mc[1, j]:+.3f}")
h = r.history; L0 = r.initial
flip = ((h[19] > 0) != (L0 > 0)).mean(0)
print("fraction of images whose prediction flips after 20 + steps:", {a: round(float(flip[names.index(a)]), 3) for a in ["Male", "Chubby", "Bald", "Gray_Hair", "Wavy_Hair", "Black_Hair", "Big_Lips", "Young"]})
json.dump({"pixel_flagged": rows, "n_flagged": int(sig.sum()), "alpha": alpha,
           "pixel_corr": {a: float(st.correlation[j]) for a, j in zip(others, oi)}},
          open(root / "pixel_control.json", "w"), indent=1)
