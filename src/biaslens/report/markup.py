"""HTML building blocks of the report: escaping, tables, embedded images, flattened JSON.

Every piece of text goes through :func:`esc`; numbers are formatted by
:func:`biaslens.report.tables.fmt_num` / :func:`~biaslens.report.tables.fmt_ci`, as in
the CLI's tables.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from typing import Any

from biaslens.report.tables import fmt_num

__all__ = ["esc", "flat", "img", "table"]


def esc(x: Any) -> str:
    """``str(x)`` escaped for HTML text and attribute values."""
    return html.escape(str(x), quote=True)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *,
          classes: Sequence[str] | None = None, caption: str | None = None,
          ids: Sequence[str] | None = None, note: str | None = None,
          cls: str | None = None) -> str:
    """An HTML table; ``classes[i]`` is the CSS class of row ``i`` (``""``: none) and
    ``ids[i]`` its id (the anchor a summary sentence links to); ``note`` is a legend
    printed under the table; ``cls`` the table's CSS class."""
    tcls = f' class="{esc(cls)}"' if cls else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, r in enumerate(rows):
        rcls = f' class="{esc(classes[i])}"' if classes and classes[i] else ""
        rid = f' id="{esc(ids[i])}"' if ids and ids[i] else ""
        body.append(f"<tr{rid}{rcls}>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>")
    legend = f"<p class='legend'>{esc(note)}</p>" if note else ""
    return (f"<table{tcls}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table>{legend}")


def img(figures: Mapping[str, bytes], key: str, alt: str) -> str:
    """The figure ``key`` as an ``<img>`` with a base64 PNG data URI (``""`` without it)."""
    png = figures.get(key)
    if png is None:
        return ""
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{b64}" alt="{esc(alt)}">'


def flat(obj: Any, prefix: str = "", limit: int = 60) -> list[tuple[str, Any]]:
    """Flatten nested dicts/short lists of numbers into ``(key.path, value)`` rows."""
    out: list[tuple[str, Any]] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out += flat(v, f"{prefix}.{k}" if prefix else str(k), limit)
    elif isinstance(obj, list) and len(obj) <= 8 and all(
            isinstance(v, (int, float, str, type(None))) for v in obj):
        out.append((prefix, ", ".join(fmt_num(v) if isinstance(v, float) else str(v)
                                      for v in obj) or "none"))  # an empty list reads "none"
    elif isinstance(obj, (int, float, str, bool)) or obj is None:
        out.append((prefix, fmt_num(obj) if isinstance(obj, float) else obj))
    return out[:limit]
