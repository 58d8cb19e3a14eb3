"""GAN training throughput: biaslens.train.train_gan (fp32 and bf16) vs a reference loop.

Same architecture (course DCGAN), batch 128, same run. The reference is the course's loop:
fp32, data from a CPU float tensor in [-1, 1], ``.item()`` on the losses every step, no
compile. ``train_gan`` runs at ``precision="fp32"`` and ``"bf16"`` (autocast; on a CPU
without bf16 matrix units bf16 is emulated and slow: ``auto`` picks fp32 there). The three
loops are interleaved ``--repeats`` times; each line is one repeat, the last line the
median images/s, the median ratios against the reference and their range (min-max over
repeats, each ratio taken within one repeat). On CPU and (when present) on the GPU.

    python benchmarks/train.py            # 10 timed steps after 2 warm-up steps, 3 repeats
    python benchmarks/train.py --quick    # 3 timed steps, 1 repeat
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.models import build_model
from biaslens.precision import cpu_has_bf16
from biaslens.tensors import to_model_pixels
from biaslens.train import RunOptions, train_gan

WARMUP = 2      # untimed steps before the timed ones (allocator, oneDNN kernel choice)


def reference_loop(images_f: torch.Tensor, steps: int, batch: int, device: str) -> float:
    """The course-style loop; images/s over ``steps`` after ``WARMUP`` untimed steps."""
    torch.manual_seed(0)
    G = build_model("coursera_dcgan_generator").to(device)
    D = build_model("coursera_dcgan_discriminator").to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = len(images_f)
    t0 = 0.0
    for step in range(WARMUP + steps):
        if step == WARMUP:
            t0 = time.perf_counter()
        idx = torch.randint(0, n, (batch,))
        real = images_f[idx].to(device)
        z = torch.randn(batch, G.z_dim, device=device)
        opt_d.zero_grad()
        fake = G(z)
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                        + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        d_gen = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        loss_g.backward()
        opt_g.step()
        loss_d.item(), loss_g.item()        # what a typical loop logs every step
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def biaslens_loop(images_u8: np.ndarray, steps: int, batch: int, device: str,
                  precision: str) -> float:
    """train_gan's images/s over ``steps`` after ``WARMUP`` untimed steps (timed from the
    progress callback, which runs after every step)."""
    marks: dict[int, float] = {}

    def progress(step: int, total: int, metrics: dict[str, float]) -> None:
        if step in (WARMUP, WARMUP + steps):
            if device == "cuda":
                torch.cuda.synchronize()
            marks[step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        run = RunOptions(out=tmp, steps=WARMUP + steps, batch_size=batch,
                         log_every=WARMUP + steps, sample_every=0, checkpoint_every=0,
                         device=device, precision=precision, command="benchmark",
                         progress=progress)
        train_gan(images_u8, run, discriminator="coursera_dcgan_discriminator", loss="bce",
                  init="default")
    return steps * batch / (marks[WARMUP + steps] - marks[WARMUP])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 steps, 1 repeat (shared machines)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per loop")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    steps, repeats = (3, 1) if args.quick else (args.steps, args.repeats)
    rng = np.random.default_rng(0)
    images_u8 = rng.integers(0, 256, (1024, 64, 64, 3), dtype=np.uint8)
    images_f = to_model_pixels(images_u8)           # float NCHW in [-1, 1], on the CPU
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        runs: list[dict[str, float]] = []
        for r in range(repeats):
            row = {"reference": reference_loop(images_f, steps, args.batch, dev),
                   "fp32": biaslens_loop(images_u8, steps, args.batch, dev, "fp32"),
                   "bf16": biaslens_loop(images_u8, steps, args.batch, dev, "bf16")}
            runs.append(row)
            print(json.dumps({"device": dev, "repeat": r, **{
                f"{k}_img_s": round(v, 1) for k, v in row.items()},
                "fp32_ratio": round(row["fp32"] / row["reference"], 3),
                "bf16_ratio": round(row["bf16"] / row["reference"], 3)}))
        summary: dict[str, object] = {
            "device": dev, "steps": steps, "batch": args.batch, "repeats": repeats,
            "threads": torch.get_num_threads(),
            "cpu_bf16": cpu_has_bf16() if dev == "cpu" else None}
        for k in ("reference", "fp32", "bf16"):
            summary[f"{k}_img_s"] = round(statistics.median(r[k] for r in runs), 1)
        for k in ("fp32", "bf16"):
            ratios = [r[k] / r["reference"] for r in runs]
            summary[f"{k}_ratio"] = round(statistics.median(ratios), 3)
            summary[f"{k}_ratio_range"] = [round(min(ratios), 3), round(max(ratios), 3)]
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
