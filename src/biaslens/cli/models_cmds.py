"""``biaslens models list | import | info``: the architecture registry and checkpoints.

The recipes of the shipped defaults are ``biaslens models defaults ...``
(:mod:`biaslens.cli.defaults_cmds`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from biaslens.cli._common import console, models_app
from biaslens.io import write_json


def _also_json(obj: Any, json_out: Path | None) -> None:
    """``--json FILE``: write ``obj`` there too (strict JSON) and say so."""
    if json_out is not None:
        write_json(obj, json_out)
        console.print(f"wrote {json_out}")


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
                "recon_mse", "accuracy", "auc")


def quality_summary(quality: Any) -> dict[str, Any]:
    """The scalar headline numbers of a checkpoint's ``extra["quality"]`` (see
    :data:`QUALITY_KEYS`); an empty dict when the checkpoint records none."""
    if not isinstance(quality, dict):
        return {}
    return {k: quality[k] for k in QUALITY_KEYS
            if isinstance(quality.get(k), (int, float)) and not isinstance(quality.get(k), bool)}


def _format_quality(q: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in q.items()) or "-"


@models_app.command("list")
def list_cmd(
    json_out: Path = typer.Option(None, "--json", help="Also write the listing as JSON."),
) -> None:
    """List the registered architectures (parameters at default config) and the shipped
    checkpoints.

    Example: ``biaslens models list --json models.json``
    """
    from biaslens.defaults.recipes import RECIPES

    archs = architectures_table()
    table = Table(title="Architectures (parameters at the default widths)")
    for col in ("architecture", "kind", "parameters", "image size"):
        table.add_column(col, justify="right" if col == "parameters" else "left")
    for r in archs:
        table.add_row(r["architecture"], r["kind"], f"{r['n_parameters']:,}", str(r["image_size"]))
    console.print(table)
    shipped = shipped_checkpoints()
    if shipped:
        st = Table(title="Shipped checkpoints (parameters at their trained widths)")
        for col in ("name", "architecture", "parameters", "held-out quality", "retrain with"):
            st.add_column(col, overflow="fold")
        for r in shipped:
            st.add_row(r["name"], r.get("architecture", f"[red]{escape(str(r.get('error')))}[/]"),
                       f"{r['n_parameters']:,}" if r.get("n_parameters") else "",
                       escape(_format_quality(r.get("quality") or {})),
                       escape(f"biaslens models defaults train {r['name']}"
                              if r["name"] in RECIPES else (r.get("command") or "-")))
        console.print(st)
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
    json_out: Path = typer.Option(None, "--json", help="Also write the checkpoint info as JSON."),
) -> None:
    """Import a course/tutorial .pth file (e.g. ``pretrained_celeba.pth``) into a biaslens
    checkpoint folder (config.json + model.safetensors).

    Example: ``biaslens models import pretrained_celeba.pth --out models/course_gen``
    """
    from biaslens.models import import_to_checkpoint

    names = [n.strip() for n in attribute_names.split(",") if n.strip()] if attribute_names \
        else None
    _, info = import_to_checkpoint(file, out, arch, attribute_names=names,
                                   extra={"command": f"biaslens models import {file}"})
    console.print(f"imported {escape(str(file))} as [bold]{info.architecture}[/] "
                  f"({info.n_parameters:,} parameters) -> {escape(str(out))}")
    _also_json(info.to_dict(), json_out)


@models_app.command("info")
def info_cmd(
    folder: Path = typer.Argument(..., help="Checkpoint folder."),
    json_out: Path = typer.Option(None, "--json", help="Also write the info as JSON."),
) -> None:
    """Show a checkpoint's architecture, config, provenance and versions; the weights are
    loaded to verify they fit.

    Example: ``biaslens models info models/course_gen``
    """
    from biaslens.models import load_checkpoint

    _, info = load_checkpoint(folder)
    d = info.to_dict()
    table = Table(title=escape(str(folder)), show_header=False)
    table.add_column("field")
    table.add_column("value")
    for key in ("architecture", "image_size", "n_parameters", "weights_sha256"):
        table.add_row(key, str(d[key]))
    names = d["attribute_names"]
    if names:
        table.add_row("attribute_names", f"{len(names)}: {', '.join(names[:6])}"
                      + (", ..." if len(names) > 6 else ""))
    for key in ("config", "extra", "versions"):
        table.add_row(key, escape(json.dumps(d[key], indent=1 if key == "extra" else None)))
    console.print(table)
    _also_json(d, json_out)
