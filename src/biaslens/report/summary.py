"""Plain-language sentences about the strongest findings, generated from the numbers.

Every function takes the JSON-able ``to_dict()`` of an audit result (so a saved
``report.json`` can be re-summarized) and returns sentences, or nothing when there is
nothing to say. Only findings whose confidence interval excludes "no effect" are
stated as findings; the others are reported as such.

>>> steer = {"target": "Male", "ranked": [
...     {"name": "Wearing_Lipstick", "covariance": -2.9, "ci_low": -3.2, "ci_high": -2.6,
...      "significant": True},
...     {"name": "Goatee", "covariance": 1.9, "ci_low": 1.7, "ci_high": 2.1,
...      "significant": True}]}
>>> steer_summary(steer)
'Pushing toward Male most increases Goatee (+1.9 ±0.2) and decreases Wearing_Lipstick (−2.9 ±0.3).'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["beyond_data_summary", "dataset_summary", "fairness_summary",
           "population_summary", "signed", "steer_summary", "summarize"]

_MINUS = "\u2212"


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(float(x))


def signed(x: float, digits: int = 1) -> str:
    """``+1.9`` / ``−2.9`` with a typographic minus (as in the report's prose)."""
    s = f"{float(x):+.{digits}f}"
    return s.replace("-", _MINUS)


def _pm(row: Mapping[str, Any], value: str, lo: str, hi: str, digits: int) -> str:
    """``+1.9 ±0.2`` (half the CI width) or just ``+1.9`` when the CI is undefined."""
    text = signed(row[value], digits)
    if _finite(row.get(lo)) and _finite(row.get(hi)):
        text += f" ±{(float(row[hi]) - float(row[lo])) / 2:.{digits}f}"
    return text


def _digits(values: Sequence[float]) -> int:
    """Decimals so the largest magnitude shows about two significant digits."""
    big = max((abs(v) for v in values if _finite(v)), default=1.0)
    return 1 if big >= 1 else 2 if big >= 0.1 else 3


def steer_summary(steer: Mapping[str, Any]) -> str | None:
    """The attribute steering raises most and the one it lowers most (significant only)."""
    rows = [r for r in steer.get("ranked", []) if _finite(r.get("covariance"))]
    if not rows:
        return None
    sig = [r for r in rows if r.get("significant")]
    target = steer.get("target", "the target")
    verdict = (steer.get("practical_effect") or {}).get("verdict")
    if verdict:   # the generator did not respond: say so rather than "no change"
        return f"Pushing toward {target}: {verdict}."
    if not sig:
        return (f"Pushing toward {target} changes no other attribute significantly "
                f"(largest: {rows[0]['name']}, {signed(rows[0]['covariance'], 2)}).")
    up = max((r for r in sig if r["covariance"] > 0), key=lambda r: r["covariance"],
             default=None)
    down = min((r for r in sig if r["covariance"] < 0), key=lambda r: r["covariance"],
               default=None)
    d = _digits([r["covariance"] for r in sig])
    parts = []
    if up is not None:
        parts.append(f"increases {up['name']} ({_pm(up, 'covariance', 'ci_low', 'ci_high', d)})")
    if down is not None:
        parts.append(f"decreases {down['name']} "
                     f"({_pm(down, 'covariance', 'ci_low', 'ci_high', d)})")
    return f"Pushing toward {target} most {' and '.join(parts)}."


def beyond_data_summary(steer: Mapping[str, Any], limit: int = 3) -> str | None:
    """The co-movements the generator added beyond its training data (largest excess first).

    Uses the steering result's ``data_comparison`` (present when the audit had reference
    data); says so when every co-movement is consistent with the data.

    >>> steer = {"target": "Male", "attribute_names": ["Male", "Bald", "Smiling"],
    ...          "data_comparison": {"beyond_data": [False, True, False],
    ...                              "path_slope": [1.0, 0.54, 0.1],
    ...                              "data_slope": [1.0, 0.28, 0.09],
    ...                              "excess": [None, 0.26, 0.01], "n_reference": 2000}}
    >>> beyond_data_summary(steer)
    'Beyond the training data, pushing toward Male moves Bald +0.54 per unit of Male logit (the data: +0.28).'
    """
    dc = steer.get("data_comparison")
    names = steer.get("attribute_names") or []
    if not dc or not names:
        return None
    target = steer.get("target", "the target")
    flagged = [j for j, b in enumerate(dc.get("beyond_data", [])) if b
               and _finite(dc["excess"][j]) and _finite(dc["path_slope"][j])]
    if not flagged:
        return (f"Every co-movement found by pushing toward {target} is consistent with the "
                f"training data ({dc.get('n_reference', '?')} reference images).")
    flagged.sort(key=lambda j: -abs(dc["excess"][j]))
    bare = target.lstrip("-")
    parts = [f"{names[j]} {signed(dc['path_slope'][j], 2)} per unit of {bare} logit "
             f"(the data: {signed(dc['data_slope'][j], 2)})" for j in flagged[:limit]]
    more = f", and {len(flagged) - limit} more" if len(flagged) > limit else ""
    return f"Beyond the training data, pushing toward {target} moves {'; '.join(parts)}{more}."


def dataset_summary(stats: Mapping[str, Any]) -> list[str]:
    """Strongest correlation with the target and the rarest intersectional group."""
    out = []
    top = [c for c in stats.get("top_correlated", []) if _finite(c.get("phi"))]
    if top:
        c = top[0]
        ci = (f" [{signed(c['ci_lo'], 2)}, {signed(c['ci_hi'], 2)}]"
              if _finite(c.get("ci_lo")) and _finite(c.get("ci_hi")) else "")
        out.append(f"In the data, {stats.get('target')} goes most with {c['name']} "
                   f"(phi {signed(c['phi'], 2)}{ci}): P({c['name']} | {stats.get('target')}) = "
                   f"{c['p_given_target']:.0%} vs {c['p_given_not']:.0%} otherwise.")
    groups = [g for g in stats.get("groups", []) if g.get("count") is not None]
    if groups:
        rare = min(groups, key=lambda g: g["count"])
        small = [g for g in groups if g.get("small")]
        text = (f"The rarest group is {rare['label']} with {rare['count']:,} of "
                f"{stats.get('n', 0):,} rows ({(rare.get('share') or 0):.1%})")
        if small:
            text += f"; {len(small)} group(s) fall below {stats.get('min_group')} rows"
        out.append(text + ".")
    return out


def population_summary(pop: Mapping[str, Any]) -> list[str]:
    """The attribute whose prevalence the generator shifts most, with its CI."""
    rows = [a for a in pop.get("attributes", []) if _finite(a.get("amplification"))]
    if not rows:
        return []
    a = max(rows, key=lambda r: abs(r["amplification"]))
    lo, hi = (a.get("difference_ci") or [None, None])[:2]
    sure = _finite(lo) and _finite(hi) and (lo > 0 or hi < 0)
    verb = "amplifies" if a["amplification"] > 0 else "dampens"
    text = (f"The generator most {verb} the data's bias in {a['name']}: "
            f"{a['generated']:.0%} of generated faces vs {a['data']:.0%} in the data "
            f"(difference {signed(100 * a['difference'], 1)} points")
    if _finite(lo) and _finite(hi):
        text += f", 95% CI [{signed(100 * lo, 1)}, {signed(100 * hi, 1)}]"
    text += ")" + ("." if sure else "; the CI includes no change.")
    return [text]


def fairness_summary(fair: Mapping[str, Any], target: str) -> list[str]:
    """Equalized-odds gap and the group with the lowest true-positive rate."""
    disp = fair.get("disparities", {}).get("between_groups", {})
    eo = disp.get("equalized_odds_difference")
    if not eo or not _finite(eo.get("value")):
        return []
    ci = eo.get("ci") or [None, None]
    text = (f"The {target} classifier's equalized-odds difference across "
            f"{' × '.join(fair.get('feature_names', []))} is {eo['value']:.2f}")
    if _finite(ci[0]) and _finite(ci[1]):
        text += f" (95% CI [{ci[0]:.2f}, {ci[1]:.2f}])"
    tpr = fair.get("by_group", {}).get("true_positive_rate", [])
    groups = fair.get("groups", [])
    ok = [(v, g) for v, g in zip(tpr, groups) if _finite(v)]
    if len(ok) >= 2:
        lo_v, lo_g = min(ok)
        hi_v, hi_g = max(ok)
        text += f"; true-positive rate ranges from {lo_v:.0%} ({lo_g}) to {hi_v:.0%} ({hi_g})"
    return [text + "."]


def summarize(report: Mapping[str, Any]) -> list[str]:
    """All sentences for a report dict (keys ``dataset``, ``steer``, ``population``,
    ``fairness``; each optional), strongest-first within each section."""
    out: list[str] = []
    if report.get("dataset"):
        out += dataset_summary(report["dataset"])
    for s in report.get("steer", []) or []:
        for line in (steer_summary(s), beyond_data_summary(s)):
            if line:
                out.append(line)
    if report.get("population"):
        out += population_summary(report["population"])
    for f in report.get("fairness", []) or []:
        out += fairness_summary(f["report"], f["target"])
    return out
