"""Non-face images (negatives for face detection): backgrounds, shapes, textures, blobs.

Drawn with the same machinery and statistics as the faces (gradient backgrounds,
skin-coloured and hair-coloured regions, smooth anti-aliased edges, lighting,
sensor noise, sometimes blur) but with no face layout, so a detector has to learn the
arrangement of features rather than colour or texture. Sample ``i`` depends only on
``(seed, start_index + i)``: chunked calls equal one call.
"""

from __future__ import annotations

import math

import numpy as np

from biaslens.world.render import _aa, _blur, _wave, parse_size, skin_rgb

__all__ = ["render_nonfaces"]

_N_SHAPES = 7          # shape slots per image (each on or off)
_U_PER_SHAPE = 12      # uniforms per shape slot
_N_GLOBAL = 16         # uniforms for background, texture, lighting, noise


def _draws(n: int, seed: int, start_index: int, h: int, w: int):
    """Per-image uniforms and sensor noise from ``rng([seed, index, 1])``."""
    g = np.empty((n, _N_GLOBAL))
    s = np.empty((n, _N_SHAPES, _U_PER_SHAPE))
    trig = np.empty((n, _N_SHAPES + 2, 2))
    noise = np.empty((n, h, w, 3), dtype=np.float32)
    for i in range(n):  # per-image parameter draws; pixel work is vectorized
        rng = np.random.default_rng([seed, start_index + i, 1])
        g[i] = rng.random(_N_GLOBAL)
        s[i] = rng.random((_N_SHAPES, _U_PER_SHAPE))
        angles = list(2 * math.pi * s[i, :, 0]) + [2 * math.pi * g[i, 0], 2 * math.pi * g[i, 1]]
        trig[i] = [(math.cos(t), math.sin(t)) for t in angles]
        noise[i] = rng.standard_normal((h, w, 3), dtype=np.float32)
    return g, s, trig, noise


def render_nonfaces(n: int, *, seed: int = 0, size: int | tuple[int, int] = 64,
                    start_index: int = 0) -> np.ndarray:
    """Draw ``n`` images without faces, uint8 ``(n, H, W, 3)``.

    Each image is a two-colour gradient background, an optional stripe texture and up
    to seven random ellipses, rounded boxes, strokes and soft blobs; about a third of
    the shapes take a skin colour (tones drawn over the full ramp) and some a hair
    colour, so colour alone does not separate faces from non-faces.

    Examples
    --------
    >>> render_nonfaces(3, seed=0, size=32).shape
    (3, 32, 32, 3)
    """
    h, w = parse_size(size)
    n = int(n)
    if n <= 0:
        return np.zeros((0, h, w, 3), dtype=np.uint8)
    g, s, trig, noise = _draws(n, int(seed), int(start_index), h, w)
    unit = 2.0 / min(h, w)
    gx = (((np.arange(w) + 0.5) - w / 2) * unit).astype(np.float32)[None, None, :]
    gy = (((np.arange(h) + 0.5) - h / 2) * unit).astype(np.float32)[None, :, None]
    f = lambda a: np.asarray(a, dtype=np.float32)[:, None, None]  # noqa: E731  (n,) -> (n,1,1)

    # Background gradient.
    c1, c2 = 0.15 + 0.75 * g[:, 2:5], 0.15 + 0.75 * g[:, 5:8]
    t = np.clip(0.5 + 0.45 * (f(trig[:, -2, 0]) * gx + f(trig[:, -2, 1]) * gy), 0.0, 1.0)
    img = (c1[:, None, None, :] + t[..., None] * (c2 - c1)[:, None, None, :]).astype(np.float32)

    # Stripe / wave texture on half of the images.
    tex_on = f(g[:, 8] < 0.5) * f(0.05 + 0.2 * g[:, 9])
    along = f(trig[:, -1, 0]) * gx + f(trig[:, -1, 1]) * gy
    across = f(trig[:, -1, 0]) * gy - f(trig[:, -1, 1]) * gx
    stripes = _wave(along * f(2 + 10 * g[:, 10]) + 0.3 * _wave(across * 3.0)) - 0.5
    img *= (1.0 + tex_on * stripes)[..., None]

    # Shapes: ellipse, rounded box, thick stroke or soft blob per slot.
    tones = skin_rgb(s[:, :, 1])                                   # (n, K, 3)
    hair = np.array([[0.07, 0.06, 0.06], [0.86, 0.72, 0.44], [0.36, 0.22, 0.12],
                     [0.66, 0.66, 0.66]])[(s[:, :, 2] * 4).astype(int)]
    rand = s[:, :, 3:6]
    kind_col = s[:, :, 6]
    cols = np.where((kind_col < 0.35)[..., None], tones,
                    np.where((kind_col < 0.5)[..., None], hair, rand)).astype(np.float32)
    for k in range(_N_SHAPES):
        u = s[:, k]
        on = f(u[:, 7] < 0.75)
        cos, sin = f(trig[:, k, 0]), f(trig[:, k, 1])
        dx, dy = gx - f(1.6 * u[:, 8] - 0.8), gy - f(1.6 * u[:, 9] - 0.8)
        X, Y = cos * dx + sin * dy, cos * dy - sin * dx
        rx, ry = f(0.08 + 0.45 * u[:, 10]), f(0.04 + 0.3 * u[:, 11])
        kind = (u[:, 0] * 1e3 % 4).astype(int)                  # independent of the angle
        ell = (np.sqrt((X / rx) ** 2 + (Y / ry) ** 2) - 1.0) * np.minimum(rx, ry)
        qx, qy = np.abs(X) - rx + 0.03, np.abs(Y) - ry + 0.03
        box = (np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
               + np.minimum(np.maximum(qx, qy), 0) - 0.03)
        stroke = np.maximum(np.abs(Y) - 0.25 * ry, np.abs(X) - rx)
        d = np.where(f(kind == 0) > 0, ell, np.where(f(kind == 1) > 0, box, stroke))
        edge = np.where(f(kind == 3) > 0, np.float32(0.25), np.float32(unit))
        d = np.where(f(kind == 3) > 0, ell, d)                   # kind 3: soft blob
        alpha = on * f(0.6 + 0.4 * u[:, 4]) * _aa(d, edge)
        img += alpha[..., None] * (cols[:, k][:, None, None, :] - img)

    # Lighting gradient, optional blur (shared with faces), sensor noise.
    light = 1.0 + f(0.16 * g[:, 11]) * (f(trig[:, -2, 1]) * gx - f(trig[:, -2, 0]) * gy)
    img *= light[..., None]
    blurry = np.flatnonzero(g[:, 12] < 0.1)
    if blurry.size:
        img[blurry] = _blur(img[blurry], sigma=0.025 * min(h, w))
    img += noise * f((1.0 + 3.0 * g[:, 13]) / 255.0)[..., None]
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
