"""GAN training throughput: biaslens.train.train_gan vs a straightforward reference loop.

Same architecture (course DCGAN), batch 128, same run. The reference is the course's loop:
fp32, data from a CPU float tensor in [-1, 1], ``.item()`` on the losses every step, no
compile. Prints images/s and the ratio, on CPU and (when present) on the GPU.

    python benchmarks/train.py --quick
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.models import build_model
from biaslens.tensors import to_model_pixels
from biaslens.train import RunOptions, train_gan


def reference_loop(images_f: torch.Tensor, steps: int, batch: int, device: str) -> float:
    """The course-style loop; returns images/s over ``steps`` after one warm-up step."""
    torch.manual_seed(0)
    G = build_model("coursera_dcgan_generator").to(device)
    D = build_model("coursera_dcgan_discriminator").to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = len(images_f)
    t0 = None
    for step in range(steps + 1):
        if step == 1:
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
    return steps * batch / (time.perf_counter() - t0)


def biaslens_loop(images_u8: np.ndarray, steps: int, batch: int, device: str) -> float:
    """train_gan's throughput over its second log window (steps+1..2·steps, after warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        # steps+1 steps logged every `steps`: the last window is the final step(s) after
        # the first (warm-up) window, like the reference's timing
        run = RunOptions(out=tmp, steps=2 * steps, batch_size=batch, log_every=steps,
                         sample_every=0, checkpoint_every=0, device=device, command="benchmark")
        r = train_gan(images_u8, run, discriminator="coursera_dcgan_discriminator", loss="bce",
                      init="default")
    return r.images_per_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few steps (shared machines)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = 3 if args.quick else args.steps
    rng = np.random.default_rng(0)
    images_u8 = rng.integers(0, 256, (1024, 64, 64, 3), dtype=np.uint8)
    images_f = to_model_pixels(images_u8)           # float NCHW in [-1, 1], on the CPU
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for dev in devices:
        ref = reference_loop(images_f, steps, args.batch, dev)
        ours = biaslens_loop(images_u8, steps, args.batch, dev)
        rows.append({"device": dev, "steps": steps, "batch": args.batch,
                     "reference_img_s": round(ref, 1), "biaslens_img_s": round(ours, 1),
                     "ratio": round(ours / ref, 3), "threads": torch.get_num_threads()})
        print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
