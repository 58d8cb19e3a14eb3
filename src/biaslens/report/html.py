"""The self-contained HTML audit report (``biaslens report``).

Three layers, kept apart:

- :func:`build_report` runs the audits that apply to a cache and the given models
  (dataset statistics, steering per target, population, classifier fairness per
  target vs the protected attributes) and returns a :class:`ReportData` holding the
  result objects, the figures as PNG bytes and the plain-language summary.
- :func:`render_html` turns a :class:`ReportData` into one HTML string: images are
  embedded as base64 PNG, the CSS is inline, there is no JavaScript, so the file opens
  anywhere with no network and no console errors.
- :func:`write_report` writes ``report.html`` and ``report.json`` atomically.

Shared figure helpers for the app live here too (:func:`plot_correlation_heatmap`,
:func:`plot_prevalence`, :func:`fig_to_png`).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

import biaslens
from biaslens.errors import BiasLensError
from biaslens.report.summary import summarize

__all__ = ["ReportData", "array_to_png", "build_report", "fig_to_png", "plot_correlation_heatmap",
           "plot_prevalence", "render_html", "write_report"]


# --------------------------------------------------------------------------- figures


def fig_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render a matplotlib ``Figure`` to PNG bytes (Agg canvas, no pyplot state)."""
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def array_to_png(image: np.ndarray) -> bytes:
    """uint8 ``(H, W, 3)`` image to PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def plot_correlation_heatmap(phi: np.ndarray, names: Sequence[str], *,
                             title: str = "Attribute correlation (phi)") -> Figure:
    """Heat map of an ``(A, A)`` phi matrix; undefined (constant) entries are grey."""
    a = len(names)
    fig = Figure(figsize=(3 + 0.22 * a, 2.5 + 0.2 * a))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    m = np.ma.masked_invalid(np.asarray(phi, dtype=float))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_facecolor("#cccccc")
    ax.set_xticks(np.arange(a), names, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(a), names, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="phi")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_prevalence(stats: Any) -> Figure:
    """Horizontal bars of attribute prevalence with Wilson CIs (most common on top)."""
    order = np.argsort(-np.asarray(stats.prevalence, dtype=float), kind="stable")[::-1]
    p = np.asarray(stats.prevalence, dtype=float)[order]
    lo = np.asarray(stats.prevalence_lo, dtype=float)[order]
    hi = np.asarray(stats.prevalence_hi, dtype=float)[order]
    fig = Figure(figsize=(6, 1 + 0.2 * len(order)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(order))
    err = np.clip(np.nan_to_num(np.vstack([p - lo, hi - p])), 0, None)
    ax.barh(y, p, color="#2c6fbb", xerr=err, error_kw={"lw": 1, "capsize": 2})
    ax.set_yticks(y, [stats.attribute_names[j] for j in order], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"prevalence ({100 * stats.level:g}% Wilson CI), N = {stats.n:,}")
    ax.set_title("Attribute prevalence")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the data


@dataclass
class ReportData:
    """Everything a report shows. Result objects keep their own ``to_dict()``.

    ``fairness`` is a list of ``(target, FairnessReport)``; ``figures`` maps a figure key
    (``"dataset_prevalence"``, ``"steer_grid_Male"``, ...) to PNG bytes; ``mitigation``
    maps a file name to the JSON it held (from a run folder).
    """

    title: str
    inputs: dict[str, Any]
    dataset: Any | None = None
    steer: list[Any] = field(default_factory=list)
    population: Any | None = None
    fairness: list[tuple[str, Any]] = field(default_factory=list)
    mitigation: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content (no images), with the summary sentences."""
        d: dict[str, Any] = {
            "format": "biaslens-report", "version": 1, "title": self.title,
            "biaslens": biaslens.__version__, "inputs": dict(self.inputs),
            "dataset": None if self.dataset is None else self.dataset.to_dict(),
            "steer": [s.to_dict() for s in self.steer],
            "population": None if self.population is None else self.population.to_dict(),
            "fairness": [{"target": t, "report": r.to_dict()} for t, r in self.fairness],
            "mitigation": self.mitigation, "notes": list(self.notes),
            "figures": sorted(self.figures),
        }
        d["summary"] = summarize(d)
        return d


def _check_size(model: nn.Module, cache: Any, role: str) -> None:
    size = getattr(model, "image_size", None)
    h, w = int(cache.manifest["height"]), int(cache.manifest["width"])
    if isinstance(size, int) and (size, size) != (h, w):
        raise BiasLensError(f"the {role} works on {size}×{size} images but the cache "
                            f"{cache.path} holds {h}×{w}; use a cache of the model's size")


