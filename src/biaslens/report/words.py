"""Group codes and row anchors in words a reader of a table or a report understands.

Audits label groups by their codes (``Male=0, skin_type=1``, ``Male=0|skin_type=1``);
a reader wants ``Female, darker skin``. :func:`group_words` decodes the labels every
audit writes; :func:`anchor` makes the HTML id of a table row that a summary sentence
links to.

>>> group_words("Male=0, skin_type=1")
'Female, darker skin'
>>> group_words("Male=1|Eyeglasses=0")
'Male, no Eyeglasses'
>>> anchor("steer", "-Male", "Wearing_Lipstick")
'row-steer--Male-Wearing_Lipstick'
"""

from __future__ import annotations

import re

__all__ = ["REVERSED_MIN", "REVERSED_WORDS", "anchor", "data_verdict", "group_words", "plural",
           "value_words"]

#: The words of a code per column (the others: ``name`` for 1, ``no name`` for 0).
VALUE_WORDS: dict[str, dict[str, str]] = {
    "Male": {"0": "Female", "1": "Male"},
    "skin_type": {"0": "lighter skin", "1": "darker skin"},
    "is_face": {"0": "non-face", "1": "face"},
}

_TRUE = {"1", "1.0", "true", "True"}
_FALSE = {"0", "0.0", "false", "False"}


def value_words(name: str, value: object) -> str:
    """One column's code in words: ``("Male", 0)`` -> ``Female``, ``("skin_type", 1)`` ->
    ``darker skin``, ``("Smiling", 1)`` -> ``Smiling``, ``("Smiling", 0)`` -> ``no Smiling``;
    other values stay ``name=value``."""
    v = str(value).strip()
    key = "1" if v in _TRUE else "0" if v in _FALSE else v
    if name in VALUE_WORDS and key in VALUE_WORDS[name]:
        return VALUE_WORDS[name][key]
    if key == "1":
        return name
    if key == "0":
        return f"no {name}"
    return f"{name}={v}"


def group_words(label: str) -> str:
    """A group label of ``name=value`` pairs (separated by ``,`` or ``|``) in words; a
    label that is not of that form is returned as it is."""
    pairs = [p.strip() for p in re.split(r"[|,]", str(label)) if p.strip()]
    if not pairs or not all("=" in p for p in pairs):
        return str(label)
    return ", ".join(value_words(*(s.strip() for s in p.split("=", 1))) for p in pairs)


def plural(n: int, word: str) -> str:
    """``"1 attribute"``, ``"3 attributes"``: a count with its noun."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def anchor(*parts: object) -> str:
    """The HTML id of a report table row: ``row-`` and the parts, joined by ``-``, with
    anything but letters, digits, ``_`` and ``-`` replaced by ``_``."""
    return "row-" + "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", str(p)) for p in parts)


#: Opposite slopes count as "reversed" only when each is at least this fraction of the
#: other: a much flatter path (−0.01 against +0.47) is "weakened", a much steeper one
#: against a flat data slope (−0.43 against +0.03) is "added".
REVERSED_MIN = 0.25


#: What "reversed" means, for the tables' legends.
REVERSED_WORDS = (f"opposite sign, the two slopes within {1 / REVERSED_MIN:g}× of each other "
                  "(a steeper slope against a weak data slope is \"added\")")


def data_verdict(path_slope: float, data_slope: float, beyond: bool) -> str:
    """The data comparison in words: ``"no"`` (not beyond the data), ``"reversed"`` (the
    path moves the attribute against the data's sign, the two slopes within a factor
    1 / :data:`REVERSED_MIN` of each other), ``"added"`` (steeper than the data: amplified or new) or
    ``"weakened"`` (flatter: part or all of the data's association dropped).

    >>> data_verdict(0.5, -0.4, True), data_verdict(0.9, 0.5, True), data_verdict(0.2, 0.5, True)
    ('reversed', 'added', 'weakened')
    >>> data_verdict(-0.01, 0.47, True), data_verdict(-0.43, 0.03, True)
    ('weakened', 'added')
    """
    if not beyond:
        return "no"
    p, d = abs(path_slope), abs(data_slope)
    if path_slope * data_slope < 0 and p >= REVERSED_MIN * d and d >= REVERSED_MIN * p:
        return "reversed"
    return "added" if abs(path_slope) > abs(data_slope) else "weakened"
