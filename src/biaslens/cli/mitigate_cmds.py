"""``biaslens mitigate dbvae|latent-aug`` and ``biaslens experiment latent-aug``.

Thin layers over :mod:`biaslens.pipelines.mitigation` (which resolves the inputs and
writes each run folder's JSON); the commands parse, call it, draw the PNG and print a
table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from biaslens.cli._common import (
    DBVAE,
    LATENT_AUG,
    console,
    err_console,
    experiment_app,
    mitigate_app,
    ranged,
)
from biaslens.errors import BiasLensError
from biaslens.report.tables import name_column


def _progress() -> Progress:
    """One bar per stage (rendering, each training run, fitting), named, with the steps
    done and the time taken; kept on screen when done (stderr, so stdout stays the
    tables)."""
    return Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
                    transient=False)


def _progress_cb(prog: Progress):
    tasks: dict[str, Any] = {}

    def cb(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = prog.add_task(stage, total=total)
        prog.update(tasks[stage], completed=done, total=total)
    return cb


# --------------------------------------------------------------------------- DB-VAE


@mitigate_app.command("dbvae")
def dbvae_cmd(
    cache: str = typer.Argument(None, help="Face/non-face cache (group column is_face); "
                                "default: synthesize the default world."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    epochs: int = typer.Option(2, help="Epochs of both detectors.",
                               callback=ranged(DBVAE, "epochs")),
    n_faces: int = typer.Option(4000, help="Faces to synthesize (without CACHE).",
                                callback=ranged(DBVAE, "n_faces")),
    n_nonfaces: int = typer.Option(4000, help="Non-faces to synthesize (without CACHE).",
                                   callback=ranged(DBVAE, "n_nonfaces")),
    n_per_group: int = typer.Option(250, help="Balanced test faces per skin type × gender.",
                                    callback=ranged(DBVAE, "n_per_group")),
    scene: str = typer.Option("detection", help="Capture conditions of the synthesized "
                              "images and the test faces: detection or none."),
    bins: int = typer.Option(10, help="Latent histogram bins.", callback=ranged(DBVAE, "bins")),
    smoothing: float = typer.Option(1e-3, help="Histogram smoothing α.",
                                    callback=ranged(DBVAE, "smoothing")),
    latent_dim: int = typer.Option(100, help="DB-VAE latent size k.",
                                   callback=ranged(DBVAE, "latent_dim")),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples.",
                               callback=ranged(DBVAE, "n_boot")),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    seed: int = typer.Option(0, help="Seed of data, weights, sampling and bootstrap.",
                             callback=ranged(DBVAE, "seed")),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config only."),
) -> None:
    """Train the standard CNN and the DB-VAE face detectors; compare them per group.

    Writes RUN/dbvae_eval.json, RUN/dbvae_groups.png and RUN/checkpoints/{standard_cnn,dbvae}.

    Example: biaslens mitigate dbvae --out runs/dbvae --epochs 2
    """
    from biaslens.mitigate.dbvae_experiment import GROUPS, DBVAEConfig
    from biaslens.pipelines.mitigation import dbvae_run
    from biaslens.report.plots_mitigate import plot_group_detection

    cfg = DBVAEConfig(epochs=epochs, n_faces=n_faces, n_nonfaces=n_nonfaces,
                      n_per_group=n_per_group, scene=scene, bins=bins, smoothing=smoothing,
                      latent_dim=latent_dim, n_boot=n_boot, device=device, seed=seed)
    from biaslens.world.scene import scene_params

    scene_params(scene)   # before the progress bar: an unknown scene prints one line only
    if dry_run:
        console.print_json(data={"cache": cache, "out": str(out), **cfg.to_dict()})
        return
    with _progress() as prog:
        d = dbvae_run(cache, out=out, config=cfg, progress=_progress_cb(prog)).to_dict()
    plot_group_detection(d["evaluation"], out / "dbvae_groups.png", groups=list(GROUPS))
    ev = d["evaluation"]
    table = Table(title="Face detection per group")
    name_column(table, "group", [*GROUPS, "gap best−worst"])
    for k in ev["detectors"]:
        table.add_column(f"{k}\nP(face) [95% CI]", justify="right", no_wrap=True)
        table.add_column("\nacc.", justify="right", no_wrap=True)
    for gname in GROUPS:
        row = [gname]
        for det in ev["detectors"].values():
            b = det["by_group"][gname]
            row += [f"{b['mean_prob']:.3f} [{b['mean_prob_ci'][0]:.3f}, "
                    f"{b['mean_prob_ci'][1]:.3f}]", f"{b['accuracy']:.3f}"]
        table.add_row(*row)
    gaps = []
    for det in ev["detectors"].values():
        gaps += [f"{det['gap_prob']:.3f} [{det['gap_prob_ci'][0]:.3f}, "
                 f"{det['gap_prob_ci'][1]:.3f}]", ""]
    table.add_row("gap best−worst", *gaps, end_section=True)
    table.caption = ("P(face): mean detector probability on the group's test faces; acc.: "
                     "accuracy at 0.5; gap: best minus worst group")
    table.caption_justify = "left"
    console.print(table)
    for k, ch in ev["gap_change"].items():
        c = ch["gap_prob"]
        console.print(f"{k}: gap change {c['difference']:+.3f} "
                      f"[{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}] → {c['verdict']}")
    console.print(f"wrote {out / 'dbvae_eval.json'}, {out / 'dbvae_groups.png'}")


# --------------------------------------------------------------------------- latent augmentation


def _print_pair(res: dict[str, Any]) -> None:
    table = Table(title=f"{res['target']} (protected {', '.join(res['protected'])})")
    for c in ("model", "AP", "DEO", "BA", "KL"):
        table.add_column(c, justify="right")
    for k in ("baseline", "augmented"):
        r = res[k]
        table.add_row(k, *[f"{r[m]:.2f} ± {r[m + '_pm']:.2f}" for m in ("ap", "deo", "ba", "kl")])
    table.caption = ("median ± 2·std over bootstrap resamples (the paper's format); AP, DEO, "
                     "BA ×100; DEO, BA, KL: 0 = fair")
    table.caption_justify = "left"
    console.print(table)
    for m in ("deo", "ba"):
        c = res["change"][m]
        console.print(f"{m.upper()} change {c['difference']:+.2f} "
                      f"[{c['ci'][0]:+.2f}, {c['ci'][1]:+.2f}] → {c['verdict']}")
    _print_premise(res)


def _print_premise(res: dict[str, Any]) -> None:
    """The method's premise on this generator: a warning when the target is not linear in z."""
    p = res.get("pairs", {}).get("premise") or {}
    if p and not p["holds"]:
        console.print(f"[yellow]note[/]: {p['message']}.", soft_wrap=False)
    elif p:
        console.print(f"premise holds: {res['target']} hyperplane AUC "
                      f"{p['hyperplane_auc'][0]:.2f} on fresh z; of the complementary faces "
                      f"{p['prime_agreement'][0]:.0%} are read with their inherited "
                      f"{res['target']} label, {p['prime_agreement'][1]:.0%} as the flipped "
                      f"{res['protected'][0]}")


