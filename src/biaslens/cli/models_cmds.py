"""``biaslens models list | import | info | check``: the architecture registry and checkpoints.

The recipes of the shipped defaults are ``biaslens models defaults ...``
(:mod:`biaslens.cli.defaults_cmds`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from biaslens.cli._common import (
    console,
    emit_json,
    err_console,
    json_option,
    json_to_stdout,
    models_app,
)


def _also_json(obj: Any, json_out: str | None) -> None:
    """``--json PATH``: write ``obj`` there too (strict JSON) and say so; ``-``: stdout."""
    emit_json(obj, json_out)


def architectures_table() -> list[dict[str, Any]]:
    """One row per registered architecture: name, kind, parameters and image size at default
    config, and the class implementing it."""
    from biaslens.models import build_model, count_parameters, list_architectures
    from biaslens.models.registry import model_kind

    rows = []
    for name in list_architectures():
        model = build_model(name)
        rows.append({"architecture": name, "kind": model_kind(model),
                     "n_parameters": count_parameters(model),
                     "image_size": getattr(model, "image_size", None),
                     "class": f"{type(model).__module__}.{type(model).__name__}"})
    return rows


def shipped_checkpoints(root: Path | None = None) -> list[dict[str, Any]]:
    """Checkpoints shipped in ``resources/models/*/`` (their ``config.json`` summaries)."""
    from biaslens.defaults import models_root
    from biaslens.errors import CheckpointError
    from biaslens.models import read_checkpoint_info

    rows = []
    for cfg in sorted((root or models_root()).glob("*/config.json")):
        try:
            info = read_checkpoint_info(cfg.parent)
        except CheckpointError as exc:  # list it with the reason rather than hide it
            rows.append({"name": cfg.parent.name, "path": str(cfg.parent), "error": str(exc)})
            continue
        extra = info.extra or {}
        rows.append({"name": cfg.parent.name, "path": str(cfg.parent),
                     "architecture": info.architecture, "n_parameters": info.n_parameters,
                     "image_size": info.image_size,
                     "size_bytes": sum(f.stat().st_size for f in cfg.parent.iterdir()
                                       if f.is_file()),
                     "command": extra.get("command"),
                     "data": (extra.get("data") or {}).get("content_hash"),
                     "quality": quality_summary(extra.get("quality"))})
    return rows


#: Headline held-out numbers shown by ``models list`` (in this order, when present).
QUALITY_KEYS = ("mean_auc_rendered", "min_auc_rendered", "n_within_tolerance",
                "n_within_tolerance_of_real", "n_rendered", "mean_abs_difference",
                "tolerance", "recon_mse", "accuracy", "auc")


def quality_summary(quality: Any) -> dict[str, Any]:
    """The scalar headline numbers of a checkpoint's ``extra["quality"]`` (see
    :data:`QUALITY_KEYS`); an empty dict when the checkpoint records none."""
    if not isinstance(quality, dict):
        return {}
    return {k: quality[k] for k in QUALITY_KEYS
            if isinstance(quality.get(k), (int, float)) and not isinstance(quality.get(k), bool)}


def _format_quality(q: dict[str, Any]) -> str:
    """The headline numbers in words (one short clause per kind of model)."""
    parts = []
    if "mean_auc_rendered" in q:
        parts.append(f"mean AUC {q['mean_auc_rendered']:.3f}"
                     + (f" (min {q['min_auc_rendered']:.3f})" if "min_auc_rendered" in q else "")
                     + " on the rendered attributes")
    if "n_within_tolerance" in q and "n_rendered" in q:
        tol = f"±{q['tolerance']:g}" if "tolerance" in q else "tolerance"
        parts.append(f"generated prevalence within {tol} of the data on "
                     f"{q['n_within_tolerance']} of {q['n_rendered']} attributes"
                     + (f" ({q['n_within_tolerance_of_real']} vs the classifier on real "
                        "faces)" if "n_within_tolerance_of_real" in q else "")
                     + (f", mean |difference| {q['mean_abs_difference']:.3f}"
                        if "mean_abs_difference" in q else ""))
    if "recon_mse" in q:
        parts.append(f"reconstruction MSE {q['recon_mse']:.4f}")
    if "accuracy" in q:
        parts.append(f"face/non-face accuracy {q['accuracy']:.3f}"
                     + (f", AUC {q['auc']:.3f}" if "auc" in q else ""))
    return "; ".join(parts) or "-"


