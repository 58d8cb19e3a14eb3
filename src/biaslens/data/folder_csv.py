"""A generic source: a folder of images plus a CSV of labels (FairFace/UTKFace style).

The CSV has a file-name column, attribute columns coded 0/1 or ±1, an optional
``split`` column (``train``/``val``/``test`` or 0/1/2), optional group columns named
by the user (integers, or strings that are coded 0, 1, … in sorted order) and an
optional identity column (the person in each image: integers or strings), which makes
every bootstrap over the images resample people instead of images.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from biaslens.data.source import SourceTable, check_unique, ints_to_bool, keep_present
from biaslens.errors import DataError

#: Column names tried, in order, when ``filename_column`` is not given.
FILENAME_COLUMNS: tuple[str, ...] = ("filename", "file", "file_name", "image", "image_id",
                                     "img", "path")
_SPLIT_WORDS = {"train": 0, "0": 0, "val": 1, "valid": 1, "validation": 1, "1": 1,
                "test": 2, "2": 2}

__all__ = ["FILENAME_COLUMNS", "read_folder_csv"]


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Header, rows (stripped cells) and the 1-based line number of each row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True)
            header = [h.strip() for h in next(reader, [])]
            rows, lines = [], []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue                                   # blank line
                rows.append([c.strip() for c in row])
                lines.append(reader.line_num)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"not a readable CSV file ({exc})", path=path) from None
    if not header:
        raise DataError("empty CSV: expected a header row", path=path, line=1)
    check_unique(header, path=path, line=1, what="column")
    widths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero(widths != len(header))
    if wrong.size:
        i = wrong[0]
        raise DataError(f"expected {len(header)} fields like the header, got {widths[i]}",
                        path=path, line=lines[i])
    return header, rows, np.asarray(lines, dtype=np.int64)


def _column(cells: np.ndarray, header: list[str], name: str, path: Path) -> np.ndarray:
    if name not in header:
        raise DataError(f"no column {name!r}; columns are: {', '.join(header)}", path=path,
                        line=1, field=name)
    return cells[:, header.index(name)]


def _parse_binary(cells: np.ndarray, names: list[str], path: Path, lines: np.ndarray
                  ) -> np.ndarray:
    """str (N, A) cells coded 0/1 or ±1 -> bool (N, A)."""
    values = np.full(cells.shape, 9, dtype=np.int8)       # 9 = not a valid code
    for text, code in (("1", 1), ("-1", -1), ("0", 0), ("+1", 1)):
        values[cells == text] = code
    bad = values == 9
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"value {str(cells[row, col])!r} must be -1, 0 or 1 (a group column? "
                        f"name it in group_columns / --groups)", path=path,
                        line=int(lines[row]), field=names[col])
    return ints_to_bool(values, names, path=path, lines=lines)


def _parse_groups(cells: np.ndarray, names: list[str]) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Integer group columns as they are; string columns coded by sorted level."""
    out = np.empty(cells.shape, dtype=np.int16)
    levels: dict[str, list[str]] = {}
    for j, name in enumerate(names):
        col = cells[:, j]
        try:
            ints = col.astype(np.int64)
        except ValueError:
            ints = None
        if ints is not None and np.all((ints >= -32768) & (ints <= 32767)):
            out[:, j] = ints
        else:
            uniq, codes = np.unique(col, return_inverse=True)
            levels[name] = [str(u) for u in uniq]
            out[:, j] = codes
    return out, levels