_MARK = {"reduced": "↓", "increased": "↑", "no significant change": "·"}


def _print_by_target(by_target: dict[str, dict[str, Any]], seeds: list[int]) -> None:
    """Per target: the DEO change of every seed, how many seeds decided it, the premise."""
    from biaslens.mitigate.latent_aug import PREMISE_MIN_AUC

    table = Table(title=f"DEO change, augmented − baseline, per seed ({len(seeds)} "
                  f"seed{'s' if len(seeds) != 1 else ''}: {', '.join(map(str, seeds))})")
    name_column(table, "target", list(by_target))
    for c in ("z AUC", "DEO change", "reduced", "increased"):
        table.add_column(c, justify="right")
    for t, e in by_target.items():
        d = e["deo"]
        auc = [a for a in e["hyperplane_auc"] if a is not None and math.isfinite(a)]
        table.add_row(t, f"{min(auc):.2f}" if auc else "—",
                      " ".join(f"{r['difference']:+.1f}{_MARK[r['verdict']]}"
                               for r in d["per_seed"]),
                      f"{d['reduced']}/{len(d['per_seed'])}",
                      f"{d['increased']}/{len(d['per_seed'])}")
    table.caption = ("DEO change: one value per seed, in the order above; ↓ reduced, "
                     "↑ increased (95 % paired bootstrap CI excludes 0), · no significant "
                     "change (CIs in the JSON). z AUC: how well a hyperplane in z separates "
                     f"the target (lowest over seeds; the method assumes >= {PREMISE_MIN_AUC})")
    table.caption_justify = "left"
    console.print(table)


