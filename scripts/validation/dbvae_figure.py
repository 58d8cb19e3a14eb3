"""Pictures and per-seed table of the DB-VAE validation (docs/validation.md, "DB-VAE").

Usage: ``scripts/validation/dbvae_figure.py RUN [RUN ...] --img docs/img``

Each RUN is a ``biaslens mitigate dbvae --out RUN`` folder (its ``data/`` cache,
``checkpoints/dbvae`` and ``dbvae_eval.json``). Writes, from the first RUN,
``IMG/dbvae_resampling.png`` (top row block: the 32 training faces the trained DB-VAE
draws most often; bottom: the 32 it draws least often) and ``IMG/dbvae_groups.png`` (the
per-group bars of :func:`biaslens.report.plots_mitigate.plot_group_detection`), and
prints one line per RUN: gap per detector, the change with its CI, held-out accuracy,
and the resampling weight per group.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--img", type=Path, default=Path("docs/img"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    from biaslens.mitigate.dbvae_experiment import GROUPS, LatentMeans
    from biaslens.models import load_checkpoint
    from biaslens.report.plots_mitigate import plot_group_detection
    from biaslens.tensors import predict_logits
    from biaslens.train.data import as_train_data
    from biaslens.train.dbvae import dbvae_sampling_probs
    from biaslens.train.images import save_image

    for i, run in enumerate(args.runs):
        d = json.loads((run / "dbvae_eval.json").read_text())
        ev, data = d["evaluation"], d["data"]
        ch = ev["gap_change"]["dbvae - standard_cnn"]
        line = {"run": str(run), "seed": d["config"]["seed"],
                "gap_acc": {k: [v["gap_acc"], *v["gap_acc_ci"]]
                            for k, v in ev["detectors"].items()},
                "gap_prob": {k: [v["gap_prob"], *v["gap_prob_ci"]]
                             for k, v in ev["detectors"].items()},
                "acc": {k: {g: round(b["accuracy"], 3) for g, b in v["by_group"].items()}
                        for k, v in ev["detectors"].items()},
                "change": ch, "heldout": data.get("heldout"),
                "weights": {g: data["resampling"][g]["weight"] for g in GROUPS}}
        print(json.dumps(line))
        if i:
            continue
        args.img.mkdir(parents=True, exist_ok=True)
        plot_group_detection(ev, args.img / "dbvae_groups.png", groups=list(GROUPS))
        td = as_train_data(run / "data")
        tr = td.indices("train")
        faces = tr[td.group("is_face")[tr] == 1]
        vae, _ = load_checkpoint(run / "checkpoints" / "dbvae")

        imgs = np.asarray(td.images[faces])
        mu = predict_logits(LatentMeans(vae).eval(), imgs, batch_size=256)
        cfg = d["config"]
        p = dbvae_sampling_probs(mu, bins=cfg["bins"], smoothing=cfg["smoothing"])
        order = np.argsort(-p)
        pick = np.concatenate([order[:32], order[-32:]])
        save_image(imgs[pick], args.img / "dbvae_resampling.png", nrow=16)


if __name__ == "__main__":
    main()
