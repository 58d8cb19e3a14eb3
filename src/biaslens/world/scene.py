"""Capture conditions for face-detection data: the ``detection`` scene (docs/world.md).

The renderer draws well-lit, centred, unoccluded faces, which any detector finds ~100 %
of the time. Real detection data is not like that: pictures are taken in dim light
(low exposure, amplified sensor noise, 8-bit quantization), framed loosely (scale and
crop jitter), partly covered (hands, objects), and the negatives include face-like
things. A scene applies those conditions to every image — faces and non-faces drawn
from one distribution that never looks at skin tone, sex or the label — so any
per-group difference in detection comes from the images themselves: the same dim
exposure leaves the features of a darker face (eyes, brows, mouth against the skin)
with less absolute contrast above the same sensor noise than those of a lighter face.

Image ``i`` of a call depends only on ``(seed, start_index + i)``: chunked calls equal
one call.

>>> import numpy as np
>>> imgs = np.full((2, 16, 16, 3), 200, np.uint8)
>>> apply_scene(imgs, "detection", seed=0).shape
(2, 16, 16, 3)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from biaslens.errors import UnknownNameError

__all__ = ["SCENES", "SceneParams", "apply_scene", "render_scene_nonfaces", "scene_draws",
           "scene_params"]


@dataclass(frozen=True)
class SceneParams:
    """The capture conditions of a scene (every draw independent of the image content)."""

    low_light: float = 0.15                      # share of pictures taken in dim light
    dim_exposure: tuple[float, float] = (0.25, 0.55)   # log-uniform exposure when dim
    exposure: tuple[float, float] = (0.8, 1.1)       # uniform exposure otherwise
    noise: tuple[float, float] = (3.0, 9.0)     # sensor noise sd (of 255) after exposure
    zoom: tuple[float, float] = (0.8, 1.3)      # log-uniform scale about the frame centre
    shift: float = 0.12                         # max translation (fraction of the frame)
    occlusion: float = 0.3                      # share with one occluding rectangle
    occluder_size: tuple[float, float] = (0.2, 0.45)   # its side (fraction of the frame)
    hard_negatives: float = 0.5                # share of non-faces that are featureless
    #                                             head-and-shoulders shapes (skin, hair,
    #                                             ears; no eyes, brows, nose or mouth)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named scenes: ``none`` (the renderer's own images) and ``detection``.
SCENES: dict[str, SceneParams | None] = {"none": None, "detection": SceneParams()}


def scene_params(name: str | None) -> SceneParams | None:
    """The :class:`SceneParams` of scene ``name`` (None or ``"none"``: no scene)."""
    if name is None:
        return None
    key = str(name).strip().lower()
    if key not in SCENES:
        raise UnknownNameError(f"unknown scene {name!r}. Valid scenes: {', '.join(SCENES)}")
    return SCENES[key]


def scene_draws(n: int, params: SceneParams, *, seed: int, start_index: int = 0
                ) -> dict[str, np.ndarray]:
    """Per-image capture draws from ``rng([seed, start_index + i, 11])`` (n,) each:
    ``exposure``, ``dim`` (bool), ``noise`` (sd, 0..1 scale), ``zoom``, ``tx``, ``ty``,
    ``occ`` (bool) and the occluder's ``ox, oy, ow, oh`` (fractions) and ``ocol`` (n, 3)."""
    u = np.empty((n, 12))
    for i in range(n):  # cheap per-image draws; the pixel work is vectorized
        u[i] = np.random.default_rng([seed, start_index + i, 11]).random(12)
    p = params
    dim = u[:, 0] < p.low_light
    lo, hi = math.log(p.dim_exposure[0]), math.log(p.dim_exposure[1])
    exposure = np.where(dim, np.exp(lo + (hi - lo) * u[:, 1]),
                        p.exposure[0] + (p.exposure[1] - p.exposure[0]) * u[:, 1])
    zlo, zhi = math.log(p.zoom[0]), math.log(p.zoom[1])
    s0, s1 = p.occluder_size
    return {"exposure": exposure, "dim": dim,
            "noise": (p.noise[0] + (p.noise[1] - p.noise[0]) * u[:, 2]) / 255.0,
            "zoom": np.exp(zlo + (zhi - zlo) * u[:, 3]),
            "tx": p.shift * (2 * u[:, 4] - 1), "ty": p.shift * (2 * u[:, 5] - 1),
            "occ": u[:, 6] < p.occlusion,
            "ox": u[:, 7], "oy": u[:, 8], "ow": s0 + (s1 - s0) * u[:, 9],
            "oh": s0 + (s1 - s0) * u[:, 10], "ocol": np.stack([u[:, 11], 1 - u[:, 11],
                                                               0.5 * u[:, 7] + 0.2], 1)}


def _reflect(i: np.ndarray, n: int) -> np.ndarray:
    """Integer coordinates folded into [0, n) by mirror reflection."""
    period = 2 * n
    i = np.mod(i, period)
    return np.where(i >= n, period - 1 - i, i)


