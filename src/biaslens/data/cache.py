"""The dataset cache: what training and audits read.

A cache is a folder (see ``docs/ARCHITECTURE.md``)::

    images.npy   uint8 (N, H, W, 3)  memory-mapped
    attrs.npy    bool  (N, A)
    split.npy    int8  (N,)          0 train / 1 val / 2 test
    groups.npy   int16 (N, G)        only when G > 0
    identities.npy int64 (N,)        only when the source names the person in each image
    image_names.npy <U (N,)          only when the source names the files: each image's path
                                     relative to the source's image folder (fixed-width
                                     unicode, no pickle)
    extra.npz    float columns       only when there are any
    manifest.json                    written last, {"complete": true, ...}

:class:`CacheWriter` builds it in ``OUT.partial-<pid>/`` and moves it into place with
``os.replace`` only when everything (manifest included) is written, so an interrupted
ingest never leaves a folder that loads. :func:`load_cache` checks the manifest against
the arrays and the label files against their hashes (``label_hashes``, every load) and,
with ``verify=True``, recomputes the content hash (every image byte).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.data.source import SPLIT_NAMES, split_counts
from biaslens.data.workers import pid_alive
from biaslens.errors import DataError
from biaslens.io import jsonable
from biaslens.stats import Clusters

FORMAT = "biaslens-cache"
VERSION = 1
MANIFEST = "manifest.json"
_HASH_CHUNK_BYTES = 64 << 20   # hash images 64 MiB at a time: bounded memory

__all__ = ["FORMAT", "VERSION", "Cache", "CacheView", "CacheWriter", "load_cache",
           "check_destination", "content_hash", "label_hashes", "remove_stale_partials"]


# ----------------------------------------------------------------------------- hashing
def _label_arrays(attrs: np.ndarray, split: np.ndarray, groups: np.ndarray | None,
                  extra: dict[str, np.ndarray] | None, identities: np.ndarray | None = None,
                  image_names: np.ndarray | None = None) -> list[tuple[str, str, np.ndarray]]:
    """``(file, hash name, array)`` of every label array, in content-hash order.

    ``identities`` then ``image_names`` come last and only when present, so caches without
    them hash as before.
    """
    named = [("attrs.npy", "attrs", attrs), ("split.npy", "split", split)]
    if groups is not None:
        named.append(("groups.npy", "groups", groups))
    named += [("extra.npz", f"extra/{k}", (extra or {})[k]) for k in sorted(extra or {})]
    if identities is not None:
        named.append(("identities.npy", "identities", identities))
    if image_names is not None:
        named.append(("image_names.npy", "image_names", image_names))
    return named


def _hash_array(h: Any, name: str, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr)
    h.update(f"{name}{arr.shape}{arr.dtype.str}".encode())
    h.update(arr.data)


def content_hash(images: np.ndarray, attrs: np.ndarray, split: np.ndarray,
                 groups: np.ndarray | None = None, extra: dict[str, np.ndarray] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 identities: np.ndarray | None = None,
                 image_names: np.ndarray | None = None) -> str:
    """``"sha256:<hex>"`` over the image bytes (in chunks), then attrs, split, groups, extra,
    identities and image names (when present).

    Each array contributes its shape and dtype before its bytes, so reshaped or
    re-typed data hashes differently; extra columns are taken in sorted name order.
    """
    h = hashlib.sha256()
    rows = max(1, _HASH_CHUNK_BYTES // max(1, int(np.prod(images.shape[1:]))))
    h.update(f"images{images.shape}{images.dtype.str}".encode())
    n = len(images)
    for start in range(0, n, rows):
        h.update(np.ascontiguousarray(images[start:start + rows]).data)
        if progress is not None:
            progress(min(n, start + rows), n)
    for _, name, arr in _label_arrays(attrs, split, groups, extra, identities, image_names):
        _hash_array(h, name, arr)
    return "sha256:" + h.hexdigest()


def label_hashes(attrs: np.ndarray, split: np.ndarray, groups: np.ndarray | None = None,
                 extra: dict[str, np.ndarray] | None = None,
                 identities: np.ndarray | None = None,
                 image_names: np.ndarray | None = None) -> dict[str, str]:
    """``{file: "sha256:<hex>"}`` of the label files (attrs.npy, split.npy, groups.npy,
    extra.npz, identities.npy, image_names.npy): small, so :func:`load_cache` checks them
    on every load."""
    hashes: dict[str, Any] = {}
    for file, name, arr in _label_arrays(attrs, split, groups, extra, identities, image_names):
        _hash_array(hashes.setdefault(file, hashlib.sha256()), name, arr)
    return {file: "sha256:" + h.hexdigest() for file, h in hashes.items()}


# ----------------------------------------------------------------------------- reading
class _IndexedImages:
    """Rows ``indices`` of a base image memmap, read lazily (``view.images[i]``)."""

    def __init__(self, base: np.ndarray, indices: np.ndarray):
        self._base, self._indices = base, indices

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self._indices), *self._base.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self._base.dtype

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, key: Any) -> np.ndarray:
        rows = self._indices[key]
        if np.ndim(rows) == 0:
            return np.asarray(self._base[int(rows)])
        # read the memmap in ascending order (sequential I/O), then restore the order asked
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows), *self._base.shape[1:]), dtype=self._base.dtype)
        out[order] = self._base[rows[order]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self[np.arange(len(self._indices))]
        return arr if dtype is None else arr.astype(dtype)


@dataclass
class CacheView:
    """A row subset of a :class:`Cache` (e.g. one split); labels are materialized,
    images are read from the parent memmap on indexing."""

    cache: Cache
    indices: np.ndarray
    images: _IndexedImages
    attrs: np.ndarray
    split: np.ndarray
    groups: np.ndarray | None
    extra: dict[str, np.ndarray]
    identities: np.ndarray | None = None
    image_names: np.ndarray | None = None

    @property
    def attribute_names(self) -> list[str]:
        return self.cache.attribute_names

    def clusters(self) -> Clusters | None:
        """The rows grouped by identity (for cluster bootstraps), or None without them."""
        return None if self.identities is None else Clusters.from_labels(self.identities)

    @property
    def group_names(self) -> list[str]:
        return self.cache.group_names

    @property
    def content_hash(self) -> str:
        return self.cache.content_hash

    def __len__(self) -> int:
        return len(self.indices)


@dataclass
class Cache:
    """A loaded dataset cache. ``images`` is a read-only ``np.memmap`` (N, H, W, 3).

    ``labels_verified``: the label files matched the hashes in the manifest when loaded
    (False for caches written before the manifest recorded them); ``images_verified``:
    the full content hash was recomputed (:meth:`verify`, ``load_cache(verify=True)``).
    ``identities``: the person in each image (int64 (N,)), when the source said so
    (CelebA's ``identity_CelebA.txt``, a CSV's identity column); bootstraps over the
    images then resample identities (:meth:`clusters`). ``image_names``: each image's file
    (``<U`` (N,), relative to the source's image folder, e.g. ``000001.jpg``), or None
    (caches written before names were recorded, synthetic worlds).
    """

    path: Path
    manifest: dict[str, Any]
    images: np.ndarray
    attrs: np.ndarray
    split: np.ndarray
    groups: np.ndarray | None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    labels_verified: bool = False
    images_verified: bool = False
    identities: np.ndarray | None = None
    image_names: np.ndarray | None = None

    @property
    def attribute_names(self) -> list[str]:
        return list(self.manifest["attribute_names"])

    @property
    def group_names(self) -> list[str]:
        return list(self.manifest.get("group_names", []))

    @property
    def content_hash(self) -> str:
        return str(self.manifest["content_hash"])

    def __len__(self) -> int:
        return len(self.attrs)

    def clusters(self) -> Clusters | None:
        """The rows grouped by identity (for cluster bootstraps), or None without them."""
        return None if self.identities is None else Clusters.from_labels(self.identities)

    def subset(self, split: str | int | None = None, indices: np.ndarray | None = None
               ) -> CacheView:
        """Rows of one split (``"train"``/``"val"``/``"test"`` or 0/1/2) and/or ``indices``."""
        idx = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        if split is not None:
            code = _split_code(split)
            idx = idx[self.split[idx] == code]
        return CacheView(cache=self, indices=idx, images=_IndexedImages(self.images, idx),
                         attrs=self.attrs[idx], split=self.split[idx],
                         groups=None if self.groups is None else self.groups[idx],
                         extra={k: v[idx] for k, v in self.extra.items()},
                         identities=None if self.identities is None else self.identities[idx],
                         image_names=(None if self.image_names is None
                                      else self.image_names[idx]))

    def verify(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Recompute the content hash; raise :class:`DataError` if it differs."""
        actual = content_hash(self.images, self.attrs, self.split, self.groups, self.extra,
                              progress=progress, identities=self.identities,
                              image_names=self.image_names)
        if actual != self.content_hash:
            raise DataError(f"content hash mismatch: manifest says {self.content_hash}, data "
                            f"hashes to {actual}; the cache was modified or damaged",
                            path=self.path)
        self.images_verified = True

    def to_dict(self) -> dict[str, Any]:
        """The manifest plus the path (JSON-able)."""
        return {"path": str(self.path), **self.manifest}


def _split_code(split: str | int) -> int:
    if isinstance(split, str):
        if split not in SPLIT_NAMES:
            raise DataError(f"unknown split {split!r}; valid: {', '.join(SPLIT_NAMES)}",
                            field="split")
        return SPLIT_NAMES.index(split)
    if int(split) not in (0, 1, 2):
        raise DataError(f"unknown split {split!r}; valid: 0, 1, 2", field="split")
    return int(split)


def _load_array(folder: Path, name: str, *, shape: tuple[int, ...], dtype: np.dtype,
                mmap: bool = False) -> np.ndarray:
    path = folder / name
    if not path.is_file():
        raise DataError(f"missing {name}; the cache is damaged", path=folder)
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - a damaged header raises anything (SyntaxError, ...)
        raise DataError(f"cannot read array ({type(exc).__name__}: {_first_line(exc)}); the "
                        "file is truncated or damaged", path=path) from None
    if arr.dtype != dtype:
        raise DataError(f"dtype is {arr.dtype}, manifest needs {np.dtype(dtype)}", path=path)
    if arr.shape != shape:
        raise DataError(f"shape is {arr.shape}, manifest says {shape}", path=path)
    return arr


def _load_image_names(folder: Path, manifest: dict[str, Any], n: int) -> np.ndarray:
    """``image_names.npy``: fixed-width unicode (N,) of the width the manifest records."""
    info = manifest["image_names"]
    width = info.get("width") if isinstance(info, dict) else None
    if not isinstance(width, int) or width < 1:
        raise DataError("must be an object with a positive integer 'width'",
                        path=folder / MANIFEST, field="image_names")
    return _load_array(folder, "image_names.npy", shape=(n,), dtype=np.dtype(f"<U{width}"))


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 200 characters."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else "")[:200]


def _check_label_hashes(folder: Path, manifest: dict[str, Any], cache: Cache) -> bool:
    """Compare the label files with the manifest's ``label_hashes``; False when it has none
    (a cache written before they were recorded: loaded as before, reported unverified)."""
    expected = manifest.get("label_hashes")
    if expected is None:
        return False
    if not isinstance(expected, dict):
        raise DataError("must be an object {file: hash}", path=folder / MANIFEST,
                        field="label_hashes")
    actual = label_hashes(cache.attrs, cache.split, cache.groups, cache.extra,
                          cache.identities, cache.image_names)
    for file in sorted(set(expected) | set(actual)):
        if expected.get(file) != actual.get(file):
            raise DataError(f"content differs from the hash in {MANIFEST} (manifest "
                            f"{expected.get(file)}, file {actual.get(file)}); the labels were "
                            "modified or damaged: re-run the ingest", path=folder / file)
    return True


def load_cache(path: str | Path, *, verify: bool = False) -> Cache:
    """Open a cache folder, checking the manifest against the arrays.

    Parameters
    ----------
    path : the cache folder.
    verify : also recompute the content hash (reads every image once). The label files
        (small) are checked against the manifest's ``label_hashes`` on every load.

    Raises
    ------
    DataError
        Naming what is wrong: no/incomplete manifest, unknown format or version, an
        array missing, damaged, of the wrong dtype or shape, or a hash mismatch.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError("cache folder not found", path=folder)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise DataError(f"no {MANIFEST}: not a biaslens cache, or an interrupted ingest",
                        path=folder)
    try:
        manifest = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"manifest is not valid JSON ({exc})", path=mpath) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"format must be {FORMAT!r}, got {manifest.get('format')!r}"
                        if isinstance(manifest, dict) else "manifest must be a JSON object",
                        path=mpath, field="format")
    if manifest.get("version") != VERSION:
        raise DataError(f"cache version {manifest.get('version')!r} is not supported "
                        f"(this biaslens reads version {VERSION}); re-ingest the source",
                        path=mpath, field="version")
    if manifest.get("complete") is not True:
        raise DataError("manifest is not marked complete; re-run the ingest", path=mpath,
                        field="complete")
    for key, kind in (("n", int), ("height", int), ("width", int), ("attribute_names", list),
                      ("content_hash", str)):
        if not isinstance(manifest.get(key), kind):
            raise DataError(f"missing or invalid {key!r}", path=mpath, field=key)
    n, h, w = manifest["n"], manifest["height"], manifest["width"]
    names = manifest["attribute_names"]
    group_names = manifest.get("group_names") or []
    extra_names = manifest.get("extra_names") or []

    images = _load_array(folder, "images.npy", shape=(n, h, w, 3), dtype=np.uint8, mmap=True)
    attrs = _load_array(folder, "attrs.npy", shape=(n, len(names)), dtype=np.bool_)
    split = _load_array(folder, "split.npy", shape=(n,), dtype=np.int8)
    if n and (split.min() < 0 or split.max() > 2):
        raise DataError("split values must be 0, 1 or 2", path=folder / "split.npy")
    groups = None
    if group_names:
        groups = _load_array(folder, "groups.npy", shape=(n, len(group_names)), dtype=np.int16)
    extra: dict[str, np.ndarray] = {}
    if extra_names:
        epath = folder / "extra.npz"
        if not epath.is_file():
            raise DataError("missing extra.npz; the cache is damaged", path=folder)
        try:
            with open(epath, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                extra = {k: z[k] for k in extra_names}
        except Exception as exc:  # noqa: BLE001 - a damaged zip raises anything (BadZipFile, ...)
            raise DataError(f"cannot read extra columns ({type(exc).__name__}: "
                            f"{_first_line(exc)})", path=epath) from None
        for k, v in extra.items():
            if v.shape != (n,):
                raise DataError(f"extra column {k!r} has shape {v.shape}, expected ({n},)",
                                path=epath, field=k)
    identities = None
    if manifest.get("identities"):
        identities = _load_array(folder, "identities.npy", shape=(n,), dtype=np.int64)
    image_names = _load_image_names(folder, manifest, n) if manifest.get("image_names") else None
    cache = Cache(path=folder, manifest=manifest, images=images, attrs=attrs, split=split,
                  groups=groups, extra=extra, identities=identities, image_names=image_names)
    cache.labels_verified = _check_label_hashes(folder, manifest, cache)
    if verify:
        cache.verify()
    return cache


# ----------------------------------------------------------------------------- writing
def remove_stale_partials(out: str | Path) -> list[Path]:
    """Delete ``OUT.partial-<pid>`` folders whose process is gone; return them."""
    out = Path(out)
    removed = []
    if not out.parent.is_dir():
        return removed
    for p in out.parent.glob(f"{out.name}.partial-*"):
        suffix = p.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and int(suffix) != os.getpid() and not pid_alive(int(suffix)):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def check_destination(out: str | Path, *, overwrite: bool = False) -> None:
    """Raise :class:`DataError` unless a cache may be written at ``out`` (creates nothing).

    ``out`` must be absent, an empty folder, or (with ``overwrite``) a cache or any folder.
    """
    out = Path(out)
    if (out / MANIFEST).exists() and not overwrite:
        raise DataError("a cache already exists here; pass overwrite=True to replace it",
                        path=out)
    if out.exists() and not out.is_dir():
        raise DataError("exists and is not a folder", path=out)
    if (out.is_dir() and not overwrite and not (out / MANIFEST).exists()
            and any(out.iterdir())):
        raise DataError("folder exists, is not empty and is not a cache; pass "
                        "overwrite=True to replace it", path=out)


def _as_names(names: np.ndarray | list[str], n: int) -> np.ndarray:
    """``names`` as a fixed-width unicode (n,) array (``<U``, at least 1 wide: never an
    object array, so ``np.load(allow_pickle=False)`` reads it); empty names are refused."""
    arr = np.asarray(names)
    if arr.dtype.kind == "O" and all(isinstance(x, str) for x in arr.ravel()):
        arr = arr.astype(str)
    if arr.shape != (n,) or arr.dtype.kind != "U":
        raise ValueError(f"image_names must be strings ({n},), got {arr.dtype} {arr.shape}")
    lengths = np.char.str_len(arr)
    if n and (lengths == 0).any():
        raise ValueError(f"image_names: row {int(np.argmin(lengths))} has an empty name")
    return arr.astype(f"<U{max(1, int(lengths.max()) if n else 1)}")


class CacheWriter:
    """Write a cache atomically (context manager).

    Parameters
    ----------
    out : destination folder.
    n, height, width : image array shape (n, height, width, 3).
    attribute_names, group_names, extra_names : column names.
    source : JSON-able provenance stored in the manifest.
    crop : the crop box used, or None.
    overwrite : replace an existing complete cache at ``out``.
    notes : free-text notes stored in the manifest.

    Examples
    --------
    >>> with CacheWriter(out, n=2, height=8, width=8,
    ...                  attribute_names=["Male"]) as w:  # doctest: +SKIP
    ...     w.write_images(0, batch)
    ...     w.set_labels(attrs=attrs, split=split)
    """

    def __init__(self, out: str | Path, *, n: int, height: int, width: int,
                 attribute_names: list[str], group_names: list[str] | None = None,
                 extra_names: list[str] | None = None, source: dict[str, Any] | None = None,
                 crop: list[int] | tuple[int, ...] | None = None, overwrite: bool = False,
                 notes: list[str] | None = None, counts: dict[str, Any] | None = None):
        self.out = Path(out)
        self.n, self.height, self.width = int(n), int(height), int(width)
        self.attribute_names = list(attribute_names)
        self.group_names = list(group_names or [])
        self.extra_names = list(extra_names or [])
        self.source = dict(source or {})
        self.crop = None if crop is None else [int(c) for c in crop]
        self.overwrite = overwrite
        self.notes = list(notes or [])
        self.counts = dict(counts or {})
        self.identity_info: dict[str, Any] = {}   # where the identities came from (manifest)
        self.image_name_info: dict[str, Any] = {}  # what the image names are relative to
        self.partial = self.out.parent / f"{self.out.name}.partial-{os.getpid()}"
        self._images: np.memmap | None = None
        self._written = 0                     # images written so far (rows covered)
        self._covered: np.ndarray | None = None
        self._labels: dict[str, Any] | None = None

    # -- lifecycle
    def __enter__(self) -> CacheWriter:
        check_destination(self.out, overwrite=self.overwrite)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.out)
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir()
        self._images = np.lib.format.open_memmap(
            self.partial / "images.npy", mode="w+", dtype=np.uint8,
            shape=(self.n, self.height, self.width, 3))
        self._covered = np.zeros(self.n, dtype=bool)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self._finish()
            except BaseException:
                self._abort()
                raise
        else:
            self._abort()

    def _abort(self) -> None:
        self._images = None
        shutil.rmtree(self.partial, ignore_errors=True)

    # -- filling
    def write_images(self, start: int, batch: np.ndarray) -> None:
        """Write ``batch`` uint8 (b, H, W, 3) at rows ``start:start + b``."""
        if self._images is None:
            raise RuntimeError("CacheWriter must be used as a context manager")
        batch = np.asarray(batch)
        expected = (self.height, self.width, 3)
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"batch must be uint8 (b, {self.height}, {self.width}, 3), "
                             f"got {batch.dtype} {batch.shape}")
        stop = start + len(batch)
        if start < 0 or stop > self.n:
            raise ValueError(f"rows {start}:{stop} outside 0:{self.n}")
        self._images[start:stop] = batch
        self._covered[start:stop] = True

    def truncate(self, n: int) -> None:
        """Keep only the first ``n`` rows (after dropping bad images at the end).

        Rewrites the ``.npy`` header in place (same length, so the data offset does not
        move) and truncates the file: no copy of the images.
        """
        if self._images is None:
            raise RuntimeError("CacheWriter must be used as a context manager")
        if not 0 <= n <= self.n:
            raise ValueError(f"cannot truncate {self.n} rows to {n}")
        path = self.partial / "images.npy"
        offset = self._images.offset
        self._images.flush()
        self._images = None
        header = ("{'descr': '|u1', 'fortran_order': False, 'shape': (%d, %d, %d, 3), }"
                  % (n, self.height, self.width))
        with open(path, "r+b") as f:
            major = f.read(8)[6]
            len_bytes = 2 if major == 1 else 4       # .npy 1.0: uint16 length, 2.0+: uint32
            start = 8 + len_bytes
            f.seek(8)
            f.write((offset - start).to_bytes(len_bytes, "little"))
            # same total length as before: shorter shape text, more padding spaces
            f.write((header + " " * (offset - start - len(header) - 1) + "\n").encode("latin1"))
            f.truncate(offset + n * self.height * self.width * 3)
        self.n = n
        self._covered = self._covered[:n]
        self._images = np.load(path, mmap_mode="r+")

    def set_labels(self, *, attrs: np.ndarray, split: np.ndarray | None = None,
                   groups: np.ndarray | None = None,
                   extra: dict[str, np.ndarray] | None = None,
                   identities: np.ndarray | None = None,
                   image_names: np.ndarray | list[str] | None = None) -> None:
        """Set the label arrays (checked against the declared names and ``n``);
        ``identities`` (N,) integers name the person in each image, ``image_names`` (N,)
        non-empty strings its file (both optional)."""
        n = self.n
        attrs = np.asarray(attrs)
        if attrs.shape != (n, len(self.attribute_names)):
            raise ValueError(f"attrs must be ({n}, {len(self.attribute_names)}), got {attrs.shape}")
        if attrs.dtype != bool:
            raise ValueError(f"attrs must be bool, got {attrs.dtype}")
        split = np.zeros(n, np.int8) if split is None else np.asarray(split)
        if split.shape != (n,) or (n and (split.min() < 0 or split.max() > 2)):
            raise ValueError(f"split must be ({n},) with values 0, 1, 2")
        if self.group_names:
            if groups is None or np.shape(groups) != (n, len(self.group_names)):
                raise ValueError(f"groups must be ({n}, {len(self.group_names)}), got "
                                 f"{None if groups is None else np.shape(groups)}")
            groups = np.asarray(groups).astype(np.int16, casting="same_kind")
        elif groups is not None and np.size(groups):
            raise ValueError("groups given but no group_names declared")
        else:
            groups = None
        extra = {k: np.asarray(v, dtype=np.float32) for k, v in (extra or {}).items()}
        if sorted(extra) != sorted(self.extra_names):
            raise ValueError(f"extra columns {sorted(extra)} != declared "
                             f"{sorted(self.extra_names)}")
        for k, v in extra.items():
            if v.shape != (n,):
                raise ValueError(f"extra column {k!r} must be ({n},), got {v.shape}")
        if identities is not None:
            ids = np.asarray(identities)
            if ids.shape != (n,) or ids.dtype.kind not in "iu":
                raise ValueError(f"identities must be integers ({n},), got {ids.dtype} "
                                 f"{ids.shape}")
            identities = ids.astype(np.int64)
        if image_names is not None:
            image_names = _as_names(image_names, n)
        self._labels = {"attrs": attrs, "split": split.astype(np.int8), "groups": groups,
                        "extra": extra, "identities": identities, "image_names": image_names}

    def _finish(self) -> None:
        if self._labels is None:
            raise RuntimeError("set_labels() was not called")
        if not self._covered.all():
            missing = int((~self._covered).sum())
            raise RuntimeError(f"{missing} of {self.n} image rows were never written")
        lab = self._labels
        self._images.flush()
        images = self._images
        np.save(self.partial / "attrs.npy", lab["attrs"])
        np.save(self.partial / "split.npy", lab["split"])
        if lab["groups"] is not None:
            np.save(self.partial / "groups.npy", lab["groups"])
        if lab["extra"]:
            np.savez(self.partial / "extra.npz", **lab["extra"])
        ids = lab["identities"]
        if ids is not None:
            np.save(self.partial / "identities.npy", ids)
        names = lab["image_names"]
        if names is not None:
            np.save(self.partial / "image_names.npy", names, allow_pickle=False)
        digest = content_hash(images, lab["attrs"], lab["split"], lab["groups"], lab["extra"],
                              identities=ids, image_names=names)
        self._images = None
        del images
        counts = {"n": self.n, "split": split_counts(lab["split"]),
                  "positives": {name: int(c) for name, c in
                                zip(self.attribute_names, lab["attrs"].sum(axis=0))},
                  **self.counts}
        manifest = {
            "format": FORMAT, "version": VERSION, "complete": True,
            "n": self.n, "height": self.height, "width": self.width,
            "attribute_names": self.attribute_names, "group_names": self.group_names,
            "extra_names": sorted(lab["extra"]), "source": self.source, "crop": self.crop,
            "counts": counts, "content_hash": digest,
            "label_hashes": label_hashes(lab["attrs"], lab["split"], lab["groups"],
                                         lab["extra"], ids, names),
            "identities": None if ids is None else {
                "n_identities": int(len(np.unique(ids))), **self.identity_info},
            "image_names": None if names is None else {
                "width": int(names.dtype.itemsize // 4), **self.image_name_info},
            "notes": self.notes, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        text = json.dumps(jsonable(manifest), indent=2, allow_nan=False) + "\n"
        with open(self.partial / MANIFEST, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        self._install()

    def _install(self) -> None:
        """Move the finished partial folder to ``out`` (swapping out an old cache)."""
        old = None
        if self.out.exists():
            old = self.out.parent / f"{self.out.name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.out, old)
        os.replace(self.partial, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