@models_app.command("list")
def list_cmd(
    json_out: str | None = json_option("the listing"),
) -> None:
    """List the registered architectures (parameters at default config) and the shipped
    checkpoints.

    Example: ``biaslens models list --json models.json``
    """
    from biaslens.defaults.recipes import RECIPES

    archs = architectures_table()
    shipped = shipped_checkpoints()
    if json_to_stdout(json_out):
        _also_json({"architectures": archs, "shipped": shipped}, json_out)
        return
    table = Table(title="Architectures (parameters at the default widths)")
    for col in ("architecture", "kind", "parameters", "image size"):
        table.add_column(col, justify="right" if col == "parameters" else "left")
    for r in archs:
        table.add_row(r["architecture"], r["kind"], f"{r['n_parameters']:,}", str(r["image_size"]))
    console.print(table)
    if shipped:
        st = Table(title="Shipped checkpoints (parameters at their trained widths)")
        st.add_column("name", no_wrap=True)
        st.add_column("architecture", no_wrap=True)
        st.add_column("parameters", justify="right", no_wrap=True)
        st.add_column("held-out quality")
        for r in shipped:
            st.add_row(r["name"], r.get("architecture", f"[red]{escape(str(r.get('error')))}[/]"),
                       f"{r['n_parameters']:,}" if r.get("n_parameters") else "",
                       escape(_format_quality(r.get("quality") or {})))
        console.print(st)
        retrain = [r["name"] for r in shipped if r["name"] in RECIPES]
        console.print("details of one: biaslens models info NAME (e.g. models info "
                      f"{shipped[0]['name']})"
                      + (f"; retrain one with its recipe: biaslens models defaults train NAME "
                         f"({', '.join(retrain)})" if retrain else ""), highlight=False)
    else:
        console.print("no shipped checkpoints")
    from biaslens.cli.judges_cmds import judges_table
    from biaslens.models.judges import list_judges

    console.print(judges_table())
    _also_json({"architectures": archs, "shipped": shipped, "judges": list_judges()}, json_out)


@models_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="Third-party .pth file (read with weights_only)."),
    out: Path = typer.Option(..., "--out", help="Checkpoint folder to write."),
    arch: str = typer.Option(None, "--arch", help="Architecture name (detected if omitted)."),
    attribute_names: str = typer.Option(None, help="Comma-separated output names for a "
                                        "classifier that does not have CelebA's 40 outputs."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing "
                                   "checkpoint (or non-empty folder) at --out."),
    check: Path = typer.Option(None, "--check", help="A labelled cache: check each "
                               "classifier head's AUC on it (warns of inverted heads)."),
    json_out: str | None = json_option("the checkpoint info"),
) -> None:
    """Import a course/tutorial .pth file (e.g. ``pretrained_celeba.pth``) into a biaslens
    checkpoint folder (config.json + model.safetensors). The options, the file's SHA-256
    and the check (``--check``) are recorded in config.json's ``extra.imported_from``.

    Example: ``biaslens models import pretrained_classifier.pth --out models/course_clf
    --check caches/celeba64``
    """
    from biaslens.pipelines.model_check import import_model

    names = [n.strip() for n in attribute_names.split(",") if n.strip()] if attribute_names \
        else None
    result = import_model(file, out, arch=arch, attribute_names=names, overwrite=overwrite,
                          check=check, extra={"command": f"biaslens models import {file}"})
    info = result.info
    if json_to_stdout(json_out):
        _also_json(result.to_dict(), json_out)
        return
    console.print(f"imported {escape(str(file))} as [bold]{info.architecture}[/] "
                  f"({info.n_parameters:,} parameters) -> {escape(str(out))}")
    if result.check is not None:
        _print_check(result.check.to_dict())
    _also_json(result.to_dict(), json_out)


def _print_check(d: dict[str, Any]) -> None:
    """The heads table, then one warning per inverted or at-chance head."""
    table = Table(title=f"heads on {escape(str(d['settings'].get('cache')))} "
                        f"({d['settings'].get('split')}, n = {d['settings'].get('n')})")
    for col in ("attribute", "AUC (95% CI)", "status"):
        table.add_column(col)
    style = {"ok": "green", "inverted": "bold red", "chance": "yellow", "untested": "dim"}
    for h in d["heads"]:
        lo, hi = h["auc_ci"]
        auc = "-" if h["auc"] is None else f"{h['auc']:.3f}" + (
            f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")
        table.add_row(escape(h["attribute"]), auc,
                      f"[{style[h['status']]}]{h['status']}[/]")
    console.print(table)
    if d["unchecked"]:
        console.print(f"not labelled in the cache (unchecked): {escape(', '.join(d['unchecked']))}")
    problems = [h for h in d["heads"] if h["status"] in ("inverted", "chance")]
    for h in problems:
        err_console.print(f"[bold yellow]warning:[/] {escape(h['message'])}", soft_wrap=True)
    tested = [h for h in d["heads"] if h["status"] != "untested"]
    untested = len(d["heads"]) - len(tested)
    if untested:
        console.print(f"untested: {untested} head(s) whose attribute has one class only in "
                      "these rows (no AUC)")
    if not problems:
        console.print(f"all {len(tested)} tested heads predict their attribute "
                      "(AUC above 0.5)")


@models_app.command("check")
def check_cmd(
    checkpoint: Path = typer.Argument(..., help="Classifier checkpoint folder, .pth file, or "
                                      "a shipped model's name (`models list`)."),
    cache: Path = typer.Argument(..., help="A cache labelled with the classifier's attributes."),
    split: str = typer.Option(None, "--split", help="train | val | test | all (default: "
                              "test, every row without one)."),
    n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap resamples of the AUC CIs "
                               "(0: no CI; a point AUC is judged with a 0.05 margin)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    batch_size: int = typer.Option(512, "--batch-size", help="Images per classifier batch."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16."),
    json_out: str | None = json_option("the check"),
) -> None:
    """Check a classifier's heads on labelled data: per-attribute AUC with a bootstrap CI,
    and a warning for each head that is inverted (CI below 0.5: the output means the
    opposite of its name, e.g. a "female" column labelled Male) or at chance, with the
    remedy (re-import with ``--attribute-names``).

    Example: ``biaslens models check models/course_clf caches/celeba64``
    """
    from biaslens.pipelines.model_check import check_model

    result = check_model(resolve_checkpoint(str(checkpoint)), cache, split=split, batch_size=batch_size, device=device,
                         precision=precision, n_boot=n_boot, seed=seed)
    d = result.to_dict()
    if not json_to_stdout(json_out):
        _print_check(d)
    _also_json(d, json_out)


