"""Exceptions that reach the user as one clear line (the CLI prints them, no traceback)."""

from __future__ import annotations

from pathlib import Path


class BiasLensError(Exception):
    """Base class for every error biaslens reports to a user."""


class DataError(BiasLensError):
    """Bad input data; names the file and, where known, the line or field.

    Examples
    --------
    >>> str(DataError("value must be -1 or 1, got '2'", path="list_attr_celeba.txt", line=7))
    "list_attr_celeba.txt, line 7: value must be -1 or 1, got '2'"
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class CheckpointError(BiasLensError):
    """A checkpoint that cannot be loaded into the requested architecture."""


class UnknownNameError(BiasLensError, KeyError):
    """An unknown registry or attribute name; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0] if self.args else ""
