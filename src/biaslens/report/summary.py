"""Plain-language findings, ranked, each pointing at the table row it rests on.

Every function takes the JSON-able ``to_dict()`` of an audit result (so a saved
``report.json`` can be re-summarized) and returns :class:`Finding` dicts, or nothing
when there is nothing to say. A finding carries its sentence (with the units and the
95% interval as ``[lo, hi]``), the HTML anchor of its row (:func:`biaslens.report.words.anchor`),
a scale-free effect size in [0, 1] to rank by (|phi|, |r|, a share or rate difference)
and whether its interval excludes "no effect". :func:`summarize` ranks them:
significant first, then by effect size.

>>> steer = {"target": "Male", "ranked": [
...     {"name": "Wearing_Lipstick", "covariance": -2.9, "ci_low": -3.2, "ci_high": -2.6,
...      "correlation": -0.81, "q_value": 1e-9, "significant": True},
...     {"name": "Goatee", "covariance": 1.9, "ci_low": 1.7, "ci_high": 2.1,
...      "correlation": 0.62, "q_value": 0.002, "significant": True}]}
>>> print(steer_findings(steer)[0]["text"])  # doctest: +NORMALIZE_WHITESPACE
Steering toward Male lowers Wearing_Lipstick most: covariance −2.9 logit² [−3.2, −2.6],
r −0.81, q <0.001.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from biaslens.report.words import anchor, data_verdict, group_words

__all__ = ["Finding", "beyond_data_findings", "dataset_findings", "fairness_findings",
           "findings", "judge_findings", "population_findings", "ranked_findings", "signed",
           "steer_findings", "summarize"]

_MINUS = "\u2212"

#: A finding: ``text``, ``anchor`` (row id), ``section``, ``effect`` (in [0, 1], to rank),
#: ``significant`` (its interval excludes no effect).
Finding = dict[str, Any]


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def signed(x: float, digits: int = 1) -> str:
    """``+1.9`` / ``−2.9`` with a typographic minus (as in the report's prose)."""
    s = f"{float(x):+.{digits}f}"
    return s.replace("-", _MINUS)


def _q(q: Any) -> str:
    if not _finite(q):
        return "q —"
    return "q <0.001" if q < 1e-3 else f"q {q:.3f}"


def _ci(lo: Any, hi: Any, digits: int, scale: float = 1.0) -> str:
    """`` [lo, hi]`` (signed), or ``""`` when the interval is undefined."""
    if not (_finite(lo) and _finite(hi)):
        return ""
    return f" [{signed(scale * lo, digits)}, {signed(scale * hi, digits)}]"


def _digits(values: Sequence[float]) -> int:
    """Decimals so the largest magnitude shows about two significant digits."""
    big = max((abs(v) for v in values if _finite(v)), default=1.0)
    return 1 if big >= 1 else 2 if big >= 0.1 else 3


def _finding(text: str, row: str, section: str, effect: Any, significant: bool) -> Finding:
    return {"text": text, "anchor": row, "section": section,
            "effect": float(abs(effect)) if _finite(effect) else 0.0,
            "significant": bool(significant)}


def steer_findings(steer: Mapping[str, Any]) -> list[Finding]:
    """The attribute steering lowers most and the one it raises most (significant ones;
    otherwise the largest, said to be not significant)."""
    rows = [r for r in steer.get("ranked", []) if _finite(r.get("covariance"))]
    if not rows:
        return []
    target = steer.get("target", "the target")
    verdict = (steer.get("practical_effect") or {}).get("verdict")
    if verdict:   # the generator did not respond: say so rather than "no change"
        return [_finding(f"Pushing toward {target}: {verdict}.", anchor("steer", target),
                         "steering", 0.0, False)]
    sig = [r for r in rows if r.get("significant")]
    d = _digits([r["covariance"] for r in (sig or rows)])

    def text(r: Mapping[str, Any], verb: str) -> str:
        return (f"Steering toward {target} {verb} {r['name']} most: covariance "
                f"{signed(r['covariance'], d)} logit²{_ci(r.get('ci_low'), r.get('ci_high'), d)}"
                + (f", r {signed(r['correlation'], 2)}" if _finite(r.get("correlation")) else "")
                + f", {_q(r.get('q_value'))}.")

    if not sig:
        r = rows[0]
        lo, hi = r.get("ci_low"), r.get("ci_high")
        why = ""
        if _finite(lo) and _finite(hi) and (lo > 0 or hi < 0):
            n = len(steer.get("attribute_names") or []) - 1
            why = (f": its 95% interval excludes 0, but not after the Benjamini–Hochberg "
                   f"correction for testing {n if n > 0 else 'every'} attributes at once")
        return [_finding(f"Steering toward {target} changes no other attribute significantly; "
                         f"the largest is {r['name']} (covariance {signed(r['covariance'], d)} "
                         f"logit²{_ci(lo, hi, d)}, {_q(r.get('q_value'))}){why}.",
                         anchor("steer", target, r["name"]), "steering",
                         r.get("correlation"), False)]
    out = []
    down = min((r for r in sig if r["covariance"] < 0), key=lambda r: r["covariance"],
               default=None)
    up = max((r for r in sig if r["covariance"] > 0), key=lambda r: r["covariance"],
             default=None)
    for r, verb in ((down, "lowers"), (up, "raises")):
        if r is not None:
            out.append(_finding(text(r, verb), anchor("steer", target, r["name"]), "steering",
                                r.get("correlation"), True))
    return out


_VERDICT_WORDS = {"added": "amplifies (steeper than in the data)",
                  "weakened": "weakens (flatter than in the data)",
                  "reversed": "reverses (opposite sign to the data)"}
#: "added" against a weak data slope of the other sign (not steep enough to be "reversed")
_ADDED_AGAINST = "amplifies (steeper than in the data, where the link is weak and the other way)"


def _excess_q(dc: Mapping[str, Any], j: int) -> str:
    """``" (the excess over the data: q 0.003)"``: what makes a beyond-data finding
    significant (not the steering table's covariance test); ``""`` without q-values."""
    q = (dc.get("q_values") or [None] * (j + 1))[j]
    return f" (the excess over the data: {_q(q)})" if _finite(q) else ""


def beyond_data_findings(steer: Mapping[str, Any], limit: int = 3) -> list[Finding]:
    """The co-movements steering changed relative to the training data, largest excess
    first, each said as added, weakened or reversed; one sentence when every co-movement
    is consistent with the data.

    >>> steer = {"target": "Male", "attribute_names": ["Male", "Bald", "Smiling"],
    ...          "data_comparison": {"beyond_data": [False, True, False],
    ...                              "path_slope": [1.0, 0.54, 0.1],
    ...                              "data_slope": [1.0, 0.28, 0.09],
    ...                              "excess": [None, 0.26, 0.01], "n_reference": 2000}}
    >>> print(beyond_data_findings(steer)[0]["text"])  # doctest: +NORMALIZE_WHITESPACE
    Steering toward Male amplifies (steeper than in the data) the link with Bald: +0.54
    logit per unit of Male logit along the path vs +0.28 across 2,000 training images.
    """
    dc = steer.get("data_comparison")
    names = steer.get("attribute_names") or []
    if not dc or not names:
        return []
    target = steer.get("target", "the target")
    flagged = [j for j, b in enumerate(dc.get("beyond_data", [])) if b
               and _finite(dc["excess"][j]) and _finite(dc["path_slope"][j])
               and _finite(dc["data_slope"][j])]
    n_ref = (f"{dc['n_reference']:,}" if isinstance(dc.get("n_reference"), int)
             else dc.get("n_reference", "?"))
    if not flagged:
        return [_finding(f"Every co-movement found by steering toward {target} is as strong as "
                         f"in the training data ({n_ref} reference images).",
                         anchor("steer", target), "steering", 0.0, False)]
    flagged.sort(key=lambda j: -abs(dc["excess"][j]))
    bare = target.lstrip("-")
    out = []
    for j in flagged[:limit]:
        p, d = dc["path_slope"][j], dc["data_slope"][j]
        verdict = data_verdict(p, d, True)
        words = _ADDED_AGAINST if verdict == "added" and p * d < 0 else _VERDICT_WORDS[verdict]
        out.append(_finding(
            f"Steering toward {target} {words} the link with "
            f"{names[j]}: {signed(p, 2)} logit per unit of {bare} logit along the path vs "
            f"{signed(d, 2)} across {n_ref} training images{_excess_q(dc, j)}.",
            anchor("steer", target, names[j]), "steering", min(1.0, abs(dc["excess"][j])),
            True))
    return out


def dataset_findings(stats: Mapping[str, Any]) -> list[Finding]:
    """Strongest correlation with the target and the rarest intersectional group."""
    out = []
    target = stats.get("target")
    top = [c for c in stats.get("top_correlated", []) if _finite(c.get("phi"))]
    if top:
        c = top[0]
        lo, hi = c.get("ci_lo"), c.get("ci_hi")
        sure = _finite(lo) and _finite(hi) and (lo > 0 or hi < 0)
        out.append(_finding(
            f"In the data, {target} goes most with {c['name']}: phi (correlation of the two "
            f"labels) {signed(c['phi'], 2)}{_ci(lo, hi, 2)}; {c['name']} in "
            f"{c['p_given_target']:.0%} of {target} rows vs {c['p_given_not']:.0%} of the others.",
            anchor("dataset", "phi", c["name"]), "dataset", c["phi"], sure))
    groups = [g for g in stats.get("groups", []) if g.get("count") is not None]
    if groups:
        rare = min(groups, key=lambda g: g["count"])
        small = [g for g in groups if g.get("small")]
        share = rare.get("share") or 0.0
        even = 1.0 / len(groups)
        text = (f"The rarest group is {group_words(rare['label'])}: {rare['count']:,} of "
                f"{stats.get('n', 0):,} rows ({share:.1%}; an even split would give "
                f"{even:.1%})")
        if small:
            text += (f"; {len(small)} group(s) have fewer than {stats.get('min_group')} rows, "
                     "too few for reliable per-group numbers")
        out.append(_finding(text + ".", anchor("dataset", "group", rare["label"]), "dataset",
                            even - share, bool(small) or share < even / 2))
    return out


def population_findings(pop: Mapping[str, Any]) -> list[Finding]:
    """The attribute whose prevalence the generator shifts most (by |amplification|),
    with its interval, saying who labelled the generated faces."""
    rows = [a for a in pop.get("attributes", []) if _finite(a.get("amplification"))]
    if not rows:
        return []
    a = max(rows, key=lambda r: abs(r["amplification"]))
    lo, hi = (a.get("difference_ci") or [None, None])[:2]
    sure = _finite(lo) and _finite(hi) and (lo > 0 or hi < 0)
    verb = ("amplifies the data's imbalance" if a["amplification"] > 0
            else "dampens the data's imbalance")
    how = ("classifier-labelled, corrected for its error rates" if pop.get("corrected")
           else "labelled by the classifier, uncorrected")
    text = (f"The generator most {verb} in {a['name']}: {a['generated']:.1%} of generated faces "
            f"({how}) vs {a['data']:.1%} of training labels, a difference of "
            f"{signed(100 * a['difference'], 1)} percentage points{_ci(lo, hi, 1, 100)}"
            + ("." if sure else "; the interval includes no change."))
    return [_finding(text, anchor("population", a["name"]), "population", a["difference"],
                     sure)]


def judge_findings(block: Mapping[str, Any]) -> list[Finding]:
    """The true group whose share among the generated faces, estimated from an independent
    judge's reading, differs most from its share of the training faces: corrected for the
    judge's errors where the data calibrates it (significant when the interval excludes
    the data's share), the judge's raw reading otherwise (never significant: its mistakes
    are in it)."""
    from biaslens.report.judges import TOO_WIDE

    data = block.get("data_shares")
    if not data:
        return []
    name = block.get("judge", "judge")
    corrected = block.get("corrected") is not None
    if corrected:
        shares, (lows, highs) = block["corrected"], block["corrected_ci"]
        names, kind = block["group_names"], "corrected"
    elif list(block.get("judged_names", [])) == list(block.get("group_names", [])):
        shares, (lows, highs) = block["raw"], block["raw_ci"]
        names, kind = block["judged_names"], "raw"
    else:
        return []   # raw categories that are not the data's groups: nothing to compare
    ok = [i for i in range(len(names)) if _finite(shares[i]) and _finite(data[i])]
    if not ok:
        return []
    # the largest difference; a tie (two groups always tie) goes to the data's smaller group
    i = max(ok, key=lambda k: (round(abs(shares[k] - data[k]), 9), -data[k]))
    lo, hi = lows[i], highs[i]
    wide = not (_finite(lo) and _finite(hi)) or hi - lo >= TOO_WIDE
    sure = corrected and not wide and (lo > data[i] or hi < data[i])
    ci = "" if wide else f" [{lo:.1%}, {hi:.1%}]"
    if corrected:
        tail = ("; the interval is too wide to tell." if wide else "." if sure
                else "; the interval includes the data's share.")
        text = (f"Corrected for the {name} judge's errors, {shares[i]:.1%}{ci} of generated "
                f"faces are {names[i]}, vs {data[i]:.1%} of training faces{tail}")
    else:
        text = (f"The {name} judge reads {shares[i]:.1%}{ci} of generated faces as "
                f"{names[i]} (its raw reading), vs {data[i]:.1%} of training faces; no "
                "calibration set undoes the judge's own mistakes.")
    return [_finding(text, anchor("judge", name, kind, names[i]), "population",
                     shares[i] - data[i], sure)]


def _rate_gap(fair: Mapping[str, Any], metric: str) -> tuple[float, str, float, str] | None:
    """(lowest value, its group, highest value, its group) of a per-group rate."""
    vals = fair.get("by_group", {}).get(metric, [])
    ok = [(v, g) for v, g in zip(vals, fair.get("groups", [])) if _finite(v)]
    if len(ok) < 2:
        return None
    (lo_v, lo_g), (hi_v, hi_g) = min(ok), max(ok)
    return lo_v, lo_g, hi_v, hi_g


def _pct_pair(a: float, b: float) -> tuple[str, str]:
    """Two rates as percentages with enough decimals that unequal ones read unequal and
    neither a rate below 1 reads 100 % nor one above 0 reads 0 %."""
    def honest(v: float, text: str) -> bool:
        return not ((v < 1 and float(text) >= 100) or (v > 0 and float(text) <= 0))

    for d in (0, 1, 2, 3, 4):
        x, y = f"{100 * a:.{d}f}", f"{100 * b:.{d}f}"
        if (x != y or a == b) and honest(a, x) and honest(b, y):
            return x + "%", y + "%"
    return f"{100 * a:.4f}%", f"{100 * b:.4f}%"


def fairness_findings(fair: Mapping[str, Any], target: str) -> list[Finding]:
    """The equalized-odds difference with the rate (TPR or FPR) that makes it, the lowest
    and highest group of that rate, and a warning when a group has few positives."""
    disp = fair.get("disparities", {}).get("between_groups", {})
    eo = disp.get("equalized_odds_difference")
    if not eo or not _finite(eo.get("value")):
        return []
    ci = eo.get("ci") or [None, None]
    features = " × ".join(fair.get("feature_names", []))
    sure = _finite(ci[0]) and ci[0] > 0
    text = (f"The {target} classifier's equalized-odds difference across {features} is "
            f"{eo['value']:.3f}{_ci(ci[0], ci[1], 3).replace('+', '')} (0 = equal error rates)")
    gaps = {m: _rate_gap(fair, m) for m in ("true_positive_rate", "false_positive_rate")}
    widths = {m: g[2] - g[0] for m, g in gaps.items() if g is not None}
    if widths:
        m = max(widths, key=widths.get)
        lo_v, lo_g, hi_v, hi_g = gaps[m]
        a, b = _pct_pair(lo_v, hi_v)
        name = {"true_positive_rate": "true-positive rate",
                "false_positive_rate": "false-positive rate"}[m]
        text += (f"; it comes from the {name}, {a} for {group_words(lo_g)} vs {b} for "
                 f"{group_words(hi_g)}")
        rows = fair.get("positives" if m == "true_positive_rate" else "negatives") or []
        kind = "positive" if m == "true_positive_rate" else "negative"
        empty = [g for g, k in zip(fair.get("groups", []), rows)
                 if k == 0 and g in (lo_g, hi_g)]
        if empty:   # a 0/0 rate (0 by convention) makes the gap, not the classifier
            sure = False
            text += (f", but {' and '.join(group_words(g) for g in empty)} "
                     f"{'has' if len(empty) == 1 else 'have'} no {kind} test faces, so that "
                     f"rate is undefined there (0 by convention): no evidence of a gap")
    if _finite(ci[0]) and _finite(ci[1]) and ci[1] - ci[0] >= 0.5:
        sure = False    # an interval this wide decides nothing, even if it excludes 0
        sizes = list(zip(fair.get("counts", []), fair.get("groups", [])))
        small = (f": {group_words(min(sizes)[1])} has {min(sizes)[0]:,} test faces"
                 if sizes else "")
        text += (f"; the interval is too wide to tell (too few positives or negatives in a "
                 f"group{small})")
    return [_finding(text + ".", anchor("fairness", target, "equalized_odds_difference"),
                     "fairness", eo["value"], sure)]


def findings(report: Mapping[str, Any]) -> list[Finding]:
    """Every finding of a report dict (keys ``dataset``, ``steer``, ``population``,
    ``fairness``; each optional), in section order."""
    out: list[Finding] = []
    if report.get("dataset"):
        out += dataset_findings(report["dataset"])
    for s in report.get("steer", []) or []:
        out += steer_findings(s) + beyond_data_findings(s)
    if report.get("population"):
        out += population_findings(report["population"])
    for b in report.get("judges", []) or []:
        out += judge_findings(b)
    for f in report.get("fairness", []) or []:
        out += fairness_findings(f["report"], f["target"])
    return out


def ranked_findings(report: Mapping[str, Any]) -> list[Finding]:
    """:func:`findings` ranked: significant first, then by effect size (largest first)."""
    return sorted(findings(report), key=lambda f: (not f["significant"], -f["effect"]))


def summarize(report: Mapping[str, Any]) -> list[str]:
    """The sentences of :func:`ranked_findings` (``report.json``'s ``summary``)."""
    return [f["text"] for f in ranked_findings(report)]
