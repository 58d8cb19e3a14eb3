"""Resume a run from its folder: the recorded config.json is the whole call.

>>> from biaslens.train import resume_run
>>> resume_run("runs/gan", steps=4000)   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from biaslens.errors import BiasLensError
from biaslens.train.classifier import train_classifier
from biaslens.train.dbvae import train_dbvae
from biaslens.train.gan import train_gan
from biaslens.train.loop import TrainResult
from biaslens.train.options import RunOptions
from biaslens.train.vae import train_cvae, train_vae

__all__ = ["FAMILIES", "resume_run"]

#: family -> (training function, config keys the family derives instead of taking them).
FAMILIES: dict[str, tuple[Callable[..., TrainResult], tuple[str, ...]]] = {
    "gan": (train_gan, ()),
    "classifier": (train_classifier, ("pos_weight_values",)),
    "vae": (train_vae, ()),
    "cvae": (train_cvae, ()),
    "dbvae": (train_dbvae, ("steps_per_epoch",)),
}

#: Keys every config.json holds about the run rather than as options of the call, and
#: ``mixed_precision`` of run folders from before ``precision`` (the session maps it).
_RECORDED = ("data", "data_hash", "image_size", "family", "world_size", "created",
             "mixed_precision")


def resume_run(out: str | Path, *, data: Any = None, family: str | None = None,
               **changes: Any) -> TrainResult:
    """Continue the run in ``out`` exactly: the same family, data and options as recorded.

    ``data`` replaces the recorded data path (needed for a run trained on in-memory
    arrays); ``family`` refuses a run of another family; ``changes`` are options to
    change (``steps``, ``device``, ``command``, ``progress``, ``dry_run``, ...; changing
    any other option is refused by the session, see ``config_differences``).
    """
    cfg_path = Path(out) / "config.json"
    if not cfg_path.exists():
        raise BiasLensError(f"{out}: not a run folder (it has no config.json)")
    stored = json.loads(cfg_path.read_text())
    found = stored.get("family")
    if found not in FAMILIES or (family is not None and found != family):
        raise BiasLensError(f"{out} is a {found} run, not "
                            f"{family or 'one of ' + ', '.join(FAMILIES)}")
    fn, derived = FAMILIES[found]
    names = {f.name for f in fields(RunOptions)}
    run = RunOptions(**{k: v for k, v in stored.items() if k in names}, out=Path(out),
                     resume=True)
    hyper = {k: v for k, v in stored.items()
             if k not in names and k not in _RECORDED and k not in derived}
    if data is None:
        data = stored["data"]
        if not Path(data).is_dir():
            raise BiasLensError(f"{cfg_path}: the recorded data {data!r} is not a cache folder; "
                                "pass data=")
    state = Path(out) / "checkpoints" / "latest" / "trainer_state.json"
    if changes.get("steps") is not None and state.exists():
        done = json.loads(state.read_text()).get("step", 0)
        if changes["steps"] < done:
            raise BiasLensError(f"--steps {changes['steps']}: {out} is already at step {done}; "
                                "a resumed run can only train on (give at least that many)")
    return fn(data, run, **{**hyper, **changes})
