"""The table every source reader returns, and the value checks the readers share.

A :class:`SourceTable` is light: file names and labels only, no pixels. Ingestion
(:mod:`biaslens.data.ingest`) decodes the images it names into a cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.errors import DataError

#: Split codes used in caches and sources: index = code.
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
#: How many missing image names an error lists.
SHOW_MISSING = 5


@dataclass
class SourceTable:
    """Labels of a dataset source, one row per image.

    Attributes
    ----------
    filenames : list[str]
        Image paths relative to ``image_dir``, in row order.
    attrs : np.ndarray
        bool (N, A) attribute matrix.
    attribute_names : list[str]
    split : np.ndarray
        int8 (N,), 0 train / 1 val / 2 test.
    groups : np.ndarray | None
        int16 (N, G) group labels, or None.
    group_names : list[str]
    image_dir : Path
    kind : str
        ``"celeba"`` or ``"folder_csv"``.
    info : dict
        JSON-able provenance (annotation files, group levels, notes) copied into the
        cache manifest's ``source``.
    identities : np.ndarray | None
        int64 (N,) the person in each image (CelebA's ``identity_CelebA.txt``, a CSV's
        identity column), or None. Bootstraps over images resample identities when known.
    """

    filenames: list[str]
    attrs: np.ndarray
    attribute_names: list[str]
    split: np.ndarray
    groups: np.ndarray | None
    group_names: list[str]
    image_dir: Path
    kind: str
    info: dict[str, Any] = field(default_factory=dict)
    identities: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.filenames)
        if self.identities is not None and (self.identities.shape != (n,)
                                            or self.identities.dtype != np.int64):
            raise ValueError(f"identities must be int64 ({n},), got {self.identities.dtype} "
                             f"{self.identities.shape}")
        if self.attrs.shape != (n, len(self.attribute_names)) or self.attrs.dtype != bool:
            raise ValueError(f"attrs must be bool ({n}, {len(self.attribute_names)}), "
                             f"got {self.attrs.dtype} {self.attrs.shape}")
        if self.split.shape != (n,) or self.split.dtype != np.int8:
            raise ValueError(f"split must be int8 ({n},), got {self.split.dtype} "
                             f"{self.split.shape}")
        if self.groups is not None and (self.groups.shape != (n, len(self.group_names))
                                        or self.groups.dtype != np.int16):
            raise ValueError(f"groups must be int16 ({n}, {len(self.group_names)}), "
                             f"got {self.groups.dtype} {self.groups.shape}")

    def __len__(self) -> int:
        return len(self.filenames)

    def select(self, keep: np.ndarray) -> SourceTable:
        """Rows where the bool mask ``keep`` is True (e.g. after dropping bad images)."""
        idx = np.flatnonzero(keep)
        return SourceTable(
            filenames=[self.filenames[i] for i in idx], attrs=self.attrs[idx],
            attribute_names=list(self.attribute_names), split=self.split[idx],
            groups=None if self.groups is None else self.groups[idx],
            group_names=list(self.group_names), image_dir=self.image_dir, kind=self.kind,
            info=dict(self.info),
            identities=None if self.identities is None else self.identities[idx])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no per-row data)."""
        ident = ({} if self.identities is None
                 else {"n_identities": int(len(np.unique(self.identities)))})
        return {
            "kind": self.kind, "image_dir": str(self.image_dir), "n": len(self),
            "attribute_names": list(self.attribute_names), "group_names": list(self.group_names),
            "split_counts": split_counts(self.split), **ident, **self.info,
        }


def split_counts(split: np.ndarray) -> dict[str, int]:
    """``{"train": n0, "val": n1, "test": n2}``."""
    counts = np.bincount(np.asarray(split, dtype=np.int64), minlength=3)
    return {name: int(counts[i]) for i, name in enumerate(SPLIT_NAMES)}


