"""The small loop helper every training function shares.

Device pick, torchrun/DDP detection, the seeded data order, precision (autocast), the run folder
(config first, metrics.jsonl, samples/, checkpoints/), atomic checkpoints with exact
resume, and the divergence guard. Each model family keeps its own training function
(``train_gan``, ``train_classifier``, ...) that only says what one step does.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

from biaslens.errors import BiasLensError, CheckpointError
from biaslens.io import atomic_folder, atomic_write, jsonable, write_json
from biaslens.precision import autocast, resolve_precision
from biaslens.tensors import pick_device, to_model_pixels
from biaslens.train.options import NOT_RECORDED, ProgressFn, RunOptions, StopFn

if TYPE_CHECKING:
    from biaslens.train.data import ImageStore, TrainData

__all__ = [
    "TrainResult", "TrainingDiverged", "Session", "EpochSampler", "pick_device",
    "ProgressFn", "StopFn", "run_config",
]

#: Config keys that may differ between a run and its resumption.
_RESUME_FREE_KEYS = {"steps", "command", "created", "resume", "device", "progress"}


class TrainingDiverged(BiasLensError):
    """Training stopped because a loss became NaN/Inf or the model collapsed.

    The last good checkpoint is kept; ``.result`` holds the :class:`TrainResult`.
    """

    def __init__(self, message: str, result: TrainResult):
        super().__init__(message)
        self.result = result


@dataclass
class TrainResult:
    """What a training run produced (JSON-able through :meth:`to_dict`)."""

    family: str
    out: str
    status: str  # "completed" | "stopped" | "diverged" | "dry_run"
    step: int
    steps: int
    metrics: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    images_per_s: float = float("nan")
    wall_s: float = 0.0
    message: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def dry_run(cls, family: str, config: dict[str, Any], run: RunOptions) -> TrainResult:
        """The result of ``dry_run=True``: the resolved configuration, nothing trained."""
        return cls(family, str(run.out), "dry_run", 0, run.steps,
                   config={**config, "steps": run.steps, "seed": run.seed, "device": run.device,
                           "precision": dry_run_precision(run)})


def dry_run_precision(run: RunOptions) -> str:
    """The precision a run would train at; ``auto`` stays ``auto`` when the requested
    device is not here (a dry run of ``--device cuda`` on a CPU machine)."""
    try:
        device = pick_device(run.device)
    except BiasLensError:
        return resolve_precision(run.precision, "cpu") if run.precision != "auto" else "auto"
    return resolve_precision(run.precision, device)


def legacy_precision(old: dict[str, Any], device: torch.device) -> str:
    """The precision of a run folder from before ``precision`` (its config.json has only
    ``mixed_precision``): bf16 autocast on CUDA when that was on, fp32 on CPU."""
    return "bf16" if old.get("mixed_precision", True) and device.type == "cuda" else "fp32"


@dataclass(frozen=True)
class DistInfo:
    """Rank and world size; world_size 1 means a plain single process."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the torchrun process group when RANK/WORLD_SIZE say so (NCCL on GPU, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size())


class EpochSampler:
    """Seeded data order: one ``torch.randperm`` per epoch, a function of ``step`` only.

    Step ``s`` belongs to epoch ``s // steps_per_epoch``; its global batch is a slice of
    that epoch's permutation (the last incomplete batch is dropped) and rank ``r`` takes
    the ``r``-th part of it. Because the order depends on nothing but (seed, step), a
    resumed run sees exactly the batches an uninterrupted one would.
    """

    def __init__(self, indices: np.ndarray, global_batch: int, *, seed: int, dist_info: DistInfo,
                 salt: int = 0):
        self.indices = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        self.global_batch = global_batch
        self.local_batch = global_batch // dist_info.world_size
        self.rank = dist_info.rank
        self.seed, self.salt = seed, salt
        self.steps_per_epoch = len(self.indices) // global_batch
        if self.steps_per_epoch == 0:
            raise BiasLensError(f"batch size {global_batch} is larger than the "
                                f"{len(self.indices)} training rows")
        self._epoch, self._perm = -1, self.indices

    def epoch_of(self, step: int) -> int:
        return step // self.steps_per_epoch

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(_mix(self.seed, self.salt, epoch))
            self._perm = self.indices[torch.randperm(len(self.indices), generator=g)]
            self._epoch = epoch
        return self._perm

    def batch(self, step: int) -> torch.Tensor:
        """Row indices (CPU int64) of this rank's part of global batch ``step``."""
        perm = self.permutation(self.epoch_of(step))
        start = (step % self.steps_per_epoch) * self.global_batch + self.rank * self.local_batch
        return perm[start:start + self.local_batch]


