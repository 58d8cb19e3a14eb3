"""Pictures and tables of a steering audit: the image grid along the steps, the covariance
bars, the ranked rows.

Rendering only: everything here takes a :class:`biaslens.audit.steer.SteerResult` (or
plain arrays) and returns a uint8 array, a matplotlib ``Figure`` (Agg, no pyplot state),
table rows (:func:`steer_rows`, the one source of the CLI's, the report's and the app's
steering tables) or a rich ``Table``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rich.table import Table

from biaslens.report.figures import save_figure  # noqa: F401  (re-exported)
from biaslens.report.tables import fmt_num, fmt_p, name_column
from biaslens.report.words import REVERSED_WORDS, data_verdict

if TYPE_CHECKING:
    from biaslens.audit.steer import SteerResult

__all__ = ["data_verdict", "make_grid", "plot_covariance_bars", "plot_steer_grid", "save_figure",
           "steer_grid", "steer_path", "steer_rows", "steer_settings_line", "steer_table"]

_POS, _NEG, _NS = "#c0392b", "#2c6fbb", "#b0b0b0"


def make_grid(images: np.ndarray, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile ``(rows, cols, H, W, C)`` uint8 images into one ``(R, C', C)`` uint8 image.

    >>> make_grid(np.zeros((2, 3, 4, 4, 3), np.uint8), pad=1).shape
    (11, 16, 3)
    """
    imgs = np.asarray(images)
    if imgs.ndim != 5:
        raise ValueError(f"images must be (rows, cols, H, W, C); got shape {imgs.shape}")
    rows, cols, h, w, c = imgs.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    # View the padded canvas as (rows, h+pad, cols, w+pad, c) and fill the cells at once.
    cells = out[pad:, pad:].reshape(rows, h + pad, cols, w + pad, c)
    cells[:, :h, :, :w] = imgs.transpose(0, 2, 1, 3, 4)
    return out


def steer_grid(result: SteerResult, skip: int = 2, pad: int = 2) -> list[np.ndarray]:
    """One uint8 grid per pass: rows = shown samples, columns = every ``skip``-th step."""
    n_pass, steps = len(result.push_signs), result.steps
    grids = []
    for p in range(n_pass):
        frames = result.images[p * steps:(p + 1) * steps:max(1, skip)]  # (cols, rows, H, W, 3)
        grids.append(make_grid(frames.transpose(1, 0, 2, 3, 4), pad=pad))
    return grids


