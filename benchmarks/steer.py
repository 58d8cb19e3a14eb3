"""Benchmark: biaslens steering loop (fp32 and bf16) vs the GANs-course loop, same run.

All three run the course DCGAN generator + 40-attribute classifier (random init, course
widths), target Male, + pass then − pass, with the course's accumulated gradient (so they
do the same maths; the histories are checked to agree). The course loop is C2W2's: one
pass at a time, fp32, parameters left trainable (their gradients are computed and
accumulated), ``classifier(...).cpu()`` every step, ``noise.data`` updates, every image
kept (detached, to keep memory bounded). biaslens batches both passes, works on inference
copies (frozen, BatchNorm folded, channels_last, transposed convolutions through the
convolution kernels on the CPU), records into a device tensor with one host copy at the
end and keeps images for ``n_show`` samples only; ``bf16`` adds bf16 autocast.

Repeats are interleaved (course, fp32, bf16, course, ...) and the best of each is
compared, so a busy machine slows all three alike; the spread (worst/best) is printed.
The speedups are ratios of image-steps per second measured in this run. Beside them it
prints the models' arithmetic (``mflop_per_image_step``: 4 FLOPs per multiply-accumulate,
forward and input-gradient backward), the rate each loop achieves on it
(``model_gflop_per_s``), one large matrix product's rate in the same run
(``matmul_gflop_per_s``), and the ratio to the course loop that matmul rate would allow
(``speedup_ceiling_vs_course``): how far a target is from what the hardware does. The
ceiling divides by the course loop's best time, so it moves with that loop's noise.

Numerics: fp32 against the course loop with a large step on the random-init models (their
logit gradients are ~5e-5); bf16 against fp32 on the shipped default models (trained, the
course architecture at half width) at the default step, on what the audit reports: the
target's covariance row. ``max_j |cov_bf16 − cov_fp32| / (half-width of the fp32 95%
bootstrap CI)`` must stay below 0.5 (docs/validation.md). A per-logit comparison would
say little: steering is chaotic for the odd image (a ReLU flips), so one path of 64 may
drift by several logits in either precision while the statistic does not move.

Usage::

    python benchmarks/steer.py --quick            # CPU, small
    python benchmarks/steer.py                    # n 128 per pass, 30 steps, 3 repeats
    python benchmarks/steer.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from biaslens.audit.steer import steer_audit, steer_history
from biaslens.models.coursera import CourseraClassifier, CourseraDCGANGenerator
from biaslens.precision import cpu_has_bf16

TARGET = 20  # Male
BF16_TOLERANCE = 0.5  # max |cov_bf16 − cov_fp32| in fp32 CI half-widths (shipped models)
# fp32 vs the course loop, relative to the change (1e-4 at --quick, 1e-2 at 30 steps: the
# large check step makes long paths sensitive to rounding; plain ascent differs by 0.4)
FP32_TOLERANCE = 0.05


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


def forward_macs(gen: torch.nn.Module, clf: torch.nn.Module) -> int:
    """Multiply-accumulates of one image through ``clf(gen(z))`` (conv, transposed conv,
    linear layers; the arithmetic that bounds the loop)."""
    macs = 0

    def hook(m: torch.nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal macs
        k = int(np.prod(getattr(m, "kernel_size", (1,))))
        if isinstance(m, torch.nn.ConvTranspose2d):  # every input pixel scatters a kernel
            macs += inp[0][0].numel() * m.out_channels * k // m.groups
        elif isinstance(m, torch.nn.Conv2d):  # every output pixel gathers a kernel
            macs += out[0].numel() * m.in_channels * k // m.groups
        elif isinstance(m, torch.nn.Linear):
            macs += m.in_features * m.out_features

    hooks = [m.register_forward_hook(hook) for m in (*gen.modules(), *clf.modules())
             if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear))]
    with torch.no_grad():
        clf(gen(torch.zeros(1, gen.z_dim)))
    for h in hooks:
        h.remove()
    return macs


def matmul_gflops(dtype: torch.dtype, device: torch.device, size: int = 2048) -> float:
    """Best-of-5 GFLOP/s of one large matrix product: this machine's attainable rate for
    ``dtype``, the ceiling any convolution loop can approach."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(5):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _bf16_check(device: torch.device, steps: int) -> dict[str, float] | None:
    """bf16 vs fp32 covariance rows on the shipped models (``None`` if not shipped)."""
    from biaslens.defaults import load_default
    from biaslens.errors import CheckpointError
    try:
        gen, clf = load_default("generator"), load_default("classifier")
    except CheckpointError:
        return None
    res = {p: steer_audit(gen, clf, "Male", n_samples=32, steps=steps, n_boot=200, seed=0,
                          device=device, precision=p) for p in ("fp32", "bf16")}
    f, b = res["fp32"], res["bf16"]
    half = (f.ci_high - f.ci_low) / 2
    return {"max_cov_diff_in_ci_halfwidths":
            float(np.nanmax(np.abs(b.covariance - f.covariance) / half)),
            "n_samples": 32, "n_boot": 200}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="small CPU-friendly sizes (n 32 per pass, 4 steps, 2 repeats)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=None, help="images per pass (default 128)")
    ap.add_argument("--steps", type=int, default=None, help="steps per pass (default 30)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's, one per core)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    n = args.n or (32 if args.quick else 128)
    steps = args.steps or (4 if args.quick else 30)
    repeats = args.repeats or (2 if args.quick else 3)
    precisions = ("fp32", "bf16") if device.type != "cpu" or cpu_has_bf16() else ("fp32",)

    torch.manual_seed(0)
    gen = CourseraDCGANGenerator().to(device).eval()
    clf = CourseraClassifier().to(device).eval()

    def ours(p: str, seed: int, k: int = steps) -> None:
        steer_history(gen, clf, TARGET, n_samples=n, steps=k, accumulate_grad=True,
                      device=device, seed=seed, precision=p)

    # Warm-up (allocator, oneDNN primitive caches), then interleaved repeats.
    course_loop(gen, clf, n, 2, 0, device)
    for p in precisions:
        ours(p, 0, 2)
    times: dict[str, list[float]] = {k: [] for k in ("course", *precisions)}
    for r in range(repeats):
        for k in times:
            _sync(device)
            t0 = time.perf_counter()
            if k == "course":
                course_loop(gen, clf, n, steps, r, device)
            else:
                ours(k, r)
            _sync(device)
            times[k].append(time.perf_counter() - t0)
    # At random init the logit gradients are ~5e-5, so with w = 1/steps the logits move
    # ~1e-8 and agreement would say nothing: check it with a large step (logits move ~1e-3).
    w = 4e6 / steps
    ref = course_loop(gen, clf, 8, steps, 0, device, step_size=w)
    run = steer_history(gen, clf, TARGET, n_samples=8, steps=steps, accumulate_grad=True,
                        device=device, step_size=w, precision="fp32")
    d_ref = ref - ref[[0]]  # changes of both passes from the start (L0 = ref[0])
    d_ours = torch.from_numpy(run.history - run.initial[None]).to(d_ref)
    rel = float((d_ours - d_ref).abs().max() / d_ref.abs().max())
    work = 2 * n * steps  # image-steps
    best = {k: min(v) for k, v in times.items()}
    # Roofline: forward + input-gradient backward is 4 FLOPs per MAC (the course loop also
    # computes the classifier's weight gradients, which this count leaves out).
    flop = 4 * forward_macs(gen, clf)
    peak = {"fp32": matmul_gflops(torch.float32, device)}
    if "bf16" in precisions:
        peak["bf16"] = matmul_gflops(torch.bfloat16, device)
    out: dict[str, object] = {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "cpu_has_bf16": cpu_has_bf16(), "threads": torch.get_num_threads(),
        "n_per_pass": n, "steps": steps, "repeats": repeats,
        "seconds_best": best,
        "spread_worst_over_best": {k: max(v) / min(v) for k, v in times.items()},
        "image_steps_per_s": {k: work / t for k, t in best.items()},
        "speedup_vs_course": {p: best["course"] / best[p] for p in precisions},
        "mflop_per_image_step": flop / 1e6,
        "model_gflop_per_s": {k: work * flop / t / 1e9 for k, t in best.items()},
        "matmul_gflop_per_s": peak,
        # The ratio this loop would reach against the course loop if every model FLOP ran
        # at the large-matmul rate: how far the target is from what the hardware allows.
        "speedup_ceiling_vs_course": {p: peak[p] * 1e9 / flop / (work / best["course"])
                                      for p in precisions},
        "check_fp32_vs_course": {"step_size": w, "max_logit_change": float(d_ref.abs().max()),
                                 "rel_diff": rel, "tolerance": FP32_TOLERANCE,
                                 "ok": rel <= FP32_TOLERANCE},
    }
    if "bf16" in precisions:
        out["speedup_bf16_vs_fp32"] = best["fp32"] / best["bf16"]
        check = _bf16_check(device, steps)
        if check is not None:
            check.update(tolerance=BF16_TOLERANCE,
                         ok=check["max_cov_diff_in_ci_halfwidths"] <= BF16_TOLERANCE)
        out["check_bf16_vs_fp32"] = check
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
