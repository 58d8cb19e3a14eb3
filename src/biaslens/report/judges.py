"""Words, rows and text lines for a judge block
(:func:`biaslens.pipelines.judges.judge_shares`): the one source of the CLI's lines, the
report's judge tables and the app's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from biaslens.report.tables import fmt_ci, fmt_num

__all__ = ["CORRECTED", "DATA", "JUDGE_EXPLAINER", "RAW", "TOO_WIDE", "judge_cells",
           "judge_comparison", "judge_lines", "judge_rows", "judge_title", "judge_verdict"]

#: The kinds of share, as every table and line labels them: the judge's reading, that
#: reading corrected for its errors, and the true groups' shares among the training faces.
RAW = "raw (judge's reading)"
CORRECTED = "corrected for judge error"
DATA = "training faces (true groups)"

#: A corrected CI at least this wide (on the 0-1 share scale) says nothing; the verdict
#: says so instead of letting it read like a result.
TOO_WIDE = 0.5

#: One sentence for a reader who has not read docs/judges.md.
JUDGE_EXPLAINER = (
    "A judge is an independent labeller (not the audited classifier) that sorts each "
    f"generated face into categories; the {RAW} shares are what it reports, mistakes "
    f"included, and the shares {CORRECTED} undo its mistakes as measured on labelled "
    "faces whose true group is known (the calibration set), with 95% intervals that carry "
    "the uncertainty of both sets.")

#: What each named judge is, in words.
_WORDS = {
    "skin_tone": "skin colour rule (Individual Typology Angle of the cheeks and forehead, "
                 "no trained weights)",
    "gender": "gender network (dlib's CNN, run in torch)",
    "age": "age network (dlib's age predictor, run in torch)",
}


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def judge_title(block: Mapping[str, Any]) -> str:
    """``"skin_tone: skin colour rule (...)"``: the judge's name and what it is."""
    name = str(block["judge"])
    what = _WORDS.get(name)
    if what is None and name.startswith("classifier:"):
        what = "a classifier checkpoint"
    return f"{name}: {what}" if what else name


def judge_verdict(block: Mapping[str, Any]) -> str:
    """Which judge labelled what, and whether its shares could be corrected."""
    text = f"The {block['judge']} judge labelled {block['labelled']}."
    groups = ", ".join(block["group_names"])
    if block.get("corrected") is not None and list(block["group_names"]) != list(
            block["judged_names"]):
        text += (f" Raw shares are over the judge's own categories; corrected shares over "
                 f"the true groups ({groups}) the calibration faces are labelled with.")
    if block.get("corrected") is None:
        text += (f" No correction: {block.get('not_corrected') or 'no calibration set'}; "
                 f"the shares above are {RAW} only.")
    elif block.get("corrected_ci"):
        lows, highs = block["corrected_ci"]
        widest = max(hi - lo for lo, hi in zip(lows, highs))
        if widest >= TOO_WIDE:
            text += (f" The corrected intervals are too wide to tell anything (up to "
                     f"{widest:.2f} wide): {block.get('n_calibration', 0)} calibration faces "
                     "are too few to measure the judge's errors; use a cache with more "
                     "labelled val faces.")
    return text


def judge_rows(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per judged category (raw), per true group (corrected, where there is a
    calibration set) and per true group among the training faces (where the data has the
    column): ``shares`` (:data:`RAW` / :data:`CORRECTED` / :data:`DATA`), ``category``,
    ``share``, ``ci_low``, ``ci_high``, ``interval`` (how the CI was made)."""
    level = int(round(100 * block["level"]))
    rows = [{"shares": RAW, "category": n, "share": v, "ci_low": lo, "ci_high": hi,
             "interval": f"{level}% Wilson"}
            for n, v, lo, hi in zip(block["judged_names"], block["raw"], *block["raw_ci"])]
    if block.get("corrected") is not None:
        rows += [{"shares": CORRECTED, "category": n, "share": v, "ci_low": lo, "ci_high": hi,
                  "interval": f"{level}% joint bootstrap"}
                 for n, v, lo, hi in zip(block["group_names"], block["corrected"],
                                         *block["corrected_ci"])]
    if block.get("data_shares"):
        rows += [{"shares": DATA, "category": n, "share": v, "ci_low": None, "ci_high": None,
                  "interval": "train split, counted"}
                 for n, v in zip(block["group_names"], block["data_shares"])]
    return rows


def judge_cells(block: Mapping[str, Any]) -> list[list[str]]:
    """:func:`judge_rows` as table cells (shares, category, share, CI, interval)."""
    return [[r["shares"], r["category"], fmt_num(r["share"]),
             fmt_ci(r["ci_low"], r["ci_high"]), r["interval"]] for r in judge_rows(block)]


def judge_comparison(block: Mapping[str, Any]) -> str | None:
    """The summary sentence comparing the judged shares with the data's
    (:func:`biaslens.report.summary.judge_findings`), or None when there is none."""
    from biaslens.report.summary import judge_findings

    found = judge_findings(block)
    return found[0]["text"] if found else None


def judge_lines(block: Mapping[str, Any]) -> list[str]:
    """Which judge labelled what, its raw shares, the corrected ones with CIs and the
    comparison with the data's shares."""
    lines = [f"judge {block['judge']}: labelled {block['labelled']}"]
    raw = ", ".join(f"{n} {_pct(v)}" for n, v in zip(block["judged_names"], block["raw"]))
    lines.append(f"  {RAW} shares: {raw}")
    if block.get("corrected") is None:
        lines.append(f"  not corrected: {block.get('not_corrected') or 'no calibration set'}")
    else:
        lo, hi = block["corrected_ci"]
        cor = ", ".join(f"{n} {_pct(v)} [{_pct(a)}, {_pct(b)}]" for n, v, a, b in
                        zip(block["group_names"], block["corrected"], lo, hi))
        lines.append(f"  shares {CORRECTED} ({int(100 * block['level'])}% CI, joint bootstrap "
                     f"of {block['n_calibration']} calibration and {block['n_generated']} "
                     f"judged faces): {cor}")
    if block.get("data_shares"):
        data = ", ".join(f"{n} {_pct(v)}" for n, v in zip(block["group_names"],
                                                           block["data_shares"]))
        lines.append(f"  {DATA}: {data}")
    comparison = judge_comparison(block)
    if comparison:
        lines.append(f"  {comparison}")
    return lines