def build_report(cache: Any, *, generator: nn.Module | None = None,
                 classifier: nn.Module | None = None, targets: Sequence[str] = ("Male",),
                 protected: Sequence[str] = ("Male",), mitigation: Mapping[str, Any] | None = None,
                 steer_n: int = 64, steer_steps: int = 20, population_n: int = 1000,
                 n_boot: int = 300, seed: int = 0, inputs: Mapping[str, Any] | None = None,
                 progress: Callable[[str], None] | None = None) -> ReportData:
    """Run the audits that apply and collect their results and figures.

    Parameters
    ----------
    cache : a loaded dataset cache (:func:`biaslens.data.cache.load_cache`).
    generator, classifier : optional models; steering and population need both,
        fairness needs the classifier. Audits whose models are missing are skipped
        with a note.
    targets : steering targets (``-Male`` allowed) and the attributes whose classifier
        fairness is measured.
    protected : sensitive attributes (or cache group columns such as ``skin_type``)
        for fairness and dataset groups.
    mitigation : JSON results of mitigation runs (file name -> content), shown as tables.
    steer_n, steer_steps, population_n, n_boot : audit sizes (bootstrap resamples for
        every CI).
    seed : seeds every audit.
    progress : called with a short message before each audit.
    """
    from biaslens.audit.dataset import dataset_stats
    from biaslens.names import resolve_attribute

    say = progress or (lambda msg: None)
    names = list(cache.attribute_names)
    targets = [t.strip() for t in targets if t.strip()]
    if not targets:
        raise BiasLensError("no targets given (e.g. --targets Male,Smiling)")
    for t in targets:
        resolve_attribute(t, names)  # unknown names fail before any long work
    group_cols: dict[str, np.ndarray] = {}
    if cache.groups is not None:
        group_cols = {g: np.asarray(cache.groups[:, k]) for k, g in enumerate(cache.group_names)}
    data = ReportData(title=f"biaslens audit report: {Path(str(cache.path)).name}",
                      inputs={"cache": str(cache.path), "content_hash": cache.content_hash,
                              "targets": targets, "protected": list(protected),
                              "seed": seed, "n_boot": n_boot, **dict(inputs or {})},
                      mitigation=dict(mitigation or {}))

    say("dataset statistics")
    groups = [g for g in protected] + [g for g in group_cols if g not in protected]
    data.dataset = dataset_stats(np.asarray(cache.attrs), names, target=targets[0],
                                 groups=groups, group_columns=group_cols, n_boot=n_boot,
                                 seed=seed)
    data.figures["dataset_prevalence"] = fig_to_png(plot_prevalence(data.dataset))
    data.figures["dataset_correlation"] = fig_to_png(
        plot_correlation_heatmap(data.dataset.phi, names))

    if generator is None or classifier is None:
        data.notes.append("steering and population audits skipped: they need a generator "
                          "and an attribute classifier")
    else:
        from biaslens.audit.population import population_audit
        from biaslens.audit.steer import steer_audit
        from biaslens.report.plots_generators import plot_population
        from biaslens.report.plots_steer import plot_covariance_bars, plot_steer_grid

        from biaslens.data.reference import sample_training_images

        # reference for the data comparison: up to 2,000 training images of the cache
        ref_images = sample_training_images(cache, 2000, seed) if n_boot >= 50 else None
        ref_images = ref_images if ref_images is not None and len(ref_images) >= 10 else None
        for t in targets:
            say(f"steering toward {t}")
            res = steer_audit(generator, classifier, t, n_samples=steer_n, steps=steer_steps,
                              direction="+", n_boot=n_boot, seed=seed, n_show=6,
                              keep_history=False, reference=ref_images,
                              reference_name="training images of the report's data")
            data.steer.append(res)
            key = res.target
            data.figures[f"steer_grid_{key}"] = fig_to_png(
                plot_steer_grid(res, skip=max(1, steer_steps // 8)), dpi=80)
            data.figures[f"steer_cov_{key}"] = fig_to_png(plot_covariance_bars(res))
        say("population")
        train = cache.subset("train")
        base = train if len(train) else cache
        pop_groups = [g for g in protected if g in names] or ["Male"]
        data.population = population_audit(generator, classifier, np.asarray(base.attrs),
                                           names, n=population_n, groups=pop_groups,
                                           seed=seed, n_boot=n_boot,
                                           reference_images=ref_images,
                                           reference_name="training images of the "
                                                          "report's data")
        data.figures["population"] = fig_to_png(plot_population(data.population), dpi=80)

    if classifier is None:
        data.notes.append("fairness audit skipped: it needs an attribute classifier")
    else:
        data.fairness = _fairness(cache, classifier, targets, protected, group_cols,
                                  n_boot=n_boot, seed=seed, say=say)
        for t, rep in data.fairness:
            data.figures[f"fairness_{t}"] = _fairness_png(rep)
    return data


def _fairness(cache: Any, classifier: nn.Module, targets: Sequence[str],
              protected: Sequence[str], group_cols: Mapping[str, np.ndarray], *,
              n_boot: int, seed: int, say: Callable[[str], None]) -> list[tuple[str, Any]]:
    """Classifier fairness on the cache's test split (all rows if it has none)."""
    from biaslens.audit.fairness import fairness_report
    from biaslens.tensors import predict_logits
    from biaslens.names import canonical_name, resolve_attribute

    _check_size(classifier, cache, "classifier")
    view = cache.subset("test")
    if len(view) == 0:
        view = cache.subset(None)
    names = list(cache.attribute_names)
    clf_names = list(getattr(classifier, "attribute_names", None) or [])
    say(f"classifying {len(view)} test images")
    logits = predict_logits(classifier, view.images)
    rows = view.indices
    sens = {}
    for p in protected:
        if p in group_cols:
            sens[p] = group_cols[p][rows]
        else:
            sens[canonical_name(p, names)] = np.asarray(view.attrs)[
                :, names.index(canonical_name(p, names))].astype(int)
    out = []
    for t in targets:
        idx, _ = resolve_attribute(t, names)
        name = names[idx]
        if name in sens or name not in clf_names:
            continue  # a protected attribute, or one the classifier does not predict
        say(f"fairness of the {name} classifier")
        y_true = np.asarray(view.attrs)[:, idx]
        score = 1 / (1 + np.exp(-logits[:, clf_names.index(name)].astype(np.float64)))
        rep = fairness_report(y_true, score > 0.5, sensitive_features=sens, y_score=score,
                              n_boot=n_boot, seed=seed)
        out.append((name, rep))
    return out


def _fairness_png(report: Any) -> bytes:
    from biaslens.report.plots_fairness import plot_fairness

    with tempfile.TemporaryDirectory(prefix="biaslens-fig-") as tmp:
        path = plot_fairness(report, Path(tmp) / "fairness.png")
        return path.read_bytes()


# --------------------------------------------------------------------------- rendering

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
tr.sig td{background:#fff4e5}img{max-width:100%;height:auto;display:block;margin:.6em 0}
.summary{background:#f5f9ff;border-left:4px solid #2c6fbb;padding:.6em 1.2em}
.note{color:#666;font-size:.9em}code{background:#f3f3f3;padding:0 .25em}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _n(x: Any, digits: int = 3, signed: bool = False) -> str:
    if x is None or isinstance(x, bool) or not math.isfinite(float(x)):
        return "—"
    return f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"


def _ci(lo: Any, hi: Any, digits: int = 3, signed: bool = False) -> str:
    if lo is None or hi is None or not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        return "—"
    return f"[{_n(lo, digits, signed)}, {_n(hi, digits, signed)}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *,
           classes: Sequence[str] | None = None, caption: str | None = None) -> str:
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{_e(classes[i])}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(data: ReportData, key: str, alt: str) -> str:
    png = data.figures.get(key)
    if png is None:
        return ""
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{b64}" alt="{_e(alt)}">'


def _dataset_section(data: ReportData) -> str:
    s = data.dataset
    prev = sorted(zip(s.attribute_names, s.counts, s.prevalence, s.prevalence_lo,
                      s.prevalence_hi), key=lambda r: -float(r[2]))
    parts = [f"<h2 id='dataset'>Dataset</h2><p>{s.n:,} rows, {len(s.attribute_names)} "
             "attributes. Prevalence with 95% Wilson intervals; phi = correlation of two "
             "binary attributes.</p>",
             _img(data, "dataset_prevalence", "attribute prevalence"),
             _img(data, "dataset_correlation", "correlation heat map")]
    if s.top:
        parts.append(_table(
            ["attribute", "phi", "95% CI", f"P(·|{s.target})", "P(·|not)"],
            [[c.name, _n(c.phi, signed=True), _ci(c.ci_lo, c.ci_hi, signed=True),
              _n(c.p_given_target), _n(c.p_given_not)] for c in s.top],
            caption=f"Most correlated with {s.target}"))
    if s.groups:
        parts.append(_table(
            [*s.group_columns, "count", "share", "95% CI", "flag"],
            [[*g.values.values(), f"{g.count:,}", _n(g.share), _ci(g.ci_lo, g.ci_hi),
              "small" if g.small else ""] for g in s.groups],
            classes=["sig" if g.small else "" for g in s.groups],
            caption=f"Intersectional groups (flag: n < {s.min_group})"))
    parts.append(_table(["attribute", "count", "prevalence", "95% CI"],
                        [[nm, f"{int(c):,}", _n(p), _ci(lo, hi)] for nm, c, p, lo, hi in prev],
                        caption="Prevalence"))
    return "".join(parts)


def _steer_section(data: ReportData) -> str:
    parts = ["<h2 id='steering'>Steering</h2><p>Noise vectors are pushed toward each target "
             "by gradient ascent on the classifier's logit; the table ranks the covariance "
             "of every other attribute's change with the target's (95% bootstrap CI over "
             "images; significant = Benjamini–Hochberg at FDR 0.05).</p>"]
    for r in data.steer:
        parts.append(f"<h3>Toward {_e(r.target)}</h3>")
        parts.append(_img(data, f"steer_grid_{r.target}", f"faces steered toward {r.target}"))
        parts.append(_img(data, f"steer_cov_{r.target}", f"covariance with {r.target}"))
        head = ["attribute", "covariance", "95% CI", "correlation", "q-value", "significant"]
        rows = [[x.name, _n(x.covariance, signed=True), _ci(x.ci_low, x.ci_high, signed=True),
                 _n(x.correlation, signed=True), _n(x.q_value, 4),
                 "yes" if x.significant else "no"] for x in r.ranked]
        caption = f"{r.n_samples} faces × {r.steps} steps, seed {r.seed}"
        dc = r.data
        if dc is not None:
            head += ["path slope", "data slope", "beyond data"]
            for row, x in zip(rows, r.ranked):
                j = x.index
                row += [_n(dc.path_slope[j], signed=True), _n(dc.data_slope[j], signed=True),
                        dc.verdict(j)]
            caption += (f"; slopes: logit change per unit of target logit along the path vs "
                        f"across {dc.n_reference} training images (same classifier), beyond "
                        f"data = excess significant at FDR {dc.fdr:g}")
        parts.append(_table(head, rows, classes=["sig" if x.significant else "" for x in r.ranked],
                            caption=caption))
    return "".join(parts)


def _population_section(data: ReportData) -> str:
    p = data.population
    order = p.ranked_amplification(15)
    rows = [[p.attribute_names[j], _n(p.generated[j]), _n(p.data[j]),
             _n(p.difference[j], signed=True),
             _ci(p.difference_ci[0][j], p.difference_ci[1][j], signed=True),
             _n(p.ratio[j], 2), _n(p.amplification[j], signed=True)] for j in order]
    groups = [[lab, _n(qd), _n(qg), _ci(lo, hi)] for lab, qd, qg, lo, hi in
              zip(p.group_labels, p.group_share_data, p.group_share_generated,
                  *p.group_share_ci)]
    return "".join([
        f"<h2 id='population'>Population</h2><p>{p.n_generated:,} generated faces labelled "
        f"by the classifier vs {p.n_data:,} training labels. {_e(p.correction_note)}.</p>",
        _img(data, "population", "generated vs training prevalence"),
        _table(["attribute", "generated", "data", "difference", "95% CI", "ratio",
                "amplification"], rows, caption="Largest bias amplification first"),
        _table(["group", "data share", "generated share", "95% CI"], groups,
               caption=f"Groups of {' × '.join(p.groups)}; fairness discrepancy (L2) to data "
                       f"{_n(p.discrepancy['l2_to_data'])}, to uniform "
                       f"{_n(p.discrepancy['l2_to_uniform'])}"),
        _association_table(p),
    ])


def _association_table(p: Any) -> str:
    """Associations with the first group column, generated vs training faces ('' without)."""
    dc = p.associations
    if dc is None:
        return ""
    order = p.ranked_associations(15)
    rows = [[p.attribute_names[j], _n(dc.path_slope[j], signed=True),
             _n(dc.data_slope[j], signed=True), _n(dc.excess[j], signed=True),
             _ci(dc.excess_ci_low[j], dc.excess_ci_high[j], signed=True), _n(dc.q_values[j], 4),
             dc.verdict(j)] for j in order]
    return _table(["attribute", "generated slope", "data slope", "excess", "95% CI", "q-value",
                   "beyond data"], rows,
                  classes=["sig" if dc.beyond_data[j] else "" for j in order],
                  caption=f"Associations with {p.association_target}: logit change per unit of "
                          f"its logit across the generated faces vs across {dc.n_reference} "
                          f"training images (same classifier); beyond data = excess "
                          f"significant at FDR {dc.fdr:g}, {int(dc.beyond_data.sum())} "
                          "attributes")


def _fairness_section(data: ReportData) -> str:
    parts = ["<h2 id='fairness'>Classifier fairness</h2><p>The attribute classifier on the "
             "test split, per protected group (95% bootstrap CIs). Differences: 0 = fair; "
             "ratios: 1 = fair (fairlearn's definitions).</p>"]
    rates = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
    for t, r in data.fairness:
        parts.append(f"<h3>{_e(t)} vs {_e(' × '.join(r.feature_names))}</h3>")
        parts.append(_img(data, f"fairness_{t}", f"fairness of {t}"))
        rows = [[g, f"{r.counts[i]:,}",
                 *[f"{_n(r.by_group[m][i])} {_ci(r.by_group_ci[m][0][i], r.by_group_ci[m][1][i])}"
                   for m in rates]] for i, g in enumerate(r.groups)]
        parts.append(_table(["group", "n", "selection rate", "TPR", "FPR", "accuracy"], rows))
        disp = r.disparities["between_groups"]
        parts.append(_table(["metric", "value", "95% CI"],
                            [[k, _n(v["value"]), _ci(*v["ci"])] for k, v in disp.items()],
                            caption="Disparities between groups"))
    return "".join(parts)


def _flat(obj: Any, prefix: str = "", limit: int = 60) -> list[tuple[str, Any]]:
    """Flatten nested dicts/short lists of numbers into ``(key.path, value)`` rows."""
    out: list[tuple[str, Any]] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out += _flat(v, f"{prefix}.{k}" if prefix else str(k), limit)
    elif isinstance(obj, list) and len(obj) <= 8 and all(
            isinstance(v, (int, float, str, type(None))) for v in obj):
        out.append((prefix, ", ".join(_n(v) if isinstance(v, float) else str(v) for v in obj)))
    elif isinstance(obj, (int, float, str, bool)) or obj is None:
        out.append((prefix, _n(obj) if isinstance(obj, float) else obj))
    return out[:limit]


def _mitigation_section(data: ReportData) -> str:
    parts = ["<h2 id='mitigation'>Mitigation results</h2>"]
    for name, content in data.mitigation.items():
        parts.append(_table(["field", "value"], [[k, v] for k, v in _flat(content)],
                            caption=name))
    return "".join(parts)


def render_html(data: ReportData) -> str:
    """One self-contained HTML page (inline CSS, base64 PNGs, no scripts)."""
    summary = data.to_dict()["summary"]
    nav = [("summary", "Summary")]
    body = []
    if data.dataset is not None:
        nav.append(("dataset", "Dataset"))
        body.append(_dataset_section(data))
    if data.steer:
        nav.append(("steering", "Steering"))
        body.append(_steer_section(data))
    if data.population is not None:
        nav.append(("population", "Population"))
        body.append(_population_section(data))
    if data.fairness:
        nav.append(("fairness", "Fairness"))
        body.append(_fairness_section(data))
    if data.mitigation:
        nav.append(("mitigation", "Mitigation"))
        body.append(_mitigation_section(data))
    items = "".join(f"<li>{_e(s)}</li>" for s in summary) or "<li>No findings.</li>"
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in data.notes)
    inputs = _table(["input", "value"], [[k, v] for k, v in _flat(data.inputs)])
    links = " · ".join(f"<a href='#{a}'>{_e(t)}</a>" for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<link rel='icon' href='data:,'>"
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(data.title)}</h1><nav>{links}</nav>"
        f"<h2 id='summary'>Summary</h2><div class='summary'><ul>{items}</ul></div>{notes}"
        f"{''.join(body)}<h2 id='inputs'>Inputs</h2>{inputs}"
        f"<p class='note'>Generated by biaslens {_e(biaslens.__version__)}.</p>"
        "</body></html>\n")


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)  # a report is meant to be shared (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(data: ReportData, out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` (HTML) and ``report.json`` beside it, each atomically."""
    import json

    out = Path(out)
    _atomic_write(out, render_html(data).encode("utf-8"))
    js = out.with_name("report.json")
    _atomic_write(js, (json.dumps(data.to_dict(), indent=2) + "\n").encode("utf-8"))
    return out, js
