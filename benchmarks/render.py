"""Rendering speed of the synthetic face world: faces/s at 64x64 on 1 and 2 processes.

    python benchmarks/render.py            # 4000 faces per measurement
    python benchmarks/render.py --quick    # 600 faces, for a smoke run

Attributes are drawn independently at CelebA's marginal prevalences (the shipped
``celeba_attribute_stats.json``). The 2-process run splits the faces into chunks rendered
with ``start_index`` by a process pool, and checks the pixels equal the 1-process run.
Prints faces/s, the 2-vs-1 process speed-up, the ratio to the 500 faces/s target, and
CPU ms/face (wall time on a shared machine also counts waiting for a core).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import resources

import numpy as np

TARGET = 500.0  # faces/s at 64x64 on 2 cores


def _setup(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    stats = json.loads(resources.files("biaslens.resources")
                       .joinpath("celeba_attribute_stats.json").read_text())
    rng = np.random.default_rng(seed)
    attrs = rng.random((n, 40)) < np.asarray(stats["prevalence"])
    return attrs, rng.random(n)


def _chunk(args) -> tuple[np.ndarray, float]:
    """Render one chunk; also return the CPU seconds this process spent on it."""
    from biaslens.world.render import render_faces
    attrs, tone, seed, size, start = args
    c0 = time.process_time()
    img = render_faces(attrs, tone, seed=seed, size=size, start_index=start)
    return img, time.process_time() - c0


def _run(attrs, tone, *, size, seed, chunk, workers) -> tuple[float, float, np.ndarray]:
    """Wall seconds, summed CPU seconds and the images of rendering in ``workers`` processes."""
    jobs = [(attrs[s:s + chunk], tone[s:s + chunk], seed, size, s)
            for s in range(0, len(attrs), chunk)]
    t0 = time.perf_counter()
    if workers == 1:
        out = [_chunk(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as ex:
            list(ex.map(_chunk, jobs[:workers]))  # warm the workers (imports) before timing
            t0 = time.perf_counter()
            out = list(ex.map(_chunk, jobs))
    wall = time.perf_counter() - t0
    return wall, sum(c for _, c in out), np.concatenate([im for im, _ in out])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="600 faces instead of 4000")
    ap.add_argument("--n", type=int, default=None, help="faces per measurement")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=200, help="faces per render call")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = args.n or (600 if args.quick else 4000)
    attrs, tone = _setup(n, args.seed)
    _chunk((attrs[:50], tone[:50], args.seed, args.size, 0))  # warm-up (imports, caches)

    t1, cpu1, img1 = _run(attrs, tone, size=args.size, seed=args.seed, chunk=args.chunk, workers=1)
    t2, cpu2, img2 = _run(attrs, tone, size=args.size, seed=args.seed, chunk=args.chunk, workers=2)
    same = bool(np.array_equal(img1, img2))
    r1, r2 = n / t1, n / t2
    print(f"faces: {n} at {args.size}x{args.size}, chunk {args.chunk}")
    print(f"1 process : {r1:8.0f} faces/s  ({1e3 * t1 / n:.2f} ms/face)")
    print(f"2 processes: {r2:8.0f} faces/s  (speed-up x{r2 / r1:.2f}, identical pixels: {same})")
    print(f"target {TARGET:.0f} faces/s on 2 processes: ratio {r2 / TARGET:.2f}")
    # On a shared machine wall time includes waiting for a core; CPU time does not.
    print(f"CPU time: {1e3 * cpu1 / n:.2f} ms/face (1 process), {1e3 * cpu2 / n:.2f} ms/face "
          f"(2 processes) -> uncontended 2-core estimate {2 * n / cpu2:.0f} faces/s")


if __name__ == "__main__":
    main()