def resolve_checkpoint(name_or_folder: str) -> Path:
    """A checkpoint folder for ``models info``: an existing path, or a shipped model's name
    as ``models list`` prints it (``generator``, ``classifier``, ...)."""
    from biaslens.defaults import available_defaults, default_model_path, models_root
    from biaslens.errors import CheckpointError

    path = Path(name_or_folder).expanduser()
    if path.exists():
        return path
    shipped = available_defaults()
    if name_or_folder in shipped or (models_root() / name_or_folder).is_dir():
        return default_model_path(name_or_folder)
    raise CheckpointError(f"{name_or_folder}: no such checkpoint folder and no shipped model of "
                          f"that name (shipped: {', '.join(shipped) or 'none'}; see "
                          "`biaslens models list`)")


def info_summary(d: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, value)`` rows a person reads: what the model is, what it was trained on and
    how, how good it is on held-out data, and where the full record is."""
    extra = d.get("extra") or {}
    rows = [("architecture", str(d["architecture"])),
            ("parameters", f"{d['n_parameters']:,}"),
            ("image size", str(d.get("image_size")))]
    cfg = {k: v for k, v in (d.get("config") or {}).items() if k != "attribute_names"}
    if cfg:
        rows.append(("config", ", ".join(f"{k}={v}" for k, v in cfg.items())))
    names = d.get("attribute_names") or []
    if names:
        rows.append(("outputs", f"{len(names)} attributes: {', '.join(names[:4])}"
                     + (", …" if len(names) > 4 else "")))
    data = extra.get("data") or {}
    if isinstance(data, dict) and data:
        what = [f"the {data['world']!r} synthetic world" if data.get("world") else "",
                f"cache {data['cache']}" if data.get("cache") else ""]
        what = [w for w in what if w]
        if data.get("n"):
            what.append(f"{data['n']:,} images")
        if isinstance(data.get("splits"), dict):
            what.append(" / ".join(f"{k} {v:,}" for k, v in data["splits"].items()))
        rows.append(("trained on", ", ".join(what) or "-"))
        if data.get("content_hash"):
            rows.append(("data hash", str(data["content_hash"])[:23] + "…"))
    training = extra.get("training") or {}
    if isinstance(training, dict) and training:
        kw = training.get("kwargs") or {}
        parts = [f"{training.get('step', kw.get('steps', '?'))} steps"]
        if kw.get("batch_size"):
            parts.append(f"batch {kw['batch_size']}")
        if kw.get("lr"):
            parts.append(f"lr {kw['lr']:g}")
        if training.get("wall_s"):
            parts.append(f"{training['wall_s'] / 60:.1f} min on {training.get('device', '?')}")
        rows.append(("training", ", ".join(parts)))
    quality = quality_summary(extra.get("quality"))
    if quality:
        rows.append(("held-out quality", _format_quality(quality)))
    if extra.get("command"):
        rows.append(("made by", str(extra["command"])))
    rows.append(("weights sha256", str(d["weights_sha256"])[:16] + "…"))
    versions = d.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return rows


@models_app.command("info")
def info_cmd(
    folder: str = typer.Argument(..., help="Checkpoint folder, or a shipped model's name "
                                 "as `biaslens models list` prints it (e.g. generator)."),
    json_out: str | None = json_option("the full info (config, provenance, quality)"),
) -> None:
    """Show a checkpoint's architecture, training data, training and held-out quality; the
    weights are loaded to verify they fit (the full record: --json PATH or --json -).

    Example: ``biaslens models info generator`` or ``biaslens models info models/course_gen``
    """
    from biaslens.models import load_checkpoint

    path = resolve_checkpoint(folder)
    _, info = load_checkpoint(path)
    d = info.to_dict()
    if emit_json(d, json_out):
        return
    table = Table(title=escape(str(path)), show_header=False)
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("value", overflow="fold")
    for key, value in info_summary(d):
        table.add_row(key, escape(value))
    console.print(table)
    if json_out is None:
        console.print("full record (config, training, quality per attribute): --json PATH",
                      highlight=False)