def _mix(*parts: int) -> int:
    """A stable 63-bit seed from integers (so (seed, epoch) pairs never collide simply)."""
    h = np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(2, np.uint32)
    return int((int(h[0]) << 31) ^ int(h[1]))


# --------------------------------------------------------------------------- run folder


def run_config(td: TrainData, run: RunOptions, head: dict[str, Any],
               tail: dict[str, Any] | None = None, *, unused: tuple[str, ...] = ()
               ) -> dict[str, Any]:
    """A family's config.json (before the session adds family, steps, seed, device, ...).

    In order: the data (path, content hash, image size), ``batch_size``, the family's
    ``head`` (its hyper-parameters), ``split``, its ``tail`` (e.g. evaluation settings),
    then every recorded :class:`RunOptions` field except those in ``unused``. A new run
    option is therefore recorded, and resumed, by every family without touching them.
    """
    rest = {f.name: getattr(run, f.name) for f in fields(run)
            if f.name not in NOT_RECORDED and f.name not in unused}
    return dict(data=td.source, data_hash=td.content_hash, image_size=list(td.image_size),
                batch_size=run.batch_size, **head, split=run.split, **(tail or {}), **rest)


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys whose values differ between two run configs (resume-free keys ignored)."""
    keys = (set(old) | set(new)) - _RESUME_FREE_KEYS
    return sorted(k for k in keys if old.get(k) != new.get(k))


# --------------------------------------------------------------------------- checkpoints


def _optimizer_to_flat(name: str, opt: torch.optim.Optimizer
                       ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``opt.state_dict()`` into tensors (for safetensors) and JSON metadata."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    state_meta: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        meta: dict[str, Any] = {}
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{name}.{pid}.{k}"] = v.detach().cpu().contiguous()
                meta[k] = {"tensor": True}
            else:
                meta[k] = {"value": v}
        state_meta[str(pid)] = meta
    return tensors, {"param_groups": jsonable(sd["param_groups"]), "state": state_meta}


def _optimizer_from_flat(name: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                         meta: dict[str, Any]) -> None:
    state = {}
    for pid, st in meta["state"].items():
        state[int(pid)] = {k: tensors[f"optim.{name}.{pid}.{k}"] if v.get("tensor") else v["value"]
                           for k, v in st.items()}
    groups = meta["param_groups"]
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


def _save_model(model: nn.Module, folder: Path, extra: dict[str, Any]) -> None:
    from biaslens.models import save_checkpoint

    save_checkpoint(model, folder, extra=extra)


def _load_model_weights(model: nn.Module, folder: Path) -> None:
    """Load ``folder/model.safetensors`` into an existing module (strict)."""
    path = folder / "model.safetensors"
    if not path.exists():
        raise CheckpointError(f"{path}: missing (the checkpoint folder is incomplete)")
    state = load_file(str(path), device="cpu")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: does not match the model being trained ({first})") from None


# --------------------------------------------------------------------------- the session


def metrics_line(record: dict[str, Any]) -> str:
    """One strict-JSON line of metrics.jsonl. A NaN or infinite value is written as
    ``null``, and its name and value as text under ``"nonfinite"``, so the log still says
    which loss became NaN or Inf while every line parses with a strict JSON parser.

    >>> metrics_line({"step": 3, "loss": float("nan"), "acc": 0.5})
    '{"step": 3, "loss": null, "acc": 0.5, "nonfinite": {"loss": "nan"}}'
    """
    bad = {k: str(float(v)) for k, v in record.items()
           if isinstance(v, (float, np.floating)) and not math.isfinite(v)}
    out = jsonable(record)
    if bad:
        out = {**out, "nonfinite": bad}
    return json.dumps(out, allow_nan=False, default=str)


class Session:
    """Per-run plumbing: device, ranks, run folder, RNGs, checkpoints, metrics, guard.

    A training function builds its models and optimizers, registers them here, then
    hands a ``step_fn`` to :meth:`run`. The session owns nothing model-specific.
    """

    def __init__(self, family: str, run: RunOptions, config: dict[str, Any], *,
                 collapse_key: str | None = None):
        """``run`` drives the session (resolved: ``out``, ``steps`` and ``batch_size`` set);
        ``config`` is the family's :func:`run_config`; ``collapse_key`` names the logged
        statistic the collapse guard watches (``run.collapse_std``/``collapse_patience``)."""
        if run.steps < 1:
            raise BiasLensError(f"steps must be at least 1, got {run.steps}")
        self.family = family
        self.out = Path(run.out)
        self.steps = run.steps
        self.seed = seed = run.seed
        self.device = pick_device(run.device)
        self.dist = init_distributed(self.device)
        self.log_every = max(1, run.log_every)
        self.sample_every = run.sample_every
        self.checkpoint_every = run.checkpoint_every
        self.requested_precision = run.precision
        self.precision = resolve_precision(run.precision, self.device)   # "fp32" | "bf16"
        self.collapse_key, self.collapse_min = collapse_key, run.collapse_std
        self.collapse_patience = run.collapse_patience
        self.progress, self.should_stop = run.progress, run.should_stop
        self.models: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.generators: dict[str, torch.Generator] = {}
        self.state_tensors: dict[str, torch.Tensor] = {}   # family extras (e.g. DB-VAE p_faces)
        self.model_extra: dict[str, Any] = {}
        self.start_step = 0
        self.config = dict(jsonable(config))
        command = run.command if run.command is not None else " ".join(sys.argv)
        self.config.update(family=family, steps=run.steps, seed=seed, device=str(run.device),
                           precision=self.precision, world_size=self.dist.world_size,
                           command=command,
                           created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        self.ckpt_dir = self.out / "checkpoints" / "latest"
        # weights are initialised from `seed` on every rank (identical models), then each
        # rank gets its own stream for dropout etc.
        torch.manual_seed(seed)
        self._prepare_folder(run.resume)

    # -- setup ---------------------------------------------------------------------------

    def _prepare_folder(self, resume: bool) -> None:
        cfg_path = self.out / "config.json"
        self.resuming = resume and self._latest_dir() is not None
        if resume and cfg_path.exists():
            old = json.loads(cfg_path.read_text())
            if "precision" not in old:
                old = self._adopt_legacy_precision(old)
            diff = config_differences(old, self.config)
            if diff:
                raise BiasLensError(f"{cfg_path}: cannot resume, options differ from the run's "
                                    f"config: {', '.join(diff)}")
            self.config["created"] = old.get("created", self.config["created"])
        elif resume:
            raise BiasLensError(f"{cfg_path}: nothing to resume (no config.json)")
        elif self._latest_dir() is not None:
            raise BiasLensError(f"{self.out}: already holds a run with checkpoints; "
                                "use --resume to continue it or choose another --out")
        if self.dist.is_main:
            (self.out / "samples").mkdir(parents=True, exist_ok=True)
            (self.out / "checkpoints").mkdir(parents=True, exist_ok=True)
            write_json(self.config, cfg_path)
            if not self.resuming:
                (self.out / "metrics.jsonl").write_text("")

    def _adopt_legacy_precision(self, old: dict[str, Any]) -> dict[str, Any]:
        """Resume a run folder from before ``precision`` exactly as it trained (see
        :func:`legacy_precision`); returns its config with ``precision`` in place of
        ``mixed_precision``, so an explicitly different precision is refused."""
        legacy = legacy_precision(old, self.device)
        if self.requested_precision == "auto":
            self.precision = self.config["precision"] = legacy
        old = {k: v for k, v in old.items() if k != "mixed_precision"}
        return {**old, "precision": legacy}

    def generator(self, name: str, *, per_rank: bool = True) -> torch.Generator:
        """A named torch.Generator on the training device, saved with every checkpoint."""
        g = torch.Generator(device=self.device)
        g.manual_seed(_mix(self.seed, 1 + len(self.generators),
                           self.dist.rank if per_rank else 0))
        self.generators[name] = g
        return g

    def register(self, *, models: dict[str, nn.Module],
                 optimizers: dict[str, torch.optim.Optimizer],
                 model_extra: dict[str, Any] | None = None) -> None:
        """Declare what gets checkpointed; loads the latest checkpoint when resuming."""
        self.models, self.optimizers = models, optimizers
        self.model_extra = dict(model_extra or {})
        if self.dist.world_size > 1:
            for m in models.values():   # rank 0's weights everywhere, like DDP does
                for t in list(m.parameters()) + list(m.buffers()):
                    dist.broadcast(t.data, src=0)
        torch.manual_seed(_mix(self.seed, 999, self.dist.rank))
        if self.resuming:
            self._load_latest()

    def adam(self, params, *, lr: float, betas: tuple[float, float],
             weight_decay: float = 0.0) -> torch.optim.Adam:
        """Adam, fused on CUDA (one kernel for all parameters)."""
        fused = True if self.device.type == "cuda" else None
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), weight_decay=weight_decay,
                                fused=fused)

    def eval_pass(self, model: nn.Module, store: ImageStore, rows: torch.Tensor,
                  batch_size: int, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``fn(images)`` over ``rows`` in chunks of ``batch_size``, ``model`` in eval mode
        without gradients; the float32 outputs concatenated on the CPU."""
        model.eval()
        parts = []
        with torch.no_grad(), self.autocast():
            for sl in iter_chunks(len(rows), batch_size):
                x = to_model_pixels(store.gather(rows[sl]), self.device)
                parts.append(fn(x).float().cpu())
        model.train()
        return torch.cat(parts)

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on the training device when the run's precision is bf16 (CUDA or
        CPU); a no-op for fp32. Parameters, optimizer state and losses stay fp32."""
        return autocast(self.device, self.precision)

    # -- data-parallel helpers -------------------------------------------------------------

    def sync_grads(self, *modules: nn.Module) -> None:
        """Average gradients over ranks (one flat all-reduce per call; no-op on 1 process).

        We all-reduce by hand instead of wrapping in DDP because a GAN step runs the
        discriminator several times before one backward, which DDP's hooks do not allow.
        """
        if self.dist.world_size == 1:
            return
        grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat.div_(self.dist.world_size)
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def sync_buffers(self, *modules: nn.Module) -> None:
        """Broadcast rank 0's buffers (BatchNorm running stats), as DDP does each forward."""
        if self.dist.world_size == 1:
            return
        for m in modules:
            for b in m.buffers():
                dist.broadcast(b.data, src=0)

    def _mean_over_ranks(self, values: torch.Tensor) -> torch.Tensor:
        if self.dist.world_size > 1:
            dist.all_reduce(values)
            values = values / self.dist.world_size
        return values

    # -- checkpoints -----------------------------------------------------------------------

    def _latest_dir(self) -> Path | None:
        for candidate in (self.ckpt_dir, self.ckpt_dir.with_name(".latest.old")):
            if (candidate / "trainer_state.json").exists():
                return candidate
        return None

    def save_checkpoint(self, step: int) -> Path:
        """Write checkpoints/latest/ atomically: models + trainer_state.{safetensors,json}.

        Only rank 0 writes. The new folder is built next to the old one and swapped in
        with renames, so a crash leaves either the old or the new checkpoint, never half.
        """
        if self.dist.world_size > 1:
            for m in self.models.values():
                self.sync_buffers(m)
        if self.dist.is_main:
            atomic_folder(self.ckpt_dir, lambda tmp: self._write_checkpoint(tmp, step))
        if self.dist.world_size > 1:
            dist.barrier()
        return self.ckpt_dir

    def _write_checkpoint(self, tmp: Path, step: int) -> None:
        """The checkpoint folder's content: every model, optimizer and RNG state."""
        extra = {**self.model_extra, "step": step, "family": self.family,
                 "data_hash": self.config.get("data_hash"), "run": str(self.out)}
        for name, m in self.models.items():
            _save_model(m, tmp / name, extra)
        tensors: dict[str, torch.Tensor] = {}
        meta: dict[str, Any] = {"format": "biaslens-trainer-state", "version": 1,
                                "family": self.family, "step": step, "optimizers": {},
                                "generators": sorted(self.generators),
                                "state_tensors": sorted(self.state_tensors)}
        for name, opt in self.optimizers.items():
            t, m = _optimizer_to_flat(name, opt)
            tensors.update(t)
            meta["optimizers"][name] = m
        tensors["rng.torch_cpu"] = torch.get_rng_state()
        if self.device.type == "cuda":
            tensors["rng.torch_cuda"] = torch.cuda.get_rng_state(self.device)
        for name, g in self.generators.items():
            tensors[f"rng.gen.{name}"] = g.get_state().cpu()
        for name, t in self.state_tensors.items():
            tensors[f"state.{name}"] = t.detach().cpu().contiguous()
        # through atomic_write: the umask's mode (safetensors itself writes 0600)
        atomic_write(tmp / "trainer_state.safetensors", lambda t: save_file(tensors, t))
        write_json(meta, tmp / "trainer_state.json")  # strict JSON (NaN -> null)

    def _load_latest(self) -> None:
        folder = self._latest_dir()
        assert folder is not None
        meta = json.loads((folder / "trainer_state.json").read_text())
        if meta.get("family") != self.family:
            raise CheckpointError(f"{folder}: a {meta.get('family')} checkpoint, not {self.family}")
        tensors = load_file(str(folder / "trainer_state.safetensors"), device="cpu")
        for name, m in self.models.items():
            _load_model_weights(m, folder / name)
        for name, opt in self.optimizers.items():
            _optimizer_from_flat(name, opt, tensors, meta["optimizers"][name])
        if self.dist.world_size == 1:   # per-rank streams are not saved; ranks re-derive them
            torch.set_rng_state(tensors["rng.torch_cpu"])
            if self.device.type == "cuda" and "rng.torch_cuda" in tensors:
                torch.cuda.set_rng_state(tensors["rng.torch_cuda"], self.device)
            for name, g in self.generators.items():
                g.set_state(tensors[f"rng.gen.{name}"])
        for name in meta.get("state_tensors", []):
            self.state_tensors[name] = tensors[f"state.{name}"].to(self.device)
        self.start_step = int(meta["step"])

    # -- logging ---------------------------------------------------------------------------

    def log(self, record: dict[str, Any]) -> None:
        """Append one JSON line to metrics.jsonl (rank 0 only)."""
        if self.dist.is_main:
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(metrics_line(record) + "\n")

    # -- the loop --------------------------------------------------------------------------

    def run(self, step_fn: Callable[[int], dict[str, torch.Tensor]], *, batch_images: int,
            sample_fn: Callable[[int], None] | None = None,
            eval_fn: Callable[[int], dict[str, Any]] | None = None,
            eval_every: int = 0, epoch_of: Callable[[int], int] | None = None) -> TrainResult:
        """Run ``step_fn(step)`` from the start (or resumed) step to ``self.steps``.

        ``step_fn`` returns detached scalar tensors (losses, and e.g. ``fake_std``); they
        are summed on the device and read back only at log steps, so there is no host
        synchronisation per step.
        """
        t_start = time.perf_counter()
        t_window, step_window = t_start, self.start_step
        sums: dict[str, torch.Tensor] = {}
        n_acc = 0
        last: dict[str, float] = {}
        evaluation: dict[str, Any] = {}
        collapse_count = 0
        status, message = "completed", ""
        step = self.start_step
        last_ckpt: Path | None = self._latest_dir()
        img_rate = float("nan")

        def flush() -> dict[str, float]:
            nonlocal sums, n_acc
            if not sums:
                return {}
            keys = sorted(sums)
            vals = self._mean_over_ranks(torch.stack([sums[k] for k in keys]).float() / n_acc)
            out = dict(zip(keys, vals.tolist()))
            sums, n_acc = {}, 0
            return out

        while step < self.steps:
            losses = step_fn(step)
            step += 1
            for k, v in losses.items():
                sums[k] = sums[k] + v.detach() if k in sums else v.detach().clone()
            n_acc += 1
            is_log = step % self.log_every == 0 or step == self.steps
            is_ckpt = self.checkpoint_every > 0 and step % self.checkpoint_every == 0
            stop = self.should_stop is not None and self.should_stop()
            if is_log or is_ckpt or stop:
                last = flush() or last
                now = time.perf_counter()
                img_rate = (step - step_window) * batch_images / max(now - t_window, 1e-9)
                t_window, step_window = now, step
                bad = [k for k, v in last.items() if not math.isfinite(v)]
                if self.collapse_key and last.get(self.collapse_key, 1.0) < self.collapse_min:
                    collapse_count += 1
                else:
                    collapse_count = 0
                if bad or collapse_count >= self.collapse_patience:
                    status = "diverged"
                    message = (f"loss {', '.join(bad)} became NaN/Inf at step {step}" if bad else
                               f"collapse: {self.collapse_key} < {self.collapse_min:g} for "
                               f"{collapse_count} logs in a row (step {step})")
                    self.log({"step": step, "event": "diverged", "message": message, **last})
                    break
                record: dict[str, Any] = {"step": step}
                if epoch_of is not None:
                    record["epoch"] = epoch_of(step - 1)
                self.log({**record, "images_per_s": img_rate, "elapsed_s": now - t_start, **last})
            if self.sample_every and sample_fn is not None and (
                    step % self.sample_every == 0 or step == self.steps):
                sample_fn(step)
            if eval_fn is not None and ((eval_every and step % eval_every == 0)
                                        or step == self.steps):
                evaluation = eval_fn(step)
                self.log({"step": step, "eval": evaluation})
            if is_ckpt or step == self.steps or stop:
                last_ckpt = self.save_checkpoint(step)
            if self.progress is not None and self.dist.is_main:
                self.progress(step, self.steps, last)
            if stop:
                status, message = "stopped", f"stopped on request at step {step}"
                break
        result = TrainResult(
            family=self.family, out=str(self.out), status=status, step=step, steps=self.steps,
            metrics=last, evaluation=evaluation,
            checkpoint=None if last_ckpt is None else str(last_ckpt), images_per_s=img_rate,
            wall_s=time.perf_counter() - t_start, message=message, config=self.config)
        if status == "diverged":
            kept = f"; last good checkpoint: {last_ckpt}" if last_ckpt else "; no checkpoint kept"
            raise TrainingDiverged(f"training diverged: {message}{kept}", result)
        return result

    def close(self) -> None:
        """Leave the process group if we created one."""
        if self.dist.world_size > 1 and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def iter_chunks(n: int, size: int) -> Iterator[slice]:
    """Slices of ``range(n)`` of at most ``size`` (evaluation batches)."""
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))
