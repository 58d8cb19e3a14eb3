"""Ingestion throughput: ``biaslens.data.ingest`` versus a naive per-image PIL loop.

Generates N CelebA-sized (178x218) JPEGs with smooth random content (gradients + noise,
so decoding cost is realistic) in a temp dir, then times, in the same run and on the
same cores:

- naive: one process, ``Image.open -> convert -> crop -> resize`` per image, no draft;
- ingest, workers=1: JPEG draft decoding only (the algorithmic gain);
- ingest, default workers: draft + worker processes (what ``biaslens data ingest`` does).

Each method is timed best-of-``--repeats`` (default 3), which filters out time
stolen by other jobs on shared cores. The ingest timings include everything the
command does (parse, decode, memmap writes, content hash, manifest). Without
``--quick`` it also times parsing a full-size (202,599 rows) ``list_attr_celeba.txt``.

Usage::

    python benchmarks/ingest.py            # 2000 images
    python benchmarks/ingest.py --quick    # 300 images
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from biaslens.data.celeba import format_table, parse_attr_file
from biaslens.data.images import CELEBA_CROP
from biaslens.data.cache import load_cache
from biaslens.data.ingest import default_workers, ingest
from biaslens.names import CELEBA_ATTRIBUTES


def make_celeba(root: Path, n: int, seed: int = 0, chunk: int = 200) -> list[str]:
    """Write ``n`` 178x218 JPEGs + a CelebA attribute file; bounded memory (chunks)."""
    rng = np.random.default_rng(seed)
    img_dir = root / "img_align_celeba"
    img_dir.mkdir(parents=True)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    yy = np.linspace(0, 1, 218)[None, :, None, None]
    xx = np.linspace(0, 1, 178)[None, None, :, None]
    for s in range(0, n, chunk):
        b = min(chunk, n - s)
        base = rng.uniform(0, 255, (b, 1, 1, 3))
        gy, gx = rng.uniform(-120, 120, (2, b, 1, 1, 3))
        fx, fy = rng.uniform(2, 12, (2, b, 1, 1, 3))
        blobs = 40 * np.sin(xx * fx + yy * fy)
        imgs = np.clip(base + gy * yy + gx * xx + blobs + rng.normal(0, 4, (b, 218, 178, 3)),
                       0, 255).astype(np.uint8)
        for name, arr in zip(files[s:s + b], imgs):
            Image.fromarray(arr).save(img_dir / name, quality=90)
    attrs = rng.random((n, 40)) < 0.3
    (root / "list_attr_celeba.txt").write_text(format_table(files, attrs, list(CELEBA_ATTRIBUTES)))
    return files


def naive(img_dir: Path, files: list[str], size: int) -> np.ndarray:
    """The reference: open, crop, resize each image in one process, no draft."""
    top, left, h, w = CELEBA_CROP
    out = np.empty((len(files), size, size, 3), np.uint8)
    for i, name in enumerate(files):
        with Image.open(img_dir / name) as im:
            im = im.convert("RGB").crop((left, top, left + w, top + h))
            out[i] = np.asarray(im.resize((size, size), Image.Resampling.BILINEAR))
    return out


def time_parse(tmp: Path, n: int = 202_599) -> float:
    rng = np.random.default_rng(1)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    path = tmp / "list_attr_full.txt"
    path.write_text(format_table(files, rng.random((n, 40)) < 0.3, list(CELEBA_ATTRIBUTES)))
    t = time.perf_counter()
    parse_attr_file(path)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="number of images")
    ap.add_argument("--quick", action="store_true", help="300 images, skip the parse timing")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3, help="best-of repeats per method")
    ap.add_argument("--json", type=Path, default=None, help="also write results here")
    args = ap.parse_args()
    n = 300 if args.quick else args.n
    workers = args.workers or default_workers()

    with tempfile.TemporaryDirectory(prefix="biaslens-bench-") as d:
        tmp = Path(d)
        t = time.perf_counter()
        files = make_celeba(tmp / "src", n)
        kb = sum((tmp / "src" / "img_align_celeba" / f).stat().st_size for f in files) / n / 1024
        print(f"generated {n} JPEGs (178x218, mean {kb:.1f} KB; real CelebA ~7 KB) in "
              f"{time.perf_counter() - t:.1f} s")
        img_dir = tmp / "src" / "img_align_celeba"
        def best(fn) -> float:
            """Best of ``--repeats`` wall times: robust to other jobs on shared cores."""
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            return min(times)

        ref = naive(img_dir, files, args.size)
        t_naive = best(lambda: naive(img_dir, files, args.size))
        t_one = best(lambda: ingest(tmp / "src", tmp / "c1", size=args.size, workers=1,
                                    overwrite=True))
        t_par = best(lambda: ingest(tmp / "src", tmp / "cN", size=args.size, workers=workers,
                                    overwrite=True))
        one, par = load_cache(tmp / "c1"), load_cache(tmp / "cN")
        assert one.content_hash == par.content_hash
        diff = float(np.abs(np.asarray(par.images, dtype=np.int16) - ref).mean())
        t_parse = None if args.quick else time_parse(tmp)

    rows = [("naive PIL loop", t_naive), ("ingest, workers=1 (draft)", t_one),
            (f"ingest, workers={workers} (draft)", t_par)]
    print(f"\n{'method':<30} {'seconds':>8} {'images/s':>10} {'vs naive':>9}")
    for name, sec in rows:
        print(f"{name:<30} {sec:8.2f} {n / sec:10.0f} {t_naive / sec:8.2f}x")
    print(f"mean |ingest - naive| pixel difference: {diff:.2f} / 255")
    if t_parse is not None:
        print(f"parse list_attr_celeba.txt, 202,599 rows: {t_parse:.2f} s")
    ratio = t_naive / t_par
    print(f"\nsummary: n={n} size={args.size} workers={workers}: ingest {n / t_par:.0f} img/s "
          f"vs naive {n / t_naive:.0f} img/s = {ratio:.2f}x (target >= 3x)")
    if args.json:
        args.json.write_text(json.dumps({
            "n": n, "size": args.size, "workers": workers, "naive_s": t_naive,
            "ingest_1_s": t_one, "ingest_s": t_par, "ratio": ratio, "pixel_mad": diff,
            "parse_202599_s": t_parse}, indent=2))


if __name__ == "__main__":
    main()