def steer_path(result: SteerResult, n_cols: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """The whole path as one row per shown face, from *away from* the target (left) to
    *toward* it (right), at ``n_cols`` evenly spaced steps that include both ends.

    With both passes the axis runs from the last step of the ``−`` pass through the
    common start ``Z0`` to the last step of the ``+`` pass (``2K − 1`` positions);
    with one pass it runs from ``Z0`` along that pass (reversed when the pass pushes away
    from the target). Returns ``(frames, probability)``: ``(n_show, cols, H, W, 3)``
    uint8 and the mean probability of the target at each column ``(cols,)`` (NaN when
    the result has no ``target_probability``).
    """
    steps = result.steps
    toward = [p * result.sign > 0 for p in result.push_signs]  # pass pushes to the target?
    prob = result.target_probability
    frames_by_pass = result.images.reshape(len(toward), steps, *result.images.shape[1:])
    seq_imgs, seq_prob = [], []
    for p, t in sorted(enumerate(toward), key=lambda pt: pt[1]):  # away first, then toward
        idx = np.arange(steps)
        if not t:
            idx = idx[::-1]  # far end of the away pass first
        if seq_imgs and len(toward) == 2:
            idx = idx[1:]  # Z0 is shared by the two passes: keep it once
        seq_imgs.append(frames_by_pass[p, idx])
        seq_prob.append(prob[p, idx] if prob is not None else np.full(len(idx), np.nan))
    imgs = np.concatenate(seq_imgs)  # (positions, n_show, H, W, 3)
    probs = np.concatenate(seq_prob)
    cols = np.unique(np.linspace(0, len(imgs) - 1, max(2, n_cols)).round().astype(int))
    return imgs[cols].transpose(1, 0, 2, 3, 4), probs[cols]


def plot_steer_grid(result: SteerResult, n_cols: int = 9) -> Figure:
    """The course/app visual: shown faces (rows) along the steering path (columns), from
    away from the target (left) to toward it (right), with the target's mean probability
    (as read by the classifier) under each column."""
    frames, probs = steer_path(result, n_cols)
    rows, cols, h, w = frames.shape[:4]
    grid = make_grid(frames, pad=2)
    scale = 0.9 / 64 * max(h, 32)
    fig = Figure(figsize=(max(6.0, 1.0 + cols * scale), 1.6 + rows * scale))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid, interpolation="nearest")
    centers = 2 + np.arange(cols) * (w + 2) + w / 2
    base = result.attribute_names[result.target_index]
    shown = probs if result.sign > 0 else 1.0 - probs  # P(base): mean σ(−x) = 1 − mean σ(x)
    ax.set_xticks(centers, [f"{p:.2f}" if np.isfinite(p) else "" for p in shown],
                  fontsize=8)
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    away, toward = ("less", "more") if result.sign > 0 else ("more", "less")
    ax.set_xlabel(f"mean P({base}) read by the classifier under each column   "
                  f"(← {away} {base} · {toward} {base} →)", fontsize=9)
    rule = result.extra.get("step_calibration")
    how = (f"step {result.step_size:.3g} (calibrated)" if rule else
           f"step {result.step_size:.3g}")
    each = " each way" if len(result.push_signs) == 2 else ""
    shown = (f"{rows} faces" if rows >= result.n_samples
             else f"{rows} of the {result.n_samples} audited faces")
    fig.suptitle(f"Steering toward {toward} {base}: {shown}, {result.steps} steps{each}, "
                 f"{how}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_covariance_bars(result: SteerResult, top_k: int | None = None) -> Figure:
    """Ranked covariances with the target, bootstrap CIs as error bars.

    Significant entries (after Benjamini–Hochberg) are coloured by sign (red positive,
    blue negative); the others are grey. The correlation is printed beside each bar.
    """
    rows = result.ranked[:top_k] if top_k else result.ranked
    names = [r.name for r in rows][::-1]  # largest at the top
    cov = np.array([r.covariance for r in rows])[::-1]
    lo = np.array([r.ci_low for r in rows])[::-1]
    hi = np.array([r.ci_high for r in rows])[::-1]
    sig = np.array([r.significant for r in rows], dtype=bool)[::-1]
    corr = np.array([r.correlation for r in rows])[::-1]
    colors = [(_POS if c > 0 else _NEG) if s else _NS for c, s in zip(cov, sig)]

    fig = Figure(figsize=(7, 1.2 + 0.38 * max(len(rows), 1)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    ax.barh(y, cov, color=colors)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        err = np.vstack([cov - lo, hi - cov])[:, ok]
        ax.errorbar(cov[ok], y[ok], xerr=np.clip(err, 0, None), fmt="none", ecolor="black",
                    capsize=3, lw=1)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{nm}  (r={r:+.2f})" for nm, r in zip(names, corr)])
    ax.set_xlabel(f"covariance with {result.target} (logit²), 95% bootstrap CI\n"
                  f"coloured = significant at FDR {result.fdr:g} (red +, blue −)\n"
                  "r = correlation")
    ax.set_title(f"What changes when steering toward {result.target}")
    fig.tight_layout()
    return fig


def steer_rows(result: SteerResult, top_k: int | None = None, *, with_beyond: bool = False
               ) -> list[dict[str, Any]]:
    """The ranked attributes of a steering audit (the top ``top_k``; all by default), one
    dict per attribute with the raw numbers, for a renderer to format; ``with_beyond``
    appends the attributes the data comparison flags that are not among them (so every
    summary sentence has its row).

    Keys: ``attribute``, ``covariance``, ``ci_low``, ``ci_high``, ``correlation``,
    ``q_value``, ``significant``; with a data comparison (``reference=``) also
    ``path_slope``, ``data_slope`` and ``beyond_data`` (the verdict of
    :func:`data_verdict`: no / added / weakened / reversed).
    """
    dc = result.data
    indices = [r.index for r in result.ranked[:top_k]]
    if with_beyond and dc is not None:  # every attribute the data comparison flags
        indices += [int(j) for j in np.flatnonzero(np.asarray(dc.beyond_data, dtype=bool))
                    if int(j) not in indices and int(j) != result.target_index]
    rows = []
    for j in indices:
        row = {"attribute": result.attribute_names[j],
               "covariance": float(result.covariance[j]), "ci_low": float(result.ci_low[j]),
               "ci_high": float(result.ci_high[j]),
               "correlation": float(result.correlation[j]),
               "q_value": float(result.q_values[j]),
               "significant": bool(result.significant[j])}
        if dc is not None:
            ps, ds = float(dc.path_slope[j]), float(dc.data_slope[j])
            row.update(path_slope=ps, data_slope=ds,
                       beyond_data=data_verdict(ps, ds, bool(dc.beyond_data[j])))
        rows.append(row)
    return rows


def steer_settings_line(result: SteerResult) -> str:
    """What was run, in words: ``128 faces, each steered 20 steps toward -Male and 20
    back (step 0.05, ...)`` — the counts as the JSON's ``settings`` records them."""
    ways = ({1: "toward", -1: "away from"}[int(np.sign(p * result.sign) or 1)]
            for p in result.push_signs)
    passes = " and then ".join(f"{result.steps} steps {w} {result.target}" for w in ways)
    rule = ("the course's accumulated gradient" if result.accumulate_grad
            else "plain gradient ascent")
    extra = f", disentangle λ = {result.disentangle:g}" if result.disentangle else ""
    cal = result.extra.get("step_calibration")
    if cal:   # say how the step was chosen and what it reached
        base = result.attribute_names[result.target_index]
        tp = result.target_probability
        raw = tp[:, -1] if tp is not None else [p for p in cal["end_probability"] if p is not None]
        ends = [float(p) if result.sign > 0 else 1 - float(p) for p in raw]
        span = f"mean P({base}) {min(ends):.2f} to {max(ends):.2f}" if ends else ""
        how = (f"calibrated: {span} at the two ends" if cal["reached"]
               else f"calibration did not reach {cal['low']:g}/{cal['high']:g}; {span}")
        step = f"step size {result.step_size:.3g}, {how}"
    elif result.step_size == 1.0 / result.steps:
        step = f"step size {result.step_size:g} = 1/steps, the course's rule"
    else:
        step = f"step size {result.step_size:g}"
    return (f"{result.n_samples} faces (noise vectors), each steered {passes} "
            f"({step}; {rule}{extra}); {result.n_boot} bootstrap "
            f"resamples over faces, Benjamini–Hochberg FDR {result.fdr:g}, "
            f"{result.test}-test, precision {result.precision}, seed {result.seed}")


def _fmt_g(x: float) -> str:
    """Signed, 3 significant digits: covariances of logits span many scales."""
    return "—" if not np.isfinite(x) else f"{x:+.3g}"


def steer_table(result: SteerResult, *, wide: bool = False) -> Table:
    """Rich table of the ranked covariances, readable at 80 columns.

    Default columns: attribute (never cut), covariance, 95% CI, correlation r, q-value
    (BH-adjusted; ``*`` = significant) and, with a data comparison (``reference=``), the
    verdict against the data. ``wide`` adds the yes/no significance column and the path
    and data slopes.
    """
    rows = steer_rows(result)
    dc = result.data
    table = Table(title=f"Steering toward {result.target}: what moves with it "
                        f"({result.n_samples} faces, {result.steps} steps each way)"
                  if len(result.push_signs) > 1 else
                  f"Steering toward {result.target}: what moves with it "
                  f"({result.n_samples} faces, {result.steps} steps)")
    name_column(table, "attribute", [r["attribute"] for r in rows])
    for col in ("covariance", "95% CI", "r", "q-value"):
        table.add_column(col, justify="right", no_wrap=True)
    if wide:
        table.add_column("significant", justify="center", no_wrap=True)
    if dc is not None:
        if wide:
            for col in ("path slope", "data slope"):
                table.add_column(col, justify="right", no_wrap=True)
        table.add_column("vs data", justify="left", no_wrap=True)
    for r in rows:
        style = ("red" if r["covariance"] > 0 else "blue") if r["significant"] else "dim"
        cells = [r["attribute"], _fmt_g(r["covariance"]),
                 f"[{_fmt_g(r['ci_low'])}, {_fmt_g(r['ci_high'])}]"
                 if np.isfinite(r["ci_low"]) and np.isfinite(r["ci_high"]) else "—",
                 fmt_num(r["correlation"], 2, signed=True),
                 fmt_p(r["q_value"]) + (" *" if r["significant"] else "  ")]
        if wide:
            cells.append("yes" if r["significant"] else "no")
        if dc is not None:
            if wide:
                cells += [fmt_num(r["path_slope"], 2, signed=True),
                          fmt_num(r["data_slope"], 2, signed=True)]
            cells.append(r["beyond_data"])
        table.add_row(*cells, style=style)
    notes = [f"covariance: of the change in each attribute's logit with the change in the "
             f"{result.target} logit, per face and step (units: logit²); r: the same as a "
             f"correlation; q: Benjamini–Hochberg adjusted, * = significant at FDR "
             f"{result.fdr:g}"]
    if dc is not None:
        notes.append(f"vs data: the logit change per unit of {result.target} logit along the "
                     f"steering path compared with across {dc.n_reference:,} reference images "
                     f"({dc.reference}; same classifier): no = as in the data, added = "
                     f"steeper, weakened = flatter, reversed = {REVERSED_WORDS} (excess "
                     f"significant at FDR {dc.fdr:g})"
                     + ("" if wide else "; slopes under --wide and in the JSON"))
    practical = getattr(result, "practical", None)
    if practical is not None:   # the practical-effect rule beside BH, and its verdict
        notes.append(f"* needs also: {practical.rule}")
        if practical.verdict:
            notes.append(f"[bold yellow]{practical.verdict}[/]")
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    return table