def _warp(img: np.ndarray, zoom: np.ndarray, tx: np.ndarray, ty: np.ndarray) -> np.ndarray:
    """Scale about the centre by ``zoom`` and shift by (tx, ty) frame fractions (bilinear,
    mirror-padded): float32 (n, H, W, 3) -> same."""
    n, h, w, _ = img.shape
    ys = (np.arange(h, dtype=np.float32) + 0.5 - h / 2)[None, :, None]
    xs = (np.arange(w, dtype=np.float32) + 0.5 - w / 2)[None, None, :]
    z = zoom.astype(np.float32)[:, None, None]
    sy = ys / z + h / 2 - 0.5 - (ty * h).astype(np.float32)[:, None, None]   # (n, H, 1)
    sx = xs / z + w / 2 - 0.5 - (tx * w).astype(np.float32)[:, None, None]   # (n, 1, W)
    y0, x0 = np.floor(sy), np.floor(sx)
    fy, fx = (sy - y0)[..., None], (sx - x0)[..., None]
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    ya, yb = _reflect(y0, h), _reflect(y0 + 1, h)
    xa, xb = _reflect(x0, w), _reflect(x0 + 1, w)
    b = np.arange(n)[:, None, None]
    top = img[b, ya, xa] * (1 - fx) + img[b, ya, xb] * fx
    bot = img[b, yb, xa] * (1 - fx) + img[b, yb, xb] * fx
    return top * (1 - fy) + bot * fy


def apply_scene(images: np.ndarray, scene: str | SceneParams | None, *, seed: int,
                start_index: int = 0) -> np.ndarray:
    """``images`` (uint8 (n, H, W, 3)) as captured under ``scene``: framing jitter, one
    occluder on some, exposure, sensor noise, 8-bit quantization. ``None``/``"none"``
    returns the images unchanged."""
    p = scene if isinstance(scene, SceneParams) else scene_params(scene)
    if p is None or len(images) == 0:
        return images
    n, h, w, _ = images.shape
    d = scene_draws(n, p, seed=seed, start_index=start_index)
    img = _warp(images.astype(np.float32) / 255.0, d["zoom"], d["tx"], d["ty"])
    occ = np.flatnonzero(d["occ"])
    if occ.size:
        yy = (np.arange(h) + 0.5)[None, :, None] / h
        xx = (np.arange(w) + 0.5)[None, None, :] / w
        cx, cy = d["ox"][occ, None, None], d["oy"][occ, None, None]
        inside = ((np.abs(xx - cx) < d["ow"][occ, None, None] / 2)
                  & (np.abs(yy - cy) < d["oh"][occ, None, None] / 2))
        img[occ] = np.where(inside[..., None], d["ocol"][occ, None, None, :].astype(np.float32),
                            img[occ])
    img *= d["exposure"].astype(np.float32)[:, None, None, None]
    noise = np.empty((n, h, w, 3), dtype=np.float32)
    for i in range(n):  # per-image stream, so chunking does not change the pixels
        noise[i] = np.random.default_rng([seed, start_index + i, 12]).standard_normal(
            (h, w, 3), dtype=np.float32)
    img += noise * d["noise"].astype(np.float32)[:, None, None, None]
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _hard_negative_labels(n: int, seed: int, start_index: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Attributes and skin tone of featureless heads: tone uniform over the whole ramp
    (negatives are not skewed by skin tone), sex and hair colour at random, young, no
    accessories. From ``rng([seed, start_index + i, 14])``."""
    from biaslens.names import CELEBA_ATTRIBUTES

    idx = {a: CELEBA_ATTRIBUTES.index(a) for a in
           ("Male", "Young", "No_Beard", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")}
    hair = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
    attrs = np.zeros((n, len(CELEBA_ATTRIBUTES)), dtype=bool)
    tone = np.empty(n)
    for i in range(n):
        u = np.random.default_rng([seed, start_index + i, 14]).random(3)
        tone[i] = u[0]
        attrs[i, idx["Male"]] = u[1] < 0.5
        attrs[i, idx[hair[int(u[2] * 4) % 4]]] = True
    attrs[:, idx["Young"]] = True
    attrs[:, idx["No_Beard"]] = True
    return attrs, tone


def render_scene_nonfaces(n: int, scene: str | SceneParams | None, *, seed: int = 0,
                          size: int | tuple[int, int] = 64, start_index: int = 0
                          ) -> np.ndarray:
    """``n`` non-faces for detection data under ``scene``: the scene's share of
    featureless heads (hard negatives), the rest :func:`render_nonfaces` images, all
    captured with :func:`apply_scene`. Image ``i`` depends only on ``(seed,
    start_index + i)``."""
    from biaslens.world.nonface import render_nonfaces
    from biaslens.world.render import render_faces

    p = scene if isinstance(scene, SceneParams) else scene_params(scene)
    out = render_nonfaces(n, seed=seed, size=size, start_index=start_index)
    if p is None or n == 0:
        return out
    hard = np.array([np.random.default_rng([seed, start_index + i, 15]).random()
                     < p.hard_negatives for i in range(n)], dtype=bool)
    if hard.any():   # all n drawn in one vectorized call, so head i depends only on i
        a, t = _hard_negative_labels(n, seed, start_index)
        heads = render_faces(a, t, seed=seed, size=size, start_index=start_index,
                             features=False)
        out[hard] = heads[hard]
    return apply_scene(out, p, seed=seed, start_index=start_index)
