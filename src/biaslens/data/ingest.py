"""Ingest a source (CelebA folder or image folder + CSV) into a cache.

Images are decoded in parallel worker processes, one chunk of file names per task; the
parent writes each returned chunk into the cache's memory-mapped image array in order,
with a bounded number of chunks in flight, so memory stays bounded for any N.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.data.cache import Cache, CacheWriter, check_destination, load_cache
from biaslens.data.celeba import find_celeba_root, read_celeba
from biaslens.data.folder_csv import read_folder_csv
from biaslens.data.images import Crop, decode_batch, parse_crop, resolve_decoder
from biaslens.data.source import SourceTable
from biaslens.data.workers import worker_pool
from biaslens.errors import BiasLensError, DataError

Progress = Callable[[int, int], None]   # progress(done, total)

__all__ = ["open_source", "ingest", "default_workers"]


def open_source(path: str | Path, csv: str | Path | None = None, *,
                group_columns: Sequence[str] = (), filename_column: str | None = None,
                attribute_columns: Sequence[str] | None = None, split_column: str = "split",
                check_files: bool = True, identity_column: str | None = None,
                only_present: bool = False) -> SourceTable:
    """Read a source, detecting its layout.

    - ``csv`` given: ``path`` is the image folder, ``csv`` the label file.
    - ``path`` (or ``path/celeba``) holds ``list_attr_celeba.txt`` or Kaggle's
      ``list_attr_celeba.csv``: CelebA (even when ``path`` is that CSV file).
    - ``path`` is another ``.csv`` file: images are in the CSV's folder.

    ``identity_column`` names a CSV source's identity column (CelebA reads
    ``identity_CelebA.txt``); ``only_present`` keeps the rows whose image exists.
    """
    path = Path(path)
    if (csv is None and path.is_file() and path.suffix.lower() == ".csv"
            and find_celeba_root(path.parent) is not None):
        path = path.parent                       # Kaggle's list_attr_celeba.csv itself
    elif csv is None and path.is_file() and path.suffix.lower() == ".csv":
        path, csv = path.parent, path
    kwargs: dict[str, Any] = dict(group_columns=group_columns, filename_column=filename_column,
                                  attribute_columns=attribute_columns,
                                  split_column=split_column, check_files=check_files,
                                  only_present=only_present)
    if csv is not None:
        return read_folder_csv(path, csv, identity_column=identity_column, **kwargs)
    if not path.exists():
        raise DataError("source not found", path=path)
    if find_celeba_root(path) is not None:
        if group_columns:
            raise DataError("group_columns applies to a CSV source; CelebA groups come from "
                            "list_groups_celeba.txt", path=path)
        if identity_column is not None:
            raise DataError("identity_column applies to a CSV source; CelebA identities "
                            "come from identity_CelebA.txt", path=path)
        return read_celeba(path, check_files=check_files, only_present=only_present)
    raise DataError("not a CelebA folder (no list_attr_celeba.txt or list_attr_celeba.csv "
                    "here or in celeba/) and no label CSV given (csv=FILE)", path=path)


def default_workers() -> int:
    """Worker processes to use: the CPUs this process may run on, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def _decode_chunks(table: SourceTable, size: int, crop: Crop, workers: int, chunk_size: int,
                   draft: bool, decoder: str):
    """Yield ``(start, stop, images, bad)`` per chunk, in row order."""
    n = len(table)
    bounds = [(s, min(n, s + chunk_size)) for s in range(0, n, chunk_size)]
    image_dir = str(table.image_dir)
    if workers <= 1:
        for s, e in bounds:
            yield (s, e, *decode_batch(image_dir, table.filenames[s:e], size, crop, draft,
                                       decoder))
        return
    pool = worker_pool(workers)         # its workers exit if this process is killed
    pending: deque[tuple[int, int, Future]] = deque()
    todo = iter(bounds)
    try:
        for s, e in todo:                         # keep 2 chunks per worker in flight
            pending.append((s, e, pool.submit(decode_batch, image_dir, table.filenames[s:e],
                                              size, crop, draft, decoder)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            s, e, fut = pending.popleft()
            try:
                images, bad = fut.result()
            except BrokenProcessPool:
                raise BiasLensError(f"a decoding worker died (killed, or out of memory?) while "
                                    f"decoding rows {s}-{e - 1}; retry with fewer workers"
                                    ) from None
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((*nxt, pool.submit(decode_batch, image_dir,
                                                  table.filenames[nxt[0]:nxt[1]], size, crop,
                                                  draft, decoder)))
            yield s, e, images, bad
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ingest(source: str | Path | SourceTable, out: str | Path, *, size: int = 64,
           crop: str | Sequence[int] | None = "auto", workers: int | None = None,
           skip_bad: bool = False, overwrite: bool = False, progress: Progress | None = None,
           csv: str | Path | None = None, group_columns: Sequence[str] = (),
           chunk_size: int = 64, draft: bool = True, identity_column: str | None = None,
           only_present: bool = False, decoder: str = "auto") -> Cache:
    """Decode, crop and resize every image of ``source`` into a cache at ``out``.

    Parameters
    ----------
    source : a source path (see :func:`open_source`) or a :class:`SourceTable`.
    out : cache folder to create (atomically).
    size : output side in pixels (images are ``size`` x ``size``).
    crop : ``"auto"`` (CelebA: :data:`biaslens.data.images.CELEBA_CROP`; CSV source: centre square),
        ``"celeba"``, ``"center"``, None (no crop) or ``(top, left, height, width)``.
    workers : decoding processes (default: available CPUs, at most 8, and at most one per
        512 images; 1 = in-process). They exit if this process is killed
        (:func:`biaslens.data.workers.worker_pool`).
    skip_bad : drop unreadable images (counted in the manifest) instead of stopping.
    overwrite : replace an existing cache at ``out``.
    progress : ``progress(done, total)`` called after each chunk.
    csv, group_columns, identity_column : passed to :func:`open_source` when ``source`` is
        a path (identities are stored in the cache: bootstraps then resample people).
    only_present : ingest the listed images that exist and count the rows left out
        (``manifest["counts"]["left_out"]``), e.g. for a partial CelebA download.

    The cache records each image's file name as the source lists it, relative to the image
    folder (``Cache.image_names``: ``000001.jpg`` for CelebA, the CSV's file-name cell),
    for the rows kept (after ``skip_bad`` / ``only_present``).
    chunk_size : images per worker task.
    draft : JPEG DCT-domain downscaling (off only for comparisons).
    decoder : the reduced JPEG decoder, ``"auto"`` (OpenCV when installed, else PIL),
        ``"opencv"`` or ``"pil"`` (:mod:`biaslens.data.images`); recorded in the manifest.

    Returns
    -------
    Cache
        The loaded cache.

    Examples
    --------
    >>> cache = ingest("data/celeba", "caches/celeba64", size=64)  # doctest: +SKIP
    >>> cache.images.shape                              # doctest: +SKIP
    (202599, 64, 64, 3)
    """
    # the arguments first (cheap), then the source (reads every label), then the work
    for name, value in (("size", size), ("workers", workers), ("chunk_size", chunk_size)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise DataError(f"must be a positive integer, got {value!r}", field=name)
    decoder = resolve_decoder(decoder)
    auto = isinstance(crop, str) and crop.strip().lower() == "auto"
    if not auto:
        parse_crop(crop)
    check_destination(out, overwrite=overwrite)
    table = source if isinstance(source, SourceTable) else open_source(
        source, csv, group_columns=group_columns, identity_column=identity_column,
        only_present=only_present)
    if auto:
        crop = "celeba" if table.kind == "celeba" else "center"
    crop_mode = crop.strip().lower() if isinstance(crop, str) else ("none" if crop is None
                                                                    else "box")
    crop = parse_crop(crop)
    n = len(table)
    if n == 0:
        raise DataError("the source lists no images", path=table.image_dir)
    if workers is None:        # a worker must have >= 512 images to repay its start-up
        workers = min(default_workers(), -(-n // 512))
    source_info = {"kind": table.kind,
                   "path": None if isinstance(source, SourceTable) else str(Path(source).resolve()),
                   "image_dir": str(table.image_dir.resolve()),
                   "crop_mode": crop_mode, "size": size, "resample": "bilinear",
                   "jpeg_draft": draft, "decoder": decoder if draft else "pil",
                   **{k: v for k, v in table.info.items() if k not in ("notes", "left_out")}}
    writer = CacheWriter(out, n=n, height=size, width=size,
                         attribute_names=table.attribute_names, group_names=table.group_names,
                         source=source_info, crop=crop if isinstance(crop, tuple) else None,
                         overwrite=overwrite, notes=list(table.info.get("notes", [])))
    keep = np.ones(n, dtype=bool)
    bad_files: list[dict[str, str]] = []
    pos = 0                                   # rows written so far (bad images skipped)
    with writer as w:
        # closing(): stop the worker pool at once if this loop raises (bad image, Ctrl-C)
        with closing(_decode_chunks(table, size, crop, workers, chunk_size, draft,
                                    decoder)) as chunks:
            for start, stop, images, bad in chunks:
                if bad and not skip_bad:
                    i, why = bad[0]
                    more = f" ({len(bad)} bad in rows {start}-{stop - 1})" if len(bad) > 1 else ""
                    raise DataError(f"{why}{more}; pass skip_bad=True to drop unreadable "
                                    "images",
                                    path=table.image_dir / table.filenames[start + i])
                for i, why in bad:
                    keep[start + i] = False
                    bad_files.append({"file": table.filenames[start + i], "reason": why})
                w.write_images(pos, images)
                pos += len(images)
                if progress is not None:
                    progress(stop, n)
        if pos == 0:
            raise DataError(f"none of the {n} images could be decoded", path=table.image_dir)
        kept = table
        if pos < n:
            w.truncate(pos)
            kept = table.select(keep)
            w.notes.append(f"skipped {n - pos} unreadable image(s) of {n}")
        left_out = int(table.info.get("left_out", 0))
        w.counts.update({"listed": n + left_out, "left_out": left_out, "skipped_bad": n - pos,
                         "bad_files": bad_files[:100]})
        if kept.identities is not None:
            w.identity_info = {"from": table.info.get("identity_file")
                               or table.info.get("identity_column")}
        # each image's file as the source lists it (relative to its image folder): the
        # rows of ``kept``, so names stay aligned with the images written
        w.image_name_info = {"relative_to": "source.image_dir",
                             "from": table.info.get("attr_file")
                             or table.info.get("filename_column")}
        w.set_labels(attrs=kept.attrs, split=kept.split, groups=kept.groups,
                     identities=kept.identities, image_names=kept.filenames)
    return load_cache(out)
