"""Plain helpers of the app (no Streamlit): input bounds, target choices, uploads, tables.

Kept free of Streamlit so they are unit-tested directly; the page modules only wire
widgets to these and to the library.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from biaslens.errors import DataError
from biaslens.pipelines.inputs import APP_MAX_UPLOAD_MIB

__all__ = ["MAX_COUNTERFACTUAL", "MAX_FACES", "MAX_POPULATION", "MAX_STEPS", "MAX_UPLOAD_BYTES",
           "MAX_UPLOAD_MIB", "MIN_POSITIVES", "MIN_STEER_FACES", "association_word",
           "cluster_order", "decode_upload", "grid_columns", "group_words", "source_words",
           "steer_rows", "steer_verdict", "target_curve", "target_options", "upload_warnings",
           "upscale", "value_word"]

#: Upper bounds of every size widget, so no setting can exhaust memory.
MAX_FACES = 64
MAX_STEPS = 60
MAX_POPULATION = 4096
MAX_COUNTERFACTUAL = 256
MAX_UPLOAD_MIB = APP_MAX_UPLOAD_MIB  # also Streamlit's server.maxUploadSize (biaslens app)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MIB * 2**20

#: Below this many faces a steering run's tests have little power: the page says so.
MIN_STEER_FACES = 32
#: Below this many positives in a group, its TPR (and EO/EOpp) rests on too few faces.
MIN_POSITIVES = 10

#: How a 0/1 value of a column reads: column -> (word for 0, word for 1).
_VALUE_WORDS = {"Male": ("Female", "Male"), "skin_type": ("lighter skin", "darker skin"),
                "Young": ("older", "young")}


def target_options(names: Sequence[str]) -> dict[str, str]:
    """Display label -> steering target, both signs of every attribute.

    >>> target_options(["Male"])
    {'more Male': 'Male', 'less Male': '-Male'}
    """
    out: dict[str, str] = {}
    for n in names:
        out[f"more {n}"] = n
        out[f"less {n}"] = f"-{n}"
    return out


def decode_upload(data: bytes, size: int, *, name: str = "upload") -> np.ndarray:
    """Decode an uploaded image file into uint8 ``(1, size, size, 3)`` (centre crop, resize).

    Anything that is not a decodable image (or is larger than :data:`MAX_UPLOAD_BYTES`)
    raises :class:`DataError` naming the file.
    """
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(f"file is {len(data) / 2**20:.1f} MiB; the limit is "
                        f"{MAX_UPLOAD_BYTES // 2**20} MiB", path=name)
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DataError("not an image file (expected PNG, JPEG, ...)", path=name) from None
    w, h = rgb.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    rgb = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    return np.array(rgb, dtype=np.uint8)[None]  # a writable copy (torch warns on read-only)


def value_word(name: str, value: object) -> str:
    """A column's value in words: ``Male=0`` -> "Female", ``skin_type=1`` -> "darker skin",
    ``Smiling=0`` -> "not Smiling"; anything else stays ``name=value``.

    >>> value_word("Male", 0), value_word("skin_type", "1"), value_word("Smiling", 0)
    ('Female', 'darker skin', 'not Smiling')
    """
    text = str(value).strip()
    v = {"0": 0, "1": 1, "false": 0, "true": 1, "0.0": 0, "1.0": 1}.get(text.lower())
    if v is None:
        return f"{name}={text}"
    if name in _VALUE_WORDS:
        return _VALUE_WORDS[name][v]
    return name if v else f"not {name}"


def group_words(label: str) -> str:
    """A group label of any audit (``Male=0|skin_type=1``, ``Male=0, skin_type=1``,
    ``Male=0,Young=1``) in words.

    >>> group_words("Male=0|skin_type=1")
    'Female, darker skin'
    >>> group_words("Male=1,Young=0")
    'Male, older'
    """
    parts = [p for p in re.split(r"[|,]", label) if p.strip()]
    words = []
    for part in parts:
        name, sep, value = part.strip().partition("=")
        words.append(value_word(name.strip(), value) if sep else part.strip())
    return ", ".join(words)


def association_word(path_slope: float, data_slope: float, verdict: str) -> str:
    """The verdict of a path-vs-data comparison, with a sign reversal said as such:
    ``"reversed"`` when the excess is significant and the slopes have opposite signs (the
    path's at least a quarter as steep: :func:`biaslens.report.words.data_verdict`).

    >>> association_word(-0.04, 0.05, "weakened"), association_word(-0.2, -0.1, "added")
    ('reversed', 'added')
    """
    from biaslens.report.words import data_verdict

    return data_verdict(path_slope, data_slope, verdict != "no")


def source_words(cache: Any, given: str = "") -> str:
    """Where a data set comes from, for people: the default world in words (never its
    temp folder), or the folder the user gave."""
    src = cache.manifest.get("source") or {}
    n = f"{len(cache):,} faces"
    if not given:
        if src.get("kind") == "synthetic-world":
            return f"synthetic default world, {n}"
        return f"default data, {n}"
    if src.get("kind") == "synthetic-world":
        world = (src.get("world") or {}).get("name", "?")
        return f"synthetic world '{world}', {n}, from {given}"
    return f"{n} from {given}"


def cluster_order(phi: np.ndarray) -> np.ndarray:
    """An order of the attributes that puts strongly (anti-)correlated ones side by side:
    the leaves of average-linkage clustering on the distance ``1 − |phi|`` (undefined
    entries count as uncorrelated).

    >>> phi = np.array([[1, 0, .9], [0, 1, 0], [.9, 0, 1]])
    >>> order = cluster_order(phi).tolist()   # 0 and 2 end up side by side
    >>> abs(order.index(0) - order.index(2))
    1
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    a = np.nan_to_num(np.abs(np.asarray(phi, dtype=float)), nan=0.0)
    if a.shape[0] < 3:
        return np.arange(a.shape[0])
    d = np.clip(1.0 - (a + a.T) / 2, 0.0, None)
    np.fill_diagonal(d, 0.0)
    return leaves_list(linkage(squareform(d, checks=False), method="average"))


def grid_columns(steps: int, n_cols: int = 6) -> np.ndarray:
    """The recorded steps shown as grid columns: evenly spread, the first and the last.

    >>> grid_columns(20).tolist(), grid_columns(3).tolist()
    ([0, 4, 8, 11, 15, 19], [0, 1, 2])
    """
    return np.unique(np.linspace(0, steps - 1, min(n_cols, steps)).round().astype(int))


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscale of a uint8 ``(H, W, C)`` image (crisp pixels)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def target_curve(result: Any, steps: Sequence[int] | None = None, pass_index: int = 0
                 ) -> np.ndarray:
    """Mean over all faces of the classifier's probability of the target's base attribute
    (``P(Male)`` for ``more Male`` and ``less Male``) at each recorded step of one pass.

    Read from the result's per-step ``target_probability`` (of the signed target) where
    the audit records one, else from its logit history (``keep_history=True``); ``steps``
    picks columns.
    """
    signed = getattr(result, "target_probability", None)
    if signed is not None:
        p = np.asarray(signed, dtype=np.float64)[pass_index]  # (K,) P(signed target)
        p = p if result.sign > 0 else 1.0 - p  # mean of sigmoid(-x) = 1 - mean of sigmoid(x)
    elif result.history is not None:
        k = result.steps
        logit = np.asarray(result.history[pass_index * k:(pass_index + 1) * k, :,
                                          result.target_index], dtype=np.float64)  # (K, n)
        p = (1.0 / (1.0 + np.exp(-logit))).mean(axis=1)
    else:
        raise ValueError("the steering result holds neither target_probability nor a "
                         "history (run with keep_history=True)")
    return p if steps is None else p[np.asarray(steps)]


def _sig_names(result: Any, rows: list[Any]) -> str:
    return ", ".join(f"{r.name} {'up' if r.covariance > 0 else 'down'}" for r in rows)


def steer_verdict(result: Any) -> tuple[str, list[str], list[str]]:
    """One-line verdict of a steering run's ranked table, plus explanations and warnings.

    Returns ``(line, notes, warnings)``: ``line`` says how many of the ranked attributes
    move significantly (after Benjamini–Hochberg) and which way; a note explains rows
    whose CI excludes 0 although q > FDR; a warning says when there are too few faces.
    """
    ranked = list(result.ranked)
    sig = [r for r in ranked if r.significant]
    base = result.attribute_names[result.target_index]
    moved = "toward" if result.sign > 0 else "away from"
    if sig:
        line = (f"{len(sig)} of {len(ranked)} attributes move significantly when steering "
                f"{moved} {base}: {_sig_names(result, sig)}.")
    else:
        line = (f"None of the {len(ranked)} top attributes moves significantly when steering "
                f"{moved} {base} (Benjamini–Hochberg, FDR {result.fdr:g}).")
    notes, warns = [], []
    ci_only = [r for r in ranked if not r.significant and np.isfinite(r.ci_low)
               and np.isfinite(r.ci_high) and (r.ci_low > 0 or r.ci_high < 0)]
    if ci_only:
        names = ", ".join(r.name for r in ci_only)
        notes.append(f"{names}: the 95% CI excludes 0 but q > {result.fdr:g}. The CI is for "
                     "one attribute alone; the q-value corrects for testing all "
                     f"{len(result.attribute_names) - 1} attributes at once, so these are "
                     "not counted as significant.")
    if result.n_samples < MIN_STEER_FACES:
        warns.append(f"Only {result.n_samples} faces: the tests have little power below "
                     f"{MIN_STEER_FACES}. Raise 'number of faces' for a firmer answer.")
    return line, notes, warns


def steer_rows(result: Any, top_k: int = 10) -> list[dict[str, Any]]:
    """The top-``k`` rows of a :class:`~biaslens.audit.steer.SteerResult` as app table rows:
    :func:`biaslens.report.plots_steer.steer_rows`, 3 decimals, CIs as ``[lo, hi]``."""
    from biaslens.report.plots_steer import steer_rows as ranked_rows
    from biaslens.report.tables import fmt_ci, fmt_p

    rows = []
    for r in ranked_rows(result, top_k):
        rows.append({"attribute": r["attribute"], "covariance": round(r["covariance"], 3),
                     "95% CI": fmt_ci(r["ci_low"], r["ci_high"], 3),
                     "correlation": round(r["correlation"], 3)
                     if np.isfinite(r["correlation"]) else None,
                     "q-value": fmt_p(r["q_value"]), "significant": r["significant"]})
        if "path_slope" in r:
            rows[-1].update({"path slope": round(r["path_slope"], 3),
                             "data slope": round(r["data_slope"], 3),
                             "beyond data": association_word(r["path_slope"], r["data_slope"],
                                                             r["beyond_data"])})
    return rows


def upload_warnings(image: np.ndarray, reference: np.ndarray) -> list[str]:
    """Why an uploaded face may be unlike the training data, in words (``[]`` if it looks
    alike): grayscale, or pixel statistics far outside those of ``reference`` images.

    ``image`` is uint8 ``(1, H, W, 3)`` or ``(H, W, 3)``; ``reference`` uint8
    ``(m, H, W, 3)`` of the data the models were trained on. The statistics are the
    per-image colour saturation, brightness, contrast and edge density; an upload more
    than 4 standard deviations (of the reference) from the reference mean is flagged.
    """
    img = np.asarray(image, dtype=np.float32).reshape((-1,) + np.shape(image)[-3:])
    out = []
    if float(np.abs(img - img.mean(axis=-1, keepdims=True)).mean()) < 2.0:
        out.append("the image is grayscale; the models were trained on colour faces")
    feats = _pixel_stats(img)[0]
    ref = _pixel_stats(np.asarray(reference, dtype=np.float32))
    mu, sd = ref.mean(axis=0), ref.std(axis=0) + 1e-6
    z = (feats - mu) / sd
    names = ("colour saturation", "brightness", "contrast", "edge density")
    far = [f"{nm} ({'higher' if zz > 0 else 'lower'})"
           for nm, zz in zip(names, z) if abs(zz) > 4]
    if far:
        out.append("its pixel statistics are far from the training faces': " + ", ".join(far))
    return out


def _pixel_stats(x: np.ndarray) -> np.ndarray:
    """(m, 4): saturation, brightness, contrast, mean absolute neighbour difference."""
    sat = np.abs(x - x.mean(axis=-1, keepdims=True)).mean(axis=(1, 2, 3))
    gray = x.mean(axis=-1)  # (m, H, W)
    edges = (np.abs(np.diff(gray, axis=1)).mean(axis=(1, 2))
             + np.abs(np.diff(gray, axis=2)).mean(axis=(1, 2)))
    return np.stack([sat, gray.mean(axis=(1, 2)), gray.std(axis=(1, 2)), edges], axis=1)