def check_unique(names: list[str], *, path: str | Path, line: int | None = None,
                 what: str = "attribute") -> None:
    """Raise :class:`DataError` naming the first duplicated name."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"duplicate {what} name {name!r}", path=path, line=line, field=name)
        seen.add(name)


def ints_to_bool(values: np.ndarray, names: list[str], *, path: str | Path,
                 lines: np.ndarray | None = None) -> np.ndarray:
    """Turn an int (N, A) table coded ±1 or 0/1 into bool; True where the value is 1.

    A column may use ``-1/1`` or ``0/1`` but not both ``-1`` and ``0`` (ambiguous), and no
    other value. Errors name the file, the line (``lines[i]``, 1-based) and the column.
    """
    values = np.asarray(values)
    bad = (values != 1) & (values != 0) & (values != -1)
    if not bad.any():
        # columns mixing -1 and 0: the 0s are the odd ones out
        mixed = (values == -1).any(axis=0) & (values == 0).any(axis=0)
        if not mixed.any():
            return values == 1
        bad = (values == 0) & mixed[None, :]
        reason = "mixes -1 and 0 in the same column (use ±1 or 0/1)"
    else:
        reason = "must be -1, 0 or 1"
    row, col = np.argwhere(bad)[0]
    line = None if lines is None else int(lines[row])
    raise DataError(f"value {values[row, col]} {reason}", path=path, line=line,
                    field=names[col])


def missing_files(image_dir: Path, filenames: list[str]) -> list[str]:
    """The listed files that do not exist under ``image_dir``.

    Lists each directory once (one ``os.scandir`` per folder) instead of one ``stat``
    per file, so checking 200k names takes a fraction of a second.
    """
    by_dir: dict[str, set[str]] = {}
    missing = []
    for name in filenames:
        parent, _, base = name.rpartition("/")
        present = by_dir.get(parent)
        if present is None:
            folder = image_dir / parent if parent else image_dir
            try:
                present = {e.name for e in os.scandir(folder) if not e.is_dir()}
            except (FileNotFoundError, NotADirectoryError):
                present = set()
            by_dir[parent] = present
        if base not in present:
            missing.append(name)
    return missing


def require_files(image_dir: Path, filenames: list[str], *, listed_in: str | Path,
                  lines: np.ndarray | None = None, hint: bool = False,
                  missing: list[str] | None = None) -> None:
    """Raise :class:`DataError` naming the first listed images that are missing.

    ``hint``: say that ``only_present=True`` ingests the images that are there (the
    readers that support it); ``missing``: already computed by :func:`missing_files`.
    """
    missing = missing_files(image_dir, filenames) if missing is None else missing
    if missing:
        first = missing[0]
        line = None
        if lines is not None:
            line = int(lines[filenames.index(first)])
        more = ""
        if len(missing) > 1:
            shown = ", ".join(missing[1:SHOW_MISSING])
            more = (f" ({len(missing):,} missing in all, of {len(filenames):,} listed; next: "
                    f"{shown}{', …' if len(missing) > SHOW_MISSING else ''})")
        tip = ""
        if hint:
            tip = (f"; a partial download? pass only_present=True to ingest the "
                   f"{len(filenames) - len(missing):,} listed images that are there")
        raise DataError(f"listed image {first!r} not found in {image_dir}{more}{tip}",
                        path=listed_in, line=line)


def present_rows(image_dir: Path, filenames: list[str], *, listed_in: str | Path,
                 lines: np.ndarray | None = None, only_present: bool = False
                 ) -> tuple[np.ndarray | None, int]:
    """Check that the listed images exist: ``(keep, n_left_out)``.

    Without ``only_present`` a missing image is a :class:`DataError` (naming the first few
    and the option); with it, ``keep`` is the bool mask of the rows whose image exists
    (None when all do) and ``n_left_out`` how many do not. No image at all is an error.
    """
    missing = missing_files(image_dir, filenames)
    if not missing:
        return None, 0
    if not only_present or len(missing) == len(filenames):
        require_files(image_dir, filenames, listed_in=listed_in, lines=lines,
                      hint=not only_present, missing=missing)
    gone = set(missing)
    keep = np.fromiter((f not in gone for f in filenames), dtype=bool, count=len(filenames))
    return keep, len(missing)


def keep_present(table: SourceTable, image_dir: Path, filenames: list[str], *,
                 listed_in: Path, lines: np.ndarray | None, only_present: bool,
                 notes: list[str]) -> SourceTable:
    """``table`` with only the rows whose image exists (:func:`present_rows`), the count
    left out in ``info["left_out"]`` and a note saying so; unchanged when all exist."""
    keep, left_out = present_rows(image_dir, filenames, listed_in=listed_in, lines=lines,
                                  only_present=only_present)
    if keep is None:
        return table
    table = table.select(keep)
    table.info["left_out"] = left_out
    table.info["notes"] = [*notes, (
        f"only present images: {left_out:,} of {len(filenames):,} rows of "
        f"{Path(listed_in).name} have no image in {image_dir} and were left out")]
    return table