def read_folder_csv(image_dir: str | Path, csv_path: str | Path, *,
                    filename_column: str | None = None,
                    attribute_columns: Sequence[str] | None = None,
                    group_columns: Sequence[str] = (), split_column: str = "split",
                    check_files: bool = True, identity_column: str | None = None,
                    only_present: bool = False) -> SourceTable:
    """Read a folder of images and a CSV of labels into a :class:`SourceTable`.

    Parameters
    ----------
    image_dir : folder the file names are relative to.
    csv_path : the CSV file (header row required).
    filename_column : file-name column; default: the first of :data:`FILENAME_COLUMNS`.
    attribute_columns : binary columns to keep; default: every column that is not the
        file name, the split or a group column.
    group_columns : columns holding group labels (e.g. ``["race", "gender"]``).
    split_column : optional split column; without it every row is train (noted in info).
    check_files : verify every listed image exists.
    identity_column : column naming the person in each image (integers, or strings coded
        in sorted order); not an attribute.
    only_present : keep only the rows whose image exists (``info["left_out"]`` counts the
        others) instead of refusing a missing image.
    """
    image_dir, csv_path = Path(image_dir), Path(csv_path)
    if not image_dir.is_dir():
        raise DataError("image folder not found", path=image_dir)
    header, rows, lines = _read_rows(csv_path)
    if filename_column is None:
        filename_column = next((c for c in FILENAME_COLUMNS if c in header), None)
        if filename_column is None:
            raise DataError(f"no file-name column (tried {', '.join(FILENAME_COLUMNS)}); "
                            f"columns are: {', '.join(header)}", path=csv_path, line=1)
    cells = np.array(rows, dtype=str).reshape(len(rows), len(header))
    filenames = [str(f) for f in _column(cells, header, filename_column, csv_path)]
    empty = [i for i, f in enumerate(filenames) if not f]
    if empty:
        raise DataError("empty file name", path=csv_path, line=int(lines[empty[0]]),
                        field=filename_column)
    if len(set(filenames)) != len(filenames):
        seen: set[str] = set()
        for f, line in zip(filenames, lines):
            if f in seen:
                raise DataError(f"image {f!r} listed twice", path=csv_path, line=int(line))
            seen.add(f)

    info: dict = {"csv": str(csv_path.resolve()), "filename_column": filename_column,
                  "notes": []}
    if split_column in header:
        col = np.char.lower(_column(cells, header, split_column, csv_path))
        split = np.full(len(rows), -1, dtype=np.int8)
        for word, code in _SPLIT_WORDS.items():
            split[col == word] = code
        bad = np.flatnonzero(split < 0)
        if bad.size:
            raise DataError(f"split must be train/val/test or 0/1/2, got {col[bad[0]]!r}",
                            path=csv_path, line=int(lines[bad[0]]), field=split_column)
        info["split_column"] = split_column
    else:
        split = np.zeros(len(rows), dtype=np.int8)
        info["notes"].append(f"no {split_column!r} column: every image is marked train "
                             f"(split 0)")

    group_columns = list(group_columns)
    check_unique(group_columns, path=csv_path, what="group column")
    groups, levels = None, {}
    if group_columns:
        gcells = np.stack([_column(cells, header, g, csv_path) for g in group_columns], axis=1)
        groups, levels = _parse_groups(gcells, group_columns)
        info["group_levels"] = levels

    identities = None
    if identity_column is not None:
        col = _column(cells, header, identity_column, csv_path)
        empty = np.flatnonzero(col == "")
        if empty.size:
            raise DataError("empty identity", path=csv_path, line=int(lines[empty[0]]),
                            field=identity_column)
        try:
            identities = col.astype(np.int64)
        except ValueError:                       # names, not numbers: code them in order
            identities = np.unique(col, return_inverse=True)[1].reshape(-1).astype(np.int64)
        info["identity_column"] = identity_column
        if identity_column in group_columns:
            raise DataError("is both the identity column and a group column", path=csv_path,
                            line=1, field=identity_column)

    used = {filename_column, split_column, *group_columns, identity_column}
    if attribute_columns is None:
        attribute_columns = [c for c in header if c not in used]
    attribute_columns = list(attribute_columns)
    check_unique(attribute_columns, path=csv_path)
    acells = (np.stack([_column(cells, header, a, csv_path) for a in attribute_columns], axis=1)
              if attribute_columns else np.zeros((len(rows), 0), dtype=str))
    attrs = _parse_binary(acells, attribute_columns, csv_path, lines)

    table = SourceTable(filenames=filenames, attrs=attrs, attribute_names=attribute_columns,
                        split=split, groups=groups, group_names=group_columns,
                        image_dir=image_dir, kind="folder_csv", info=info,
                        identities=identities)
    if check_files:
        table = keep_present(table, image_dir, filenames, listed_in=csv_path, lines=lines,
                             only_present=only_present, notes=info["notes"])
    return table
