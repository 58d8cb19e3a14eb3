"""Benchmark: biaslens steering loop vs the GANs-course loop, measured in the same run.

Both run the course DCGAN generator + 40-attribute classifier (random init), target Male,
+ pass then − pass, with the course's accumulated gradient (so both do the same maths;
the histories are checked to agree). The course loop is C2W2's: one pass at a time,
fp32, parameters left trainable (their gradients are computed and accumulated),
``classifier(...).cpu()`` every step, ``noise.data`` updates, every image kept (detached,
to keep memory bounded). biaslens batches both passes, freezes parameters, records
into a device tensor with one host copy at the end and keeps images for ``n_show``
samples only (bf16 autocast + channels_last on CUDA).

Usage::

    python benchmarks/steer.py --quick            # CPU, small
    python benchmarks/steer.py --device cuda      # batch 128, 30 steps
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from biaslens.audit.steer import steer_history
from biaslens.models.coursera import CourseraClassifier, CourseraDCGANGenerator

TARGET = 20  # Male


def course_loop(gen: torch.nn.Module, clf: torch.nn.Module, n: int, steps: int, seed: int,
                device: torch.device, step_size: float | None = None) -> torch.Tensor:
    """The C2W2 feature-history loop, as written in the course (step ``1/steps``)."""
    w = 1 / steps if step_size is None else step_size
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
    noise = torch.randn(n, gen.z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    fake_image_history, classification_history = [], []
    for sign in (1, -1):
        new_noise = noise.clone().requires_grad_()
        for _ in range(steps):
            opt.zero_grad()
            fake = gen(new_noise)
            fake_image_history += [fake.detach()]
            classifications = clf(fake)
            classification_history += [classifications.cpu().detach()]
            fake_classes = classifications[:, TARGET].mean()
            fake_classes.backward()
            new_noise.data += sign * new_noise.grad * w
    return torch.stack(classification_history)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small CPU-friendly sizes")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=None, help="images per pass (default 128)")
    ap.add_argument("--steps", type=int, default=None, help="steps per pass (default 30)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    n = args.n or (32 if args.quick else 128)
    steps = args.steps or (4 if args.quick else 30)
    repeats = args.repeats or (2 if args.quick else 3)

    torch.manual_seed(0)
    gen = CourseraDCGANGenerator().to(device).eval()
    clf = CourseraClassifier().to(device).eval()

    # Warm-up (cuDNN autotune, allocator), then best-of-`repeats` for each.
    ref = course_loop(gen, clf, n, 2, 0, device)
    steer_history(gen, clf, TARGET, n_samples=n, steps=2, accumulate_grad=True, device=device)
    t_course, t_ours = [], []
    for r in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        ref = course_loop(gen, clf, n, steps, r, device)
        _sync(device)
        t_course.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ours = steer_history(gen, clf, TARGET, n_samples=n, steps=steps, accumulate_grad=True,
                             device=device, seed=r)
        _sync(device)
        t_ours.append(time.perf_counter() - t0)
    # At random init the logit gradients are ~1e-5, so with w = 1/steps the logits move
    # ~1e-8 and agreement would say nothing: check it with a large step (logits move ~1e-3).
    w = 4e6 / steps
    ref = course_loop(gen, clf, 8, steps, 0, device, step_size=w)
    ours = steer_history(gen, clf, TARGET, n_samples=8, steps=steps, accumulate_grad=True,
                         device=device, step_size=w)
    d_ref = ref - ref[[0]]  # changes of both passes from the start (L0 = ref[0])
    d_ours = torch.from_numpy(ours.history - ours.initial[None]).to(d_ref)
    rel = float((d_ours - d_ref).abs().max() / d_ref.abs().max())
    work = 2 * n * steps  # image-steps
    out = {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": args.threads, "n_per_pass": n, "steps": steps, "repeats": repeats,
        "course_s": min(t_course), "biaslens_s": min(t_ours),
        "course_image_steps_per_s": work / min(t_course),
        "biaslens_image_steps_per_s": work / min(t_ours),
        "speedup": min(t_course) / min(t_ours),
        "check_step_size": w,
        "check_max_logit_change": float(d_ref.abs().max()),
        "check_rel_diff": rel,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
