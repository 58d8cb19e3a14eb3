"""CelebA exactly as distributed: ``img_align_celeba/``, ``list_attr_celeba.txt``,
``list_eval_partition.txt``, the optional ``identity_CelebA.txt`` (the person in each
image) and ``list_groups_celeba.txt``; or as Kaggle distributes it: ``list_attr_celeba.csv``
(header ``image_id,5_o_Clock_Shadow,...``, values -1/1), ``list_eval_partition.csv``
(``image_id,partition``) and the images under ``img_align_celeba/img_align_celeba/``.

The annotation files are whitespace tables (runs of spaces). They are parsed at the byte
level with numpy (token boundaries from a separator mask), so the 202,599-row attribute
file parses in well under a second instead of the several seconds a per-token Python
loop takes; Kaggle's CSV files go through the same tokenizer with commas as separators
(quoted cells are read with :mod:`csv`). Every error names the file, the 1-based line
and, where known, the column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from biaslens.data.source import SourceTable, check_unique, ints_to_bool, keep_present
from biaslens.errors import DataError, UnknownNameError
from biaslens.names import CELEBA_ATTRIBUTES, canonical_name

ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
GROUPS_FILE = "list_groups_celeba.txt"
IDENTITY_FILE = "identity_CelebA.txt"
IMAGE_DIR = "img_align_celeba"
#: Kaggle's CelebA ("jessicali9530/celeba-dataset"): CSV versions of the same tables.
ATTR_CSV = "list_attr_celeba.csv"
PARTITION_CSV = "list_eval_partition.csv"

__all__ = [
    "ATTR_FILE", "ATTR_CSV", "PARTITION_FILE", "PARTITION_CSV", "GROUPS_FILE",
    "IDENTITY_FILE", "IMAGE_DIR", "find_celeba_root", "parse_attr_file", "parse_attr_csv",
    "parse_groups_file", "parse_identity_file", "parse_partition_file", "parse_partition_csv",
    "read_celeba", "format_table",
]


def _canonical_columns(raw_names: list[str], known_names: list[str] | None, path: Path,
                       line: int) -> list[str]:
    """The header's attribute names, canonical when ``known_names`` is given (a name
    outside them is a :class:`DataError` naming the header ``line``), checked unique."""
    names = list(raw_names)
    if known_names is not None:
        names = []
        for name in raw_names:
            try:
                names.append(canonical_name(name, known_names))
            except UnknownNameError as exc:
                raise DataError(str(exc), path=path, line=line, field=name) from None
    check_unique(names, path=path, line=line)
    return names

def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=path) from None


def _tokenize_rows(body: bytes, ncols: int, *, path: Path, first_line: int,
                   names: list[str] | None = None, comma: bool = False
                   ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Parse ``filename v1 … v_ncols`` rows of integers (any runs of spaces/tabs; with
    ``comma`` also commas, as in Kaggle's CSV files).

    Returns ``(filenames, values int64 (N, ncols), lines int64 (N,))`` where ``lines`` are
    1-based line numbers in the file (``first_line`` is the number of the body's first
    line). Blank lines are skipped; a row with the wrong number of fields is an error.
    ``names`` (the value columns) are used in error messages.
    """
    # a trailing newline guarantees every token is followed by a separator byte
    buf = np.frombuffer(body + b"\n", dtype=np.uint8)
    is_sep = buf <= 32                              # space, tab, \r, \n (and other controls)
    if comma:
        is_sep |= buf == 44                         # ","
    start_mask = ~is_sep
    start_mask[1:] &= is_sep[:-1]
    end_mask = ~is_sep
    end_mask[:-1] &= is_sep[1:]
    starts = np.flatnonzero(start_mask)
    ends = np.flatnonzero(end_mask) + 1
    # tokens per line by summing the start mask over each line's byte range
    line_starts = np.r_[0, np.flatnonzero(buf == 10) + 1]
    line_starts = line_starts[line_starts < buf.size]
    ntok = np.add.reduceat(start_mask, line_starts, dtype=np.int32)
    row_lines = np.flatnonzero(ntok)                # 0-based body line of each non-blank row
    ntok = ntok[row_lines]
    wrong = np.flatnonzero(ntok != ncols + 1)
    if wrong.size:
        i = wrong[0]
        raise DataError(f"expected {ncols + 1} fields (a file name and {ncols} values), "
                        f"got {ntok[i]}",
                        path=path, line=int(row_lines[i]) + first_line)
    lines = row_lines.astype(np.int64) + first_line
    starts = starts.reshape(-1, ncols + 1)          # every row now has ncols + 1 tokens
    ends = ends.reshape(-1, ncols + 1)
    try:
        filenames = [body[s:e].decode("utf-8") for s, e in zip(starts[:, 0], ends[:, 0])]
    except UnicodeDecodeError:
        raise DataError("file names must be UTF-8 text", path=path) from None

    vs = starts[:, 1:].ravel()
    length = ends[:, 1:].ravel() - vs
    c0 = buf[vs].astype(np.int16)
    c1 = buf[vs + 1].astype(np.int16)
    one = (length == 1) & (c0 >= 48) & (c0 <= 57)                   # "0".."9"
    neg = (length == 2) & (c0 == 45) & (c1 >= 48) & (c1 <= 57)      # "-0".."-9"
    values = np.where(one, c0 - 48, 48 - c1).astype(np.int64)
    rest = np.flatnonzero(~(one | neg))
    if rest.size:                                   # multi-digit numbers (identities, codes)
        values[rest], ok = _parse_long(buf, vs[rest], length[rest])
        rest = rest[~ok]
    # rare general case ("+1", junk): parse token by token
    for k in rest:
        text = body[vs[k]:vs[k] + length[k]].decode("utf-8", "replace")
        try:
            values[k] = int(text)
        except ValueError:
            raise DataError(f"value {text!r} is not an integer", path=path,
                            line=int(lines[k // ncols]),
                            field=names[k % ncols] if names else f"column {k % ncols + 1}"
                            ) from None
    return filenames, values.reshape(-1, ncols), lines


def _parse_long(buf: np.ndarray, starts: np.ndarray, length: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Integers of up to 18 digits (optional leading ``-``) at ``buf[starts:starts+length]``,
    vectorized (a padded digit matrix); ``ok`` is False for tokens that are not such."""
    width = int(min(length.max(), 19))
    cols = np.arange(width)
    pos = np.minimum(starts[:, None] + cols, buf.size - 1)
    inside = cols < length[:, None]
    chars = np.where(inside, buf[pos], 48).astype(np.int64)      # pad with "0"
    negative = chars[:, 0] == 45
    chars[negative, 0] = 48
    digit = (chars >= 48) & (chars <= 57)
    ok = digit.all(axis=1) & (length <= 18) & ~(negative & (length == 1))
    # right-align: the last digit of each token is worth 10**0
    power = np.clip(length[:, None] - 1 - cols, 0, None)
    vals = np.where(inside & digit, (chars - 48) * 10 ** power, 0).sum(axis=1)
    return np.where(negative, -vals, vals), ok


def _read_header_table(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Read a CelebA-style table: count line, names line, then rows."""
    raw = _read_bytes(path)
    nl1 = raw.find(b"\n")
    nl2 = raw.find(b"\n", nl1 + 1) if nl1 >= 0 else -1
    if nl1 < 0:
        raise DataError("expected a count line, a names line, then rows", path=path, line=1)
    count_text = raw[:nl1].decode("utf-8", "replace").strip()
    try:
        count = int(count_text)
    except ValueError:
        raise DataError(f"first line must be the number of images, got {count_text!r}",
                        path=path, line=1) from None
    names_end = nl2 if nl2 >= 0 else len(raw)
    names = raw[nl1 + 1:names_end].decode("utf-8", "replace").split()
    if not names:
        raise DataError("second line must list the column names", path=path, line=2)
    body = raw[names_end + 1:] if nl2 >= 0 else b""
    filenames, values, lines = _tokenize_rows(body, len(names), path=path, first_line=3,
                                              names=names)
    if len(filenames) != count:
        raise DataError(f"header says {count} images but the file has {len(filenames)} rows",
                        path=path, line=1)
    _check_unique_files(filenames, lines, path)
    return names, filenames, values, lines


def _check_unique_files(filenames: list[str], lines: np.ndarray, path: Path) -> None:
    if len(set(filenames)) != len(filenames):
        seen: dict[str, int] = {}
        for name, line in zip(filenames, lines):
            if name in seen:
                raise DataError(f"image {name!r} listed twice (first on line {seen[name]})",
                                path=path, line=int(line))
            seen[name] = int(line)


def parse_attr_file(path: str | Path, *, known_names: tuple[str, ...] | None = CELEBA_ATTRIBUTES
                    ) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Parse ``list_attr_celeba.txt``.

    Parameters
    ----------
    path : str or Path
    known_names : tuple of str or None
        Valid attribute names (course aliases are mapped to them); None accepts any name.

    Returns
    -------
    filenames : list[str]
    attrs : np.ndarray
        bool (N, A), True where the file says 1.
    names : list[str]
        Canonical attribute names.
    lines : np.ndarray
        1-based line number of each row, for later error messages.
    """
    path = Path(path)
    raw_names, filenames, values, lines = _read_header_table(path)
    names = _canonical_columns(raw_names, known_names, path, line=2)
    return filenames, ints_to_bool(values, names, path=path, lines=lines), names, lines


def parse_groups_file(path: str | Path) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Parse ``list_groups_celeba.txt`` (same shape as the attribute file, integer codes).

    Returns ``(filenames, groups int16 (N, G), group_names, lines)``.
    """
    path = Path(path)
    names, filenames, values, lines = _read_header_table(path)
    check_unique(names, path=path, line=2, what="group")
    out_of_range = (values < -32768) | (values > 32767)
    if out_of_range.any():
        row, col = np.argwhere(out_of_range)[0]
        raise DataError(f"group code {values[row, col]} does not fit int16", path=path,
                        line=int(lines[row]), field=names[col])
    return filenames, values.astype(np.int16), names, lines


def parse_partition_file(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Parse ``list_eval_partition.txt`` (``000001.jpg 0|1|2``).

    Returns ``(filenames, split int8 (N,), lines)``.
    """
    path = Path(path)
    filenames, values, lines = _tokenize_rows(_read_bytes(path), 1, path=path, first_line=1)
    split = _check_split(values[:, 0], lines, path)
    _check_unique_files(filenames, lines, path)
    return filenames, split, lines


def _align(reference: list[str], ref_path: Path, ref_lines: np.ndarray, other: list[str],
           other_path: Path, other_lines: np.ndarray) -> np.ndarray | None:
    """Index into ``other`` for each row of ``reference`` (None when already aligned).

    Raises :class:`DataError` when the two files do not list the same images.
    """
    if other == reference:
        return None
    pos = {name: i for i, name in enumerate(other)}
    ref_set = set(reference)
    for name, line in zip(reference, ref_lines):
        if name not in pos:
            raise DataError(f"image {name!r} ({ref_path.name} line {int(line)}) has no row here; "
                            f"{other_path.name} disagrees with {ref_path.name}", path=other_path)
    for name, line in zip(other, other_lines):
        if name not in ref_set:
            raise DataError(f"image {name!r} is not in {ref_path.name}; {other_path.name} "
                            f"disagrees with {ref_path.name}", path=other_path, line=int(line))
    return np.fromiter((pos[name] for name in reference), dtype=np.int64, count=len(reference))


def parse_identity_file(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Parse ``identity_CelebA.txt`` (``000001.jpg 2880``: the person in each image).

    Returns ``(filenames, identities int64 (N,), lines)``.
    """
    path = Path(path)
    filenames, values, lines = _tokenize_rows(_read_bytes(path), 1, path=path, first_line=1,
                                              names=["identity"])
    _check_unique_files(filenames, lines, path)
    return filenames, values[:, 0].astype(np.int64), lines


def _csv_text(path: Path) -> tuple[bytes, bytes]:
    """``(header line, body)`` of a CSV file; quoted cells (Kaggle quotes some exports)
    are unquoted with :mod:`csv` line by line, so line numbers stay those of the file."""
    raw = _read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]                                          # a UTF-8 byte-order mark
    if b'"' in raw:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError("not UTF-8 text", path=path) from None
        try:
            rows = [",".join(cell.strip() for cell in row) for row in
                    csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise DataError(f"not a readable CSV file ({exc})", path=path) from None
        raw = "\n".join(rows).encode("utf-8") + b"\n"
    nl = raw.find(b"\n")
    if nl < 0 or not raw[:nl].strip():
        raise DataError("expected a header line (image_id,...) then rows", path=path, line=1)
    return raw[:nl], raw[nl + 1:]


def _csv_header(header: bytes, path: Path) -> list[str]:
    names = [h.strip() for h in header.decode("utf-8", "replace").strip().split(",")]
    if len(names) < 2 or not all(names):
        raise DataError(f"header must be image_id followed by column names, got "
                        f"{header.decode('utf-8', 'replace').strip()!r}", path=path, line=1)
    return names


def parse_attr_csv(path: str | Path, *, known_names: tuple[str, ...] | None = CELEBA_ATTRIBUTES
                   ) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Parse Kaggle's ``list_attr_celeba.csv`` (``image_id,5_o_Clock_Shadow,...``, ±1).

    Same returns as :func:`parse_attr_file`; lines are 1-based lines of the CSV file.
    """
    path = Path(path)
    header, body = _csv_text(path)
    columns = _csv_header(header, path)
    raw_names = columns[1:]
    filenames, values, lines = _tokenize_rows(body, len(raw_names), path=path, first_line=2,
                                              names=raw_names, comma=True)
    _check_unique_files(filenames, lines, path)
    names = _canonical_columns(raw_names, known_names, path, line=1)
    return filenames, ints_to_bool(values, names, path=path, lines=lines), names, lines


def parse_partition_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Parse Kaggle's ``list_eval_partition.csv`` (``image_id,partition``, 0|1|2)."""
    path = Path(path)
    header, body = _csv_text(path)
    if len(_csv_header(header, path)) != 2:
        raise DataError("header must be image_id,partition", path=path, line=1)
    filenames, values, lines = _tokenize_rows(body, 1, path=path, first_line=2,
                                              names=["partition"], comma=True)
    split = _check_split(values[:, 0], lines, path)
    _check_unique_files(filenames, lines, path)
    return filenames, split, lines


def _check_split(values: np.ndarray, lines: np.ndarray, path: Path) -> np.ndarray:
    bad = np.flatnonzero((values < 0) | (values > 2))
    if bad.size:
        raise DataError(f"split must be 0 (train), 1 (val) or 2 (test), got {values[bad[0]]}",
                        path=path, line=int(lines[bad[0]]))
    return values.astype(np.int8)


def find_celeba_root(path: str | Path) -> Path | None:
    """The folder holding ``list_attr_celeba.txt`` (or Kaggle's ``list_attr_celeba.csv``):
    ``path`` or ``path/celeba`` (torchvision)."""
    path = Path(path)
    for candidate in (path, path / "celeba"):
        if (candidate / ATTR_FILE).is_file() or (candidate / ATTR_CSV).is_file():
            return candidate
    return None


def _image_dir(root: Path, attr_name: str) -> Path:
    folder = root / IMAGE_DIR
    if not folder.is_dir():
        raise DataError(f"image folder {IMAGE_DIR}/ not found next to {attr_name}", path=root)
    nested = folder / IMAGE_DIR   # the Kaggle zip unpacks to img_align_celeba/img_align_celeba
    if nested.is_dir():
        return nested
    return folder


def read_celeba(path: str | Path, *, check_files: bool = True, only_present: bool = False
                ) -> SourceTable:
    """Read a CelebA folder (``path`` or ``path/celeba``) into a :class:`SourceTable`.

    Both layouts are read: the official text files and Kaggle's CSV files (the text file
    wins when both are there). The partition, identity and groups files are optional;
    without a partition file every row is ``train`` (0) and ``info["notes"]`` says so.
    Other annotation files (bounding boxes, landmarks) are ignored.

    ``check_files`` verifies every listed image exists (one directory listing); a missing
    one is an error naming the first few, unless ``only_present``: then the rows whose
    image exists are kept (a partial download) and ``info["left_out"]`` counts the others.
    """
    root = find_celeba_root(path)
    if root is None:
        raise DataError(f"no {ATTR_FILE} (or Kaggle's {ATTR_CSV}) in this folder or in its "
                        "celeba/ subfolder", path=path)
    kaggle = not (root / ATTR_FILE).is_file()
    attr_path = root / (ATTR_CSV if kaggle else ATTR_FILE)
    filenames, attrs, names, lines = (parse_attr_csv if kaggle else parse_attr_file)(attr_path)
    image_dir = _image_dir(root, attr_path.name)
    info: dict = {"root": str(root.resolve()), "attr_file": attr_path.name,
                  "layout": "kaggle" if kaggle else "celeba", "notes": []}

    part_path = next((root / f for f in ((PARTITION_CSV, PARTITION_FILE) if kaggle else
                                         (PARTITION_FILE, PARTITION_CSV))
                      if (root / f).is_file()), None)
    if part_path is not None:
        parse = parse_partition_csv if part_path.suffix == ".csv" else parse_partition_file
        p_files, split, p_lines = parse(part_path)
        idx = _align(filenames, attr_path, lines, p_files, part_path, p_lines)
        split = split if idx is None else split[idx]
        info["partition_file"] = part_path.name
    else:
        split = np.zeros(len(filenames), dtype=np.int8)
        info["notes"].append(f"no {PARTITION_FILE} (or {PARTITION_CSV}): every image is marked "
                             "train (split 0)")

    identities = None
    id_path = root / IDENTITY_FILE
    if id_path.is_file():
        i_files, identities, i_lines = parse_identity_file(id_path)
        idx = _align(filenames, attr_path, lines, i_files, id_path, i_lines)
        identities = identities if idx is None else identities[idx]
        info["identity_file"] = IDENTITY_FILE

    groups, group_names = None, []
    groups_path = root / GROUPS_FILE
    if groups_path.is_file():
        g_files, groups, group_names, g_lines = parse_groups_file(groups_path)
        idx = _align(filenames, attr_path, lines, g_files, groups_path, g_lines)
        groups = groups if idx is None else groups[idx]
        info["groups_file"] = GROUPS_FILE

    table = SourceTable(filenames=filenames, attrs=attrs, attribute_names=names, split=split,
                        groups=groups, group_names=group_names, image_dir=image_dir,
                        kind="celeba", info=info, identities=identities)
    if check_files:
        table = keep_present(table, image_dir, filenames, listed_in=attr_path, lines=lines,
                             only_present=only_present, notes=info["notes"])
    return table


def format_table(filenames: list[str], values: np.ndarray, names: list[str], *,
                 width: int = 2) -> str:
    """Write rows in CelebA's table format (count line, names line, rows).

    ``values`` are integers (bool attribute matrices are written as ±1). The synthetic
    world's export and the tests use this to produce files CelebA readers accept.
    """
    values = np.asarray(values)
    if values.dtype == bool:
        values = np.where(values, 1, -1)
    body = [f"{f} " + " ".join(f"{int(v):>{width}d}" for v in row)
            for f, row in zip(filenames, values)]
    return "\n".join([str(len(filenames)), " ".join(names), *body]) + "\n"
