"""The predictions file: one row per image, written by ``biaslens predict`` and read by
``biaslens audit fairness`` (one convention, in this one module).

Columns, in this order (``A`` runs over the classifier's attributes)::

    index            the row in the cache (0-based)
    image            the image file name, when the cache records names
    split            train | val | test
    A_logit          the classifier's logit
    A_prob           sigmoid(logit), the score in [0, 1] (float32, as the logit)
    A_pred           the predicted label: 1 when A_prob > 0.5 (logit > 0), else 0
    B                the true label (0/1) of every attribute B the cache has
    G                each cache group column (e.g. skin_type), as stored

so ``--target Smiling`` reads ``Smiling`` (truth), ``Smiling_pred`` and ``Smiling_prob``,
and ``--sensitive Male`` reads the true ``Male`` labels. Formats by suffix: ``.csv``
(always), ``.parquet`` (needs pyarrow) and ``.npz`` (one array per column).

>>> target_columns("Smiling")
('Smiling', 'Smiling_pred', 'Smiling_prob')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biaslens.errors import BiasLensError, DataError
from biaslens.io import atomic_write

__all__ = ["FORMATS", "PredictionTable", "check_format", "parse_binary", "parse_float",
           "read_predictions", "target_columns"]

#: Suffixes of the predictions formats.
FORMATS = (".csv", ".parquet", ".npz")
SPLIT_LABELS = ("train", "val", "test")

#: The spellings of a binary label in a CSV of predictions.
_TRUE = {"1", "1.0", "true", "True", "TRUE"}
_FALSE = {"0", "0.0", "-1", "-1.0", "false", "False", "FALSE"}


def target_columns(target: str) -> tuple[str, str, str]:
    """``(true label, predicted label, score)`` columns of ``target`` in this convention."""
    return target, f"{target}_pred", f"{target}_prob"


def check_format(path: str | Path, option: str = "--out") -> str:
    """The format of ``path`` from its suffix; an unknown suffix, or ``.parquet`` without
    pyarrow, is an error naming ``option`` (checked before any work starts)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"unknown predictions format {suffix or '(no suffix)'!r}; use one of "
                        f"{', '.join(FORMATS)}", path=path, field=option)
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise BiasLensError(f"{path}: writing .parquet needs pyarrow (pip install "
                                "'biaslens[parquet]'); or use .csv or .npz") from None
    return suffix


@dataclass
class PredictionTable:
    """A classifier's outputs on cache rows, with the cache's labels and groups.

    ``logits`` ``(n, A)`` for ``attribute_names``; ``labels`` ``{attribute: bool (n,)}``:
    the cache's true labels (all its attributes); ``groups`` ``{name: (n,)}``.
    """

    index: np.ndarray
    split: np.ndarray
    attribute_names: list[str]
    logits: np.ndarray
    labels: dict[str, np.ndarray]
    groups: dict[str, np.ndarray]
    image_names: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.index)

    @property
    def probabilities(self) -> np.ndarray:
        """``sigmoid(logits)`` in float64 ``(n, A)``."""
        return 1.0 / (1.0 + np.exp(-self.logits.astype(np.float64)))

    def columns(self) -> dict[str, np.ndarray]:
        """The file's columns in order (see the module docstring)."""
        cols: dict[str, np.ndarray] = {"index": np.asarray(self.index, np.int64)}
        if self.image_names is not None:
            cols["image"] = np.asarray(self.image_names, dtype=str)
        cols["split"] = np.asarray(SPLIT_LABELS, dtype=str)[np.asarray(self.split, np.int64)]
        prob = self.probabilities
        for j, a in enumerate(self.attribute_names):
            cols[f"{a}_logit"] = self.logits[:, j].astype(np.float32)
        for j, a in enumerate(self.attribute_names):
            cols[f"{a}_prob"] = prob[:, j].astype(np.float32)
        for j, a in enumerate(self.attribute_names):
            cols[f"{a}_pred"] = (self.logits[:, j] > 0).astype(np.int8)
        for a, y in self.labels.items():
            cols[a] = np.asarray(y).astype(np.int8)
        for g, v in self.groups.items():
            if g in cols:
                raise DataError(f"group column {g!r} clashes with a prediction column",
                                field=g)
            cols[g] = np.asarray(v)
        return cols

    def write(self, path: str | Path) -> Path:
        """Write the table to ``path`` (format by suffix), atomically."""
        suffix = check_format(path)
        cols = self.columns()
        if suffix == ".npz":
            def write(tmp: str) -> None:
                with open(tmp, "wb") as f:
                    np.savez(f, **cols)
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table(cols)

            def write(tmp: str) -> None:
                pq.write_table(table, tmp)
        else:
            def write(tmp: str) -> None:
                Path(tmp).write_text(_csv_text(cols), encoding="utf-8")
        return atomic_write(path, write)


