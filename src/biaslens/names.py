"""CelebA attribute names, the GANs-course aliases, and target parsing (``-Male``)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from biaslens.errors import UnknownNameError

#: The 40 CelebA attributes, in the order of ``list_attr_celeba.txt`` (index 20 = Male).
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)

#: Names used by the GANs-course notebooks and the exploring-bias app (CamelCase, with
#: their two irregular spellings) mapped to CelebA's canonical names.
COURSE_ALIASES: dict[str, str] = {
    **{name.replace("_", ""): name for name in CELEBA_ATTRIBUTES},
    "5oClockShadow": "5_o_Clock_Shadow",
    "Sideburn": "Sideburns",
}

#: Virtual attributes defined as the negation of a real one (CelebA has no Female label).
NEGATED_ALIASES: dict[str, str] = {"Female": "Male", "Old": "Young", "Beard": "No_Beard"}


def canonical_name(name: str, names: Sequence[str] = CELEBA_ATTRIBUTES) -> str:
    """Return the canonical spelling of ``name`` among ``names`` (exact, alias or case-folded).

    Raises :class:`UnknownNameError` listing close matches when the name is unknown.
    """
    if name in names:
        return name
    alias = COURSE_ALIASES.get(name)
    if alias is not None and alias in names:
        return alias
    folded = {_fold(n): n for n in names}
    if _fold(name) in folded:
        return folded[_fold(name)]
    raise _unknown(name, names)


def _fold(name: str) -> str:
    return name.lower().replace("_", "")


def _unknown(name: str, names: Sequence[str], negations: Sequence[str] = ()
             ) -> UnknownNameError:
    """The error for an unknown ``name``: close matches first (case and ``_`` ignored,
    negations such as ``Female`` included), then every valid name."""
    folded = {_fold(n): n for n in [*names, *negations]}
    close = [folded[k] for k in difflib.get_close_matches(_fold(name), list(folded), n=3)]
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else "."
    also = (f" (or a negation: {', '.join(f'{a} = -{NEGATED_ALIASES[a]}' for a in negations)})"
            if negations else "")
    return UnknownNameError(f"unknown attribute {name!r}{hint} Valid names: "
                            f"{', '.join(names)}{also}")


def resolve_attribute(target: str, names: Sequence[str] = CELEBA_ATTRIBUTES) -> tuple[int, int]:
    """Parse a target such as ``Male``, ``-Male``, ``+Smiling`` or ``Female``.

    Returns ``(index, sign)`` where ``sign`` is +1, or -1 for a negated target
    (``-Male`` and ``Female`` both mean "less Male").

    >>> resolve_attribute("-Male")
    (20, -1)
    >>> resolve_attribute("WearingLipstick")
    (36, 1)
    """
    t = target.strip()
    sign = 1
    while t[:1] in "+-" and t:
        sign = -sign if t[0] == "-" else sign
        t = t[1:].strip()
    if not t:
        raise UnknownNameError(f"empty attribute name in {target!r}")
    negated = next((a for a in NEGATED_ALIASES if _fold(a) == _fold(t)), None)  # female
    if negated is not None and _fold(t) not in {_fold(n) for n in names}:
        t, sign = NEGATED_ALIASES[negated], -sign
    try:
        return list(names).index(canonical_name(t, names)), sign
    except UnknownNameError:
        negations = [a for a, base in NEGATED_ALIASES.items() if base in names and a not in names]
        raise _unknown(t, names, negations) from None


def display_name(index: int, sign: int, names: Sequence[str] = CELEBA_ATTRIBUTES) -> str:
    """Human name of a signed target: ``Male`` or ``-Male``."""
    return ("-" if sign < 0 else "") + names[index]
