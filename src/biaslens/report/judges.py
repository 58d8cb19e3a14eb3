"""Text lines for a judge block (:func:`biaslens.pipelines.judges.judge_shares`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["judge_lines"]


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def judge_lines(block: Mapping[str, Any]) -> list[str]:
    """Which judge labelled what, its raw shares and the corrected ones with CIs."""
    lines = [f"judge {block['judge']}: labelled {block['labelled']}"]
    raw = ", ".join(f"{n} {_pct(v)}" for n, v in zip(block["judged_names"], block["raw"]))
    lines.append(f"  raw (judged) shares: {raw}")
    lo, hi = block["corrected_ci"]
    cor = ", ".join(f"{n} {_pct(v)} [{_pct(a)}, {_pct(b)}]" for n, v, a, b in
                    zip(block["group_names"], block["corrected"], lo, hi))
    lines.append(f"  corrected shares ({int(100 * block['level'])}% CI, joint bootstrap of "
                 f"{block['n_calibration']} calibration and {block['n_generated']} judged "
                 f"faces): {cor}")
    return lines