def _csv_text(cols: dict[str, np.ndarray]) -> str:
    """CSV of the columns; floats (float32) with 9 significant digits: they read back to
    the same float32 (and to within its precision as float64)."""
    text = {}
    for k, v in cols.items():
        if v.dtype.kind == "f":
            text[k] = np.char.mod("%.9g", v)
        else:
            text[k] = v.astype(str)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(cols))
    w.writerows(zip(*text.values()))
    return buf.getvalue()


# --------------------------------------------------------------------------- reading


def read_predictions(path: str | Path, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Read ``columns`` of a predictions file (``.csv``, ``.parquet`` or ``.npz``).

    Returns ``{column: array}`` (strings for a CSV, stored dtypes otherwise) plus
    ``"__line__"``: the file line of each row (CSV; the 1-based row + 1 otherwise, as if
    the file had a header line). A missing file or column is a :class:`DataError`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                header = list(z.files)
                _check_columns(columns, header, path)
                out = {c: np.asarray(z[c]) for c in columns}
        except (OSError, ValueError) as exc:
            raise DataError(f"not a readable .npz file ({exc})", path=path) from None
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise BiasLensError(f"{path}: reading .parquet needs pyarrow (pip install "
                                "'biaslens[parquet]')") from None
        try:
            header = list(pq.read_schema(path).names)
            _check_columns(columns, header, path)
            table = pq.read_table(path, columns=list(dict.fromkeys(columns)))
        except OSError as exc:
            raise DataError(f"not a readable parquet file ({exc})", path=path) from None
        out = {c: table.column(c).to_numpy(zero_copy_only=False) for c in columns}
    else:
        return _read_csv(path, columns)
    n = {len(v) for v in out.values()}
    if len(n) > 1:
        raise DataError(f"columns have different lengths {sorted(n)}", path=path)
    if not n or not n.pop():
        raise DataError("no data rows", path=path)
    out["__line__"] = np.arange(2, 2 + len(next(iter(out.values()))), dtype=np.int64)
    return out


def _check_columns(columns: Sequence[str], header: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(map(repr, missing))}; the file "
                        f"has {', '.join(header)}", path=path, line=1)


def _read_csv(path: Path, columns: Sequence[str]) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DataError("empty file (no header line)", path=path, line=1)
        header = [h.strip() for h in header]
        _check_columns(columns, header, path)
        pos = [header.index(c) for c in columns]
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(f"expected {len(header)} fields, got {len(row)}",
                                path=path, line=lineno)
            rows.append([row[p].strip() for p in pos] + [lineno])
    if not rows:
        raise DataError("no data rows", path=path, line=2)
    table = np.array(rows, dtype=object)
    out = {c: table[:, j].astype(str) for j, c in enumerate(columns)}
    out["__line__"] = table[:, -1].astype(np.int64)
    return out


def parse_binary(values: np.ndarray, lines: np.ndarray, *, path: Path, column: str
                 ) -> np.ndarray:
    """Labels → bool (1/true = positive, 0/-1/false = negative); anything else is an error
    naming the line. Strings (CSV) and numbers or bools (parquet, npz) are both read."""
    values = np.asarray(values)
    if values.dtype.kind == "b":
        return values.astype(bool)
    if values.dtype.kind in "iuf":
        pos, neg = values == 1, (values == 0) | (values == -1)
    else:
        values = values.astype(str)
        pos, neg = np.isin(values, list(_TRUE)), np.isin(values, list(_FALSE))
    bad = np.flatnonzero(~(pos | neg))
    if bad.size:
        i = bad[0]
        raise DataError(f"value {str(values[i])!r} is not binary (expected 0/1, -1/1 or "
                        f"true/false)", path=path, line=int(lines[i]), field=column)
    return pos


def parse_float(values: np.ndarray, lines: np.ndarray, *, path: Path, column: str
                ) -> np.ndarray:
    """Values → finite float64, naming the first bad line."""
    values = np.asarray(values)
    if values.dtype.kind in "iufb":
        out = values.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            i = bad[0]
            raise DataError(f"value {values[i]!r} is not finite", path=path,
                            line=int(lines[i]), field=column)
        return out
    values = values.astype(str)
    try:
        out = values.astype(np.float64)
    except ValueError:
        out = np.full(len(values), np.nan)
    if np.isfinite(out).all():
        return out
    for i in np.flatnonzero(~np.isfinite(out)):  # only on a bad value: find and name it
        v = str(values[i])
        try:
            x = float(v)
        except ValueError:
            raise DataError(f"value {v!r} is not a number", path=path, line=int(lines[i]),
                            field=column) from None
        if not np.isfinite(x):
            raise DataError(f"value {v!r} is not finite", path=path, line=int(lines[i]),
                            field=column)
        out[i] = x
    return out
