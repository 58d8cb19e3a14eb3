"""Run folders as inputs: which cache a run was made on, and the results it holds.

``biaslens report RUN`` (and :func:`biaslens.pipelines.report.report_for_path`) reads a
run folder through these: :func:`resolve_report_input` finds the cache (a cache folder
given directly, ``--cache``, or the ``cache``/``data`` field of the run's
``config.json``), :func:`read_run_results` collects the run's result JSON files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biaslens.errors import DataError

__all__ = ["NOT_RESULTS", "read_json", "read_run_results", "resolve_report_input"]

#: JSON files of a run folder that are *not* results (settings, logs).
NOT_RESULTS = frozenset({"config.json", "report.json", "manifest.json"})


def read_json(path: Path) -> Any:
    """The JSON content of ``path``; invalid JSON is a :class:`DataError` naming the file."""
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid JSON ({exc})", path=path) from None


def resolve_report_input(path: Path, cache: Path | None) -> tuple[Path, Path | None]:
    """``(cache_folder, run_folder_or_None)`` for ``biaslens report PATH``.

    ``PATH`` is a cache (has ``manifest.json``) or a run folder; a run folder takes its
    cache from ``cache`` (``--cache``) or from the ``cache``/``data`` field of its
    ``config.json``.
    """
    if not path.exists():
        raise DataError("no such run or cache folder", path=path)
    if (path / "manifest.json").is_file():
        return (cache or path), None
    if cache is not None:
        return cache, path
    cfg = path / "config.json"
    if cfg.is_file():
        conf = read_json(cfg)
        for key in ("cache", "data"):
            value = conf.get(key) if isinstance(conf, dict) else None
            if isinstance(value, str) and (Path(value) / "manifest.json").is_file():
                return Path(value), path
    raise DataError("neither a dataset cache (no manifest.json) nor a run folder whose "
                    "config.json names its cache; pass --cache CACHE", path=path)


def read_run_results(run: Path) -> dict[str, Any]:
    """Every result JSON of a run folder (top level and one level down), by relative name."""
    out: dict[str, Any] = {}
    for p in sorted([*run.glob("*.json"), *run.glob("*/*.json")]):
        if p.name in NOT_RESULTS or p.name.startswith("."):
            continue
        out[str(p.relative_to(run))] = read_json(p)
    return out