_COMMON = dict(
    n_fit=typer.Option(10_000, help="z sampled to fit the hyperplanes.",
                       callback=ranged(LATENT_AUG, "n_fit")),
    n_aug=typer.Option(10_000, help="Pairs (z, z') added to the training data.",
                       callback=ranged(LATENT_AUG, "n_aug")),
    epochs=typer.Option(2, help="Epochs of each classifier.",
                       callback=ranged(LATENT_AUG, "epochs")),
    arch=typer.Option("coursera_classifier", help="Target classifier architecture."),
    precision=typer.Option("auto", help="auto, fp32 or bf16: precision of both trainings "
                           "(auto = bf16 on a CUDA GPU or a CPU with bf16 units).",
                           callback=lambda v: _precision(v)),
)


@mitigate_app.command("latent-aug")
def latent_aug_cmd(
    cache: str = typer.Argument(..., help="Real training data (cache with train/val/test)."),
    target: str = typer.Option(..., help="Target attribute, e.g. Smiling."),
    protected: str = typer.Option("Male", help="Protected attribute, or two comma-separated."),
    generator: str = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: str = typer.Option(None, help="Labelling classifier (default: shipped; "
                                   "'baseline' = the classifier trained here)."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    n_fit: int = _COMMON["n_fit"], n_aug: int = _COMMON["n_aug"],
    epochs: int = _COMMON["epochs"], arch: str = _COMMON["arch"],
    precision: str = _COMMON["precision"],
    mode: str = typer.Option("single", help="single | domain (domain-dependent planes)."),
    variant: str = typer.Option("complementary", help="complementary | on_hyperplane | "
                                "perp | perp_on_hyperplane."),
    method: str = typer.Option("svm", help="svm (LinearSVC) | logistic."),
    n_boot: int = typer.Option(500, help="Bootstrap resamples.",
                               callback=ranged(LATENT_AUG, "n_boot")),
    device: str = typer.Option("cpu", help="cpu | cuda."),
    seed: int = typer.Option(0, help="Seed.", callback=ranged(LATENT_AUG, "seed")),
) -> None:
    """Ramaswamy et al. latent augmentation: baseline vs augmented classifier on CACHE.

    Example: biaslens mitigate latent-aug caches/synth64 --target Smiling --out runs/la
    """
    from biaslens.pipelines.mitigation import latent_aug_run
    from biaslens.report.plots_mitigate import plot_latent_aug

    prot = [p.strip() for p in protected.split(",")]
    with _progress() as prog:
        res = latent_aug_run(cache, target=target, protected=prot if len(prot) > 1 else prot[0],
                             generator=generator, classifier=classifier, out=out, n_fit=n_fit,
                             n_aug=n_aug, epochs=epochs, arch=arch, mode=mode, variant=variant,
                             method=method, n_boot=n_boot, device=device, seed=seed,
                             precision=precision, progress=_progress_cb(prog)).to_dict()
    plot_latent_aug({k: res[k] for k in ("baseline", "augmented")}, out / "latent_aug.png",
                    title=res["target"])
    _print_pair(res)
    console.print(f"wrote {out / 'latent_aug.json'}")


def _precision(value: str) -> str:
    """``--precision`` checked while parsing against the library's one list."""
    from biaslens.precision import PRECISIONS

    if value not in PRECISIONS:
        raise typer.BadParameter(f"must be one of {', '.join(PRECISIONS)}; got {value!r}")
    return value


def _seed_list(value: str | None) -> list[int] | None:
    """``--seeds 0,1,2`` -> ``[0, 1, 2]``, refused while parsing when not distinct ints >= 0."""
    if value is None:
        return None
    try:
        seeds = [int(v) for v in value.split(",")]
    except ValueError:
        raise typer.BadParameter(f"must be comma-separated integers; got {value!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise typer.BadParameter(f"must be distinct integers >= 0; got {value!r}")
    return seeds


@experiment_app.command("latent-aug")
def latent_aug_experiment_cmd(
    cache: str = typer.Argument(None, help="Real data cache; omit with --toy."),
    targets: str = typer.Option(..., help="Comma-separated targets, e.g. Smiling,Young."),
    protected: str = typer.Option("Male", help="Protected attribute."),
    generator: str = typer.Option(None, help="Generator checkpoint (default: shipped)."),
    classifier: str = typer.Option(None, help="Labelling classifier (default: the baseline)."),
    toy: bool = typer.Option(False, "--toy", help="Planted world: WorldGenerator with "
                             "cos(target, protected) = --cosine; independent test world."),
    cosine: float = typer.Option(0.8, help="Planted latent cosine (--toy).", min=-1.0, max=1.0),
    n_real: int = typer.Option(2000, help="Real training faces (--toy).", min=1),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    n_fit: int = _COMMON["n_fit"], n_aug: int = _COMMON["n_aug"],
    epochs: int = _COMMON["epochs"], arch: str = _COMMON["arch"],
    precision: str = _COMMON["precision"],
    n_boot: int = typer.Option(500, help="Bootstrap resamples.",
                               callback=ranged(LATENT_AUG, "n_boot")),
    device: str = typer.Option("cpu", help="cpu | cuda."),
    seed: int = typer.Option(0, help="Seed (one run per target).",
                             callback=ranged(LATENT_AUG, "seed")),
    seeds: str = typer.Option(None, help="Comma-separated seeds, e.g. 0,1,2: every target "
                              "once per seed (replaces --seed); with two or more, runs go "
                              "to OUT/seed<S>/<target>/.",
                              callback=_seed_list),
) -> None:
    """Baseline vs augmented over several targets (and seeds); the paper's table.

    Example: biaslens experiment latent-aug --toy --targets Wearing_Earrings,Smiling --out runs/x
    """
    from biaslens.pipelines.mitigation import latent_aug_experiment
    from biaslens.report.plots_mitigate import plot_latent_aug

    names = [t.strip() for t in targets.split(",") if t.strip()]
    if not names:
        raise BiasLensError("--targets is empty")
    with _progress() as prog:
        doc = latent_aug_experiment(cache, targets=names, protected=protected,
                                    generator=generator, classifier=classifier or "baseline",
                                    toy=toy, cosine=cosine, n_real=n_real, out=out,
                                    n_fit=n_fit, n_aug=n_aug, epochs=epochs, arch=arch,
                                    n_boot=n_boot, device=device, seed=seed,
                                    seeds=seeds, precision=precision,
                                    progress=_progress_cb(prog))
    rows, summary = doc["targets"], doc["summary"]
    many = len(doc["seeds"]) > 1
    for res in rows:
        folder = out / f"seed{res['seed']}" if many else out
        plot_latent_aug({k: res[k] for k in ("baseline", "augmented")},
                        folder / res["target"] / "latent_aug.png", title=res["target"])
    table = Table(title=f"Latent augmentation, protected {protected}")
    for c in ("category", "targets", "metric", "baseline", "augmented"):
        table.add_column(c, justify="left" if c in ("category", "metric") else "right",
                         no_wrap=True)
    for cat, s in summary.items():
        for k, m in enumerate(("ap", "deo", "ba", "kl")):
            table.add_row(cat if k == 0 else "", str(s["n_targets"]) if k == 0 else "",
                          m.upper(), *[f"{s[m][v]:.2f} ± {s[m][v + '_pm']:.2f}"
                                       for v in ("baseline", "augmented")],
                          end_section=k == 3)
    table.caption = ("mean over targets (and seeds) of the median ± 2·std over bootstrap "
                     "resamples (the paper's format); AP, DEO, BA ×100; DEO, BA, KL: 0 = fair")
    table.caption_justify = "left"
    console.print(table)
    _print_by_target(doc["by_target"], doc["seeds"])
    for t in doc["by_target"]:
        failed = [r for r in rows if r["target"] == t and
                  not r["pairs"]["premise"].get("holds", True)]
        if failed:
            worst = min(failed, key=lambda r: r["pairs"]["premise"]["hyperplane_auc"][0])
            where = (f"seed {worst['seed']} (fails in {len(failed)} of {len(doc['seeds'])} "
                     "seeds)" if len(doc["seeds"]) > 1 else "")
            console.print(f"[yellow]note[/]{' ' + where if where else ''}: "
                          f"{worst['pairs']['premise']['message']}.")
    console.print(f"wrote {out / 'experiment.json'}")
