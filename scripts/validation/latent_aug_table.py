#!/usr/bin/env python
"""The tables of docs/mitigation.md §2.7 from a `biaslens experiment latent-aug --seeds` run.

Usage: scripts/validation/latent_aug_table.py RUN

Prints the paper's table (per category, baseline and augmented) and one row per target:
the premise check (z AUC, G(z') read as labelled), the mean DEO of each model, the DEO
change of every seed with its paired bootstrap CI, the verdict counts and the mean change
across seeds with a t interval (which also covers training randomness).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats


def _ci(d: dict) -> str:
    return f"{d['difference']:+.1f} [{d['ci'][0]:+.1f}, {d['ci'][1]:+.1f}]"


def main(run: str) -> None:
    doc = json.loads((Path(run) / "experiment.json").read_text())
    rows, by = doc["targets"], doc["by_target"]
    print("| category | targets | model | AP | DEO | BA | KL |\n|---|---|---|---|---|---|---|")
    for cat, s in doc["summary"].items():
        for k in ("baseline", "augmented"):
            cells = " | ".join(f"{s[m][k]:.2f} ± {s[m][k + '_pm']:.2f}"
                               for m in ("ap", "deo", "ba", "kl"))
            print(f"| {cat} | {', '.join(s['targets'])} | {k} | {cells} |")
    print("\n| target | z AUC | G(z') read as labelled: target / Male | DEO baseline → augmented "
          "| DEO change per seed | reduced / increased | across seeds |\n|---|---|---|---|---|---|---|")
    for t, e in by.items():
        rs = [r for r in rows if r["target"] == t]
        agree = np.mean([r["pairs"]["premise"]["prime_agreement"] for r in rs], axis=0)
        x = np.array([d["difference"] for d in e["deo"]["per_seed"]])
        half = (stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
                if len(x) > 1 else np.nan)
        print(f"| {t} | {np.mean(e['hyperplane_auc']):.2f} | {agree[0]:.2f} / {agree[1]:.2f} | "
              f"{np.mean([r['baseline']['deo'] for r in rs]):.1f} → "
              f"{np.mean([r['augmented']['deo'] for r in rs]):.1f} | "
              f"{'; '.join(_ci(d) for d in e['deo']['per_seed'])} | "
              f"{e['deo']['reduced']} / {e['deo']['increased']} | "
              f"{x.mean():+.1f} [{x.mean() - half:+.1f}, {x.mean() + half:+.1f}] |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
