"""Benchmark: biaslens GroupFrame vs fairlearn MetricFrame on intersectional groups.

10M rows (``--quick``: 1M) × 8 groups (3 binary sensitive columns). Both compute
selection rate, TPR, FPR, accuracy and count by group, plus DP / EO / EOpp differences
and ratios (both methods). Values must agree to 1e-9; prints both times and the ratio.

    python benchmarks/fairness.py [--quick] [--rows N] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    sf = rng.integers(0, 2, size=(n, 3)).astype(np.int8)
    y = rng.random(n) < 0.4
    # predictions depend on y and the groups, so the disparities are not all zero
    logit = 1.5 * (y - 0.5) + 0.3 * sf[:, 0] - 0.2 * sf[:, 1] + rng.normal(size=n)
    p = (logit > 0).astype(np.int8)
    return y.astype(np.int8), p, sf


def run_biaslens(y, p, sf):
    from biaslens.audit.fairness import _disparities
    from biaslens.audit.frame import GroupFrame

    names = {"Male": sf[:, 0], "skin_type": sf[:, 1], "Young": sf[:, 2]}
    f = GroupFrame(y, p, sensitive_features=names)
    by = {m: v[None] for m, v in f.by_group.items()}
    ov = {m: np.asarray([v]) for m, v in f.overall.items()}
    out = {"by_group": f.by_group}
    for method in ("between_groups", "to_overall"):
        out[method] = {k: float(v[0]) for k, v in _disparities(by, ov, method).items()}
    return out


def run_fairlearn(y, p, sf):
    import pandas as pd
    from fairlearn.metrics import (MetricFrame, count, false_positive_rate, selection_rate,
                                   true_positive_rate)
    from sklearn.metrics import accuracy_score

    metrics = {"selection_rate": selection_rate, "true_positive_rate": true_positive_rate,
               "false_positive_rate": false_positive_rate, "accuracy": accuracy_score,
               "count": count}
    sens = pd.DataFrame({"Male": sf[:, 0], "skin_type": sf[:, 1], "Young": sf[:, 2]})
    mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sens)
    out = {"by_group": {m: mf.by_group[m].to_numpy(float) for m in metrics}}
    for method in ("between_groups", "to_overall"):
        d, r = mf.difference(method=method), mf.ratio(method=method)
        sr, tpr, fpr = "selection_rate", "true_positive_rate", "false_positive_rate"
        out[method] = {
            "demographic_parity_difference": d[sr], "demographic_parity_ratio": r[sr],
            "equalized_odds_difference": max(d[tpr], d[fpr]),
            "equalized_odds_ratio": min(r[tpr], r[fpr]),
            "equalized_odds_difference_mean": (d[tpr] + d[fpr]) / 2,
            "equalized_odds_ratio_mean": (r[tpr] + r[fpr]) / 2,
            "equal_opportunity_difference": d[tpr], "equal_opportunity_ratio": r[tpr],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1M rows instead of 10M")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    y, p, sf = make_data(n, args.seed)
    t0 = time.perf_counter()
    ours = run_biaslens(y, p, sf)
    t_ours = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        ref = run_fairlearn(y, p, sf)
        t_ref = time.perf_counter() - t0
    for m, v in ref["by_group"].items():
        np.testing.assert_allclose(ours["by_group"][m], v, atol=1e-9, rtol=0, err_msg=m)
    for method in ("between_groups", "to_overall"):
        for k, v in ref[method].items():
            assert abs(ours[method][k] - v) <= 1e-9, (method, k, ours[method][k], v)
    print(f"rows={n:,} groups=8 (3 binary sensitive columns): all values agree to 1e-9")
    print(f"biaslens GroupFrame : {t_ours:8.3f} s")
    print(f"fairlearn MetricFrame: {t_ref:8.3f} s")
    print(f"speed-up            : {t_ref / t_ours:8.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
