"""Procedural face renderer of the synthetic world: attribute vectors -> uint8 face images.

Every face is drawn from signed-distance-like shape functions with a one-pixel smooth
edge (anti-aliasing without supersampling), vectorized over a batch: per-face
parameters are ``(n, 1, 1)`` arrays broadcast against ``(n, H, W)`` coordinate grids,
and each shape is alpha-composited onto the ``(n, H, W, 3)`` float32 image. A shape is
computed only on the faces that show it and only inside a pixel window that holds it.

Determinism: the nuisance of sample ``i`` (pose, face shape, colours, lighting, noise)
comes from ``np.random.default_rng([seed, start_index + i])`` and the per-pixel maths
uses only exactly-rounded operations (+, *, /, sqrt, floor), so a face's pixels do not
depend on which batch it was rendered in: chunked calls equal one call.

Nuisance draws never depend on the attributes, so toggling one attribute of a face
(same seed, same index) changes only that attribute's pixels (see ``ATTRIBUTE_REGIONS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES

__all__ = [
    "RENDERED_ATTRIBUTES",
    "LABEL_ONLY_ATTRIBUTES",
    "GLOBAL_ATTRIBUTES",
    "ATTRIBUTE_REGIONS",
    "render_faces",
    "skin_rgb",
    "parse_size",
]

#: Attributes with no honest visual meaning: carried as labels only. A classifier can
#: learn them only through correlated (proxy) attributes, which audits should expose.
LABEL_ONLY_ATTRIBUTES: tuple[str, ...] = ("Attractive",)

#: Attributes the renderer draws (every CelebA attribute except the label-only ones).
RENDERED_ATTRIBUTES: tuple[str, ...] = tuple(
    a for a in CELEBA_ATTRIBUTES if a not in LABEL_ONLY_ATTRIBUTES)

#: Attributes whose effect spans most of the image (skin colour, blur, sex-typed shape
#: cues, age: wrinkles and duller skin).
GLOBAL_ATTRIBUTES: tuple[str, ...] = ("Blurry", "Male", "Pale_Skin", "Young")

#: Where toggling an attribute may change pixels, as fractions of the image
#: ``(top, left, bottom, right)`` of the square ``size x size`` frame, pose jitter
#: included. Global attributes span the whole frame.
ATTRIBUTE_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "5_o_Clock_Shadow": (0.38, 0.22, 0.78, 0.78),
    "Arched_Eyebrows": (0.28, 0.25, 0.46, 0.75),
    "Bags_Under_Eyes": (0.36, 0.25, 0.54, 0.75),
    "Bald": (0.0, 0.0, 1.0, 1.0),
    "Bangs": (0.08, 0.2, 0.5, 0.8),
    "Big_Lips": (0.52, 0.32, 0.72, 0.68),
    "Big_Nose": (0.38, 0.36, 0.64, 0.64),
    "Black_Hair": (0.0, 0.0, 1.0, 1.0),
    "Blond_Hair": (0.0, 0.0, 1.0, 1.0),
    "Blurry": (0.0, 0.0, 1.0, 1.0),
    "Brown_Hair": (0.0, 0.0, 1.0, 1.0),
    "Bushy_Eyebrows": (0.28, 0.22, 0.46, 0.78),
    "Chubby": (0.1, 0.1, 1.0, 0.9),
    "Double_Chin": (0.56, 0.25, 0.86, 0.75),
    "Eyeglasses": (0.3, 0.14, 0.56, 0.86),
    "Goatee": (0.5, 0.28, 0.82, 0.72),
    "Gray_Hair": (0.0, 0.0, 1.0, 1.0),
    "Heavy_Makeup": (0.3, 0.2, 0.66, 0.8),
    "High_Cheekbones": (0.36, 0.18, 0.66, 0.82),
    "Male": (0.0, 0.0, 1.0, 1.0),
    "Mouth_Slightly_Open": (0.52, 0.32, 0.74, 0.68),
    "Mustache": (0.5, 0.3, 0.66, 0.7),
    "Narrow_Eyes": (0.34, 0.25, 0.52, 0.75),
    "No_Beard": (0.36, 0.14, 0.86, 0.86),
    "Oval_Face": (0.05, 0.1, 1.0, 0.9),
    "Pale_Skin": (0.0, 0.0, 1.0, 1.0),
    "Pointy_Nose": (0.38, 0.36, 0.64, 0.64),
    "Receding_Hairline": (0.05, 0.12, 0.42, 0.88),
    "Rosy_Cheeks": (0.4, 0.18, 0.66, 0.82),
    "Sideburns": (0.28, 0.12, 0.64, 0.88),
    "Smiling": (0.36, 0.18, 0.76, 0.82),
    "Straight_Hair": (0.0, 0.0, 1.0, 1.0),
    "Wavy_Hair": (0.0, 0.0, 1.0, 1.0),
    "Wearing_Earrings": (0.38, 0.1, 0.66, 0.9),
    "Wearing_Hat": (0.0, 0.05, 0.45, 0.95),
    "Wearing_Lipstick": (0.52, 0.32, 0.72, 0.68),
    "Wearing_Necklace": (0.66, 0.22, 1.0, 0.78),
    "Wearing_Necktie": (0.74, 0.3, 1.0, 0.7),
    "Young": (0.0, 0.0, 1.0, 1.0),
}

_A = {name: i for i, name in enumerate(CELEBA_ATTRIBUTES)}

# Skin-colour ramp (sRGB, 0..1) from lightest (tone 0) to darkest (tone 1).
_SKIN_T = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
_SKIN_RGB = np.array([[250, 224, 208], [236, 193, 163], [214, 160, 120], [172, 118, 82],
                      [120, 80, 54], [70, 46, 34]], dtype=np.float64) / 255.0
_PALE = np.array([0.98, 0.93, 0.91])

_HAIR = {  # reference colours of the four CelebA hair-colour labels
    "Black_Hair": (0.07, 0.06, 0.06), "Blond_Hair": (0.86, 0.72, 0.44),
    "Brown_Hair": (0.36, 0.22, 0.12), "Gray_Hair": (0.66, 0.66, 0.66),
}
_HAIR_OTHER = (0.52, 0.24, 0.12)  # auburn: hair with none of the four labels
_N_UNIFORM = 48  # nuisance uniforms drawn per face (fixed, so streams never shift)

# Face layout, in face units (face centre at 0, y down, face half-width ~0.35).
_FACE_CY = -0.06   # canvas y of the face centre (canvas spans [-1, 1] on the short side)
_EYE_X, _EYE_Y = 0.14, -0.04
_BROW_Y = -0.13
_NOSE_Y = 0.13
_MOUTH_Y = 0.25


def parse_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """``64 -> (64, 64)``; ``(218, 178) -> (218, 178)`` as (H, W); checks positivity."""
    if isinstance(size, (int, np.integer)):
        h = w = int(size)
    else:
        try:
            h, w = (int(v) for v in size)
        except (TypeError, ValueError) as e:
            raise DataError(f"size must be an int or (H, W), got {size!r}",
                            field="size") from e
    if h < 8 or w < 8:
        raise DataError(f"image size must be at least 8x8, got {h}x{w}", field="size")
    return h, w


def skin_rgb(tone: np.ndarray | float) -> np.ndarray:
    """sRGB skin colour in [0, 1] for skin tone in [0, 1] (0 lightest, 1 darkest).

    Piecewise-linear ramp through six reference skin colours; returns shape ``tone.shape + (3,)``.
    """
    t = np.clip(np.asarray(tone, dtype=np.float64), 0.0, 1.0)
    return np.stack([np.interp(t, _SKIN_T, _SKIN_RGB[:, c]) for c in range(3)], axis=-1)


# ----------------------------------------------------------------------------- helpers
def _aa(d: np.ndarray, w: np.ndarray | float) -> np.ndarray:
    """Coverage of a shape from its signed distance ``d`` (negative inside), edge width ``w``."""
    return np.clip(0.5 - d / w, 0.0, 1.0)


def _ell_d(X, Y, cx, cy, rx, ry):
    """Approximate signed distance to an ellipse, accurate near its outline.

    ``k0 (k0 - 1) / k1`` with ``k0 = |p / r|``, ``k1 = |p / r^2|`` (first-order distance
    to the level set); the small ``eps`` makes it ``-min(r)`` at the centre instead of 0/0.
    """
    u = (X - cx) / rx
    v = (Y - cy) / ry
    k0 = np.sqrt(u * u + v * v)
    ur, vr = u / rx, v / ry
    k1 = np.sqrt(ur * ur + vr * vr)
    eps = 1e-3
    return (k0 - 1.0) * (k0 + eps) / (k1 + eps / np.minimum(rx, ry))


def _box_d(X, Y, cx, cy, hx, hy, r=0.0):
    """Signed distance to a box of half-sizes (hx, hy) with corner radius r."""
    qx = np.abs(X - cx) - hx + r
    qy = np.abs(Y - cy) - hy + r
    out = np.sqrt(np.maximum(qx, 0.0) ** 2 + np.maximum(qy, 0.0) ** 2)
    return out + np.minimum(np.maximum(qx, qy), 0.0) - r


def _seg_d(X, Y, ax, ay, bx, by):
    """Distance to the segment a-b (unsigned)."""
    px, py = X - ax, Y - ay
    vx, vy = bx - ax, by - ay
    h = np.clip((px * vx + py * vy) / (vx * vx + vy * vy), 0.0, 1.0)
    dx, dy = px - h * vx, py - h * vy
    return np.sqrt(dx * dx + dy * dy)


def _wave(x):
    """Smooth periodic wave in [0, 1] with period 1 (exact arithmetic, no sin)."""
    t = np.abs(2.0 * (x - np.floor(x + 0.5)))  # triangle wave
    return t * t * (3.0 - 2.0 * t)


def _smooth(x, a, b):
    """Smoothstep from 0 at ``a`` to 1 at ``b``."""
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class _P:
    """Per-face parameters: a dict of ``(n, 1, 1)`` float32 arrays with attribute access."""

    def __init__(self, d: dict[str, np.ndarray]):
        self.__dict__.update(d)

    def sub(self, sel) -> _P:
        return _P({k: v[sel] for k, v in self.__dict__.items()})


@dataclass
class _Ctx:
    """What a shape function sees: local coordinates, pixel size, params and the image patch."""

    X: np.ndarray      # (m, h, w) face-local x
    Y: np.ndarray      # (m, h, w) face-local y
    px: np.ndarray     # (m, 1, 1) pixel size in face units
    p: _P              # per-face parameters (m, 1, 1)
    img: np.ndarray    # (m, h, w, 3) image patch, composited in place
    tex: np.ndarray    # (m, h, w) per-face texture noise in [0, 1)

    def over(self, alpha: np.ndarray, color) -> None:
        """Alpha-composite ``color`` ((m,3), (m,h,w,3) or a 3-tuple) with coverage ``alpha``."""
        color = np.asarray(color, dtype=np.float32)
        if color.ndim == 1:
            color = color[None, None, None, :]
        elif color.ndim == 2:
            color = color[:, None, None, :]
        diff = color - self.img           # one temporary, then in place
        diff *= alpha[..., None]
        self.img += diff


class _Canvas:
    """Batch of faces under construction: grids, pose, parameters and the image."""

    def __init__(self, h: int, w: int, p: _P, pose: np.ndarray, tex: np.ndarray):
        self.h, self.w, self.p = h, w, p
        self.unit = 2.0 / min(h, w)  # canvas units per pixel
        gx = ((np.arange(w, dtype=np.float32) + 0.5) - w / 2) * np.float32(self.unit)
        gy = ((np.arange(h, dtype=np.float32) + 0.5) - h / 2) * np.float32(self.unit)
        self.gx, self.gy = gx[None, None, :], gy[None, :, None]
        cx, cy, cos, sin, k = (pose[:, j, None, None] for j in range(5))  # (n, 1, 1)
        self.pose = pose
        dx, dy = self.gx - cx, self.gy - cy
        self.X = (cos * dx + sin * dy) / k   # (n, H, W)
        self.Y = (cos * dy - sin * dx) / k
        self.px = (np.float32(self.unit) / k).astype(np.float32)
        self.tex = tex
        self.img = np.zeros((len(pose), h, w, 3), dtype=np.float32)

    def window(self, box: tuple[float, float, float, float], sel) -> tuple[slice, slice]:
        """Pixel window holding the face-local box (x0, y0, x1, y1) for the faces ``sel``."""
        x0, y0, x1, y1 = box
        cx, cy, cos, sin, k = (self.pose[sel, j] for j in range(5))
        xs = np.array([x0, x1, x0, x1])[:, None]
        ys = np.array([y0, y0, y1, y1])[:, None]
        gx = cx + k * (cos * xs - sin * ys)
        gy = cy + k * (sin * xs + cos * ys)
        cols = gx / self.unit + self.w / 2
        rows = gy / self.unit + self.h / 2
        c0 = max(int(math.floor(cols.min())) - 2, 0)
        c1 = min(int(math.ceil(cols.max())) + 2, self.w)
        r0 = max(int(math.floor(rows.min())) - 2, 0)
        r1 = min(int(math.ceil(rows.max())) + 2, self.h)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def draw(self, mask: np.ndarray | None, box, fn: Callable[[_Ctx], None]) -> None:
        """Run shape function ``fn`` on the faces where ``mask`` is true, inside ``box``."""
        if mask is None:
            sel = slice(None)
        else:
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                return
            sel = slice(None) if idx.size == len(mask) else idx
        rs, cs = self.window(box, sel)
        if rs.stop <= rs.start or cs.stop <= cs.start:
            return
        if isinstance(sel, slice):
            ctx = _Ctx(self.X[:, rs, cs], self.Y[:, rs, cs], self.px, self.p,
                       self.img[:, rs, cs], self.tex[:, rs, cs])
            fn(ctx)  # composited in place through the view
        else:
            ctx = _Ctx(self.X[sel, rs, cs], self.Y[sel, rs, cs], self.px[sel], self.p.sub(sel),
                       self.img[sel, rs, cs], self.tex[sel, rs, cs])
            fn(ctx)
            self.img[sel, rs, cs] = ctx.img


# ------------------------------------------------------------------- parameters
def _nuisance(n: int, seed: int, start_index: int, h: int, w: int):
    """Per-face uniforms, normals, texture noise and sensor noise from rng([seed, index])."""
    u = np.empty((n, _N_UNIFORM), dtype=np.float64)
    z = np.empty((n, 4), dtype=np.float64)
    tex = np.empty((n, h, w), dtype=np.float32)
    noise = np.empty((n, h, w, 3), dtype=np.float32)
    for i in range(n):  # cheap per-face draws; the pixel work is vectorized below
        rng = np.random.default_rng([seed, start_index + i])
        u[i] = rng.random(_N_UNIFORM)
        z[i] = rng.standard_normal(4)
        tex[i] = rng.random((h, w), dtype=np.float32)
        noise[i] = rng.standard_normal((h, w, 3), dtype=np.float32)
    return u, z, tex, noise


def _params(attrs: np.ndarray, tone: np.ndarray, u: np.ndarray, z: np.ndarray):
    """Face parameters (dict of (n,) arrays) and pose (n, 5) from attributes and nuisance."""
    a = {name: attrs[:, i].astype(np.float64) for name, i in _A.items()}
    male, young = a["Male"], a["Young"]
    d: dict[str, np.ndarray] = {}

    # Sex-typed shape cues: overlapping per-face "masculinity" (not fixed by the label).
    m = np.clip(0.3 + 0.4 * male + 0.17 * z[:, 0], 0.0, 1.0)
    d["masc"] = m
    chub, oval = a["Chubby"], a["Oval_Face"]
    d["fa"] = 0.325 + 0.04 * m + 0.05 * chub - 0.025 * oval + 0.02 * (u[:, 0] - 0.5)
    d["fb"] = 0.44 + 0.04 * oval + 0.015 * m + 0.02 * (u[:, 1] - 0.5)
    d["jaw"] = np.clip(0.45 + 0.4 * m + 0.2 * chub - 0.25 * oval + 0.1 * (u[:, 2] - 0.5), 0.2, 0.95)
    d["neck"] = 0.13 + 0.04 * m + 0.04 * chub

    # Colours.
    skin = skin_rgb(np.clip(tone + 0.04 * (u[:, 3] - 0.5), 0.0, 1.0))
    skin = skin * (1.0 + 0.06 * (u[:, 4:5] - 0.5))
    pale = a["Pale_Skin"][:, None]
    skin = skin + pale * 0.55 * (_PALE - skin)
    grey = skin.mean(axis=1, keepdims=True)
    old = 1.0 - young[:, None]
    skin = (skin + old * 0.35 * (grey - skin)) * (1.0 - 0.06 * old)  # older: duller, darker
    d["skin"] = skin
    names = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
    flags = np.stack([a[k] for k in names], axis=1)  # (n, 4)
    ref = np.array([_HAIR[k] for k in names])
    cnt = flags.sum(axis=1, keepdims=True)
    hair = np.where(cnt > 0, flags @ ref / np.maximum(cnt, 1), np.array(_HAIR_OTHER))
    hair = np.clip(hair * (1.0 + 0.16 * (u[:, 5:6] - 0.5)), 0.0, 1.0)
    d["hair"] = hair
    d["brow_col"] = np.where(a["Blond_Hair"][:, None] > 0, hair * 0.65, hair * 0.5 + 0.02)
    d["shirt"] = 0.15 + 0.7 * u[:, 6:9]
    bg1, bg2 = 0.2 + 0.7 * u[:, 9:12], 0.2 + 0.7 * u[:, 12:15]
    d["bg1"], d["bg2"] = bg1, bg2
    d["hat_col"] = 0.1 + 0.8 * u[:, 15:18]
    tie_palette = np.array([[0.7, 0.08, 0.1], [0.1, 0.15, 0.5], [0.12, 0.35, 0.15],
                            [0.45, 0.1, 0.45], [0.08, 0.08, 0.1]])
    d["tie_col"] = tie_palette[(u[:, 18] * len(tie_palette)).astype(int)]
    d["iris_col"] = np.array([0.25, 0.15, 0.08]) + np.array([0.2, 0.35, 0.45]) * u[:, 24:25]
    shadow_choice = (u[:, 25] * 3).astype(int)
    d["shadow_col"] = np.array([[0.45, 0.25, 0.5], [0.42, 0.28, 0.2], [0.25, 0.35, 0.6]])[
        shadow_choice]
    d["lip_col"] = np.array([0.75, 0.08, 0.15]) + np.array([0.15, 0.05, 0.12]) * (u[:, 26:27] - 0.5)
    d["jewel_col"] = np.where(u[:, 27:28] < 0.5, np.array([0.95, 0.8, 0.3]),
                              np.array([0.9, 0.92, 0.95]))

    # Shapes and style.
    d["long_hair"] = ((u[:, 28] < np.where(male > 0, 0.12, 0.85)) & (a["Bald"] == 0)).astype(float)
    d["hair_vol"] = 0.03 + 0.05 * u[:, 29]
    d["eye_open"] = np.where(a["Narrow_Eyes"] > 0, 0.016, 0.036) * (0.9 + 0.2 * u[:, 30])
    d["gaze"] = 0.012 * (u[:, 31] - 0.5)
    d["nose_s"] = 1.0 + 0.5 * a["Big_Nose"] + 0.1 * (u[:, 32] - 0.5)
    d["mouth_w"] = 0.085 + 0.02 * a["Smiling"] + 0.012 * a["Big_Lips"] + 0.01 * (u[:, 33] - 0.5)
    d["lip_s"] = 1.0 + 1.1 * a["Big_Lips"] + 0.15 * (u[:, 34] - 0.5)
    d["brow_t"] = 0.009 + 0.007 * m + 0.011 * a["Bushy_Eyebrows"]
    d["arch"] = 0.008 + 0.03 * a["Arched_Eyebrows"]
    d["wave_ph"] = u[:, 35]
    d["light"] = 0.16 * u[:, 36]
    d["sigma"] = (1.0 + 3.0 * u[:, 37]) / 255.0
    for name in CELEBA_ATTRIBUTES:
        d["a_" + name] = a[name]

    # Pose: translation, rotation, scale (all small).
    th = (u[:, 38] - 0.5) * math.radians(12.0)
    k = 0.93 + 0.14 * u[:, 39]
    pose = np.stack([0.1 * (u[:, 40] - 0.5), _FACE_CY + 0.08 * (u[:, 41] - 0.5),
                     np.array([math.cos(t) for t in th]), np.array([math.sin(t) for t in th]),
                     k], axis=1)
    ang = u[:, 42] * 2 * math.pi
    d["bg_dir"] = np.stack([[math.cos(t) for t in ang], [math.sin(t) for t in ang]], 1)
    ang2 = u[:, 43] * 2 * math.pi
    d["light_dir"] = np.stack([[math.cos(t) for t in ang2], [math.sin(t) for t in ang2]], 1)
    return d, pose


def _to_p(d: dict[str, np.ndarray]) -> _P:
    """(n,) -> (n, 1, 1) and (n, c) -> (n, c) float32 arrays."""
    out = {}
    for k, v in d.items():
        v = np.asarray(v, dtype=np.float32)
        out[k] = v[:, None, None] if v.ndim == 1 else v
    return _P(out)


# ------------------------------------------------------------------- shapes
def _hair_shade(c: _Ctx) -> np.ndarray:
    """Hair colour field (m, h, w, 3): straight streaks, wavy bands or plain strands."""
    p = c.p
    ph = p.wave_ph
    straight = _wave(c.X * 28.0 + ph)
    wavy = _wave(c.Y * 14.0 + 0.35 * _wave(c.X * 9.0 + ph) + ph)
    plain = c.tex
    s = (p.a_Straight_Hair * (0.82 + 0.3 * straight)
         + p.a_Wavy_Hair * (0.72 + 0.5 * wavy)
         + (1 - p.a_Straight_Hair) * (1 - p.a_Wavy_Hair) * (0.94 + 0.08 * plain))
    s = s / np.maximum(p.a_Straight_Hair + p.a_Wavy_Hair, 1.0) * (0.97 + 0.06 * c.tex)
    return np.clip(p.hair[:, None, None, :] * s[..., None], 0.0, 1.0)


def _wavy_edge(c: _Ctx) -> np.ndarray:
    """Outline ripple of wavy hair (face units)."""
    return c.p.a_Wavy_Hair * 0.025 * (_wave(c.Y * 9.0 + c.p.wave_ph) - 0.5)


def _draw_background(cv: _Canvas) -> None:
    p = cv.p
    along = p.bg_dir[:, 0, None, None] * cv.gx + p.bg_dir[:, 1, None, None] * cv.gy
    t = np.clip(0.5 + 0.45 * along, 0.0, 1.0)  # (n, H, W)
    np.multiply(t[..., None], (p.bg2 - p.bg1)[:, None, None, :], out=cv.img)
    cv.img += p.bg1[:, None, None, :]


def _torso(c: _Ctx) -> None:
    p = c.p
    d = _ell_d(c.X, c.Y, 0.0, 1.18, 0.62 + 0.08 * p.masc, 0.5)
    shade = 0.9 + 0.1 * _smooth(c.Y, 1.2, 0.7)
    c.over(_aa(d, c.px), p.shirt[:, None, None, :] * shade[..., None])


def _hair_back(c: _Ctx) -> None:
    p = c.p
    hx = p.fa + 0.1 + p.hair_vol + _wavy_edge(c)
    d = _box_d(c.X, c.Y, 0.0, 0.22, hx, 0.62, 0.14)
    c.over(_aa(d, c.px), _hair_shade(c) * 0.85)


def _neck(c: _Ctx) -> None:
    p = c.p
    d = _box_d(c.X, c.Y, 0.0, 0.5, p.neck, 0.3, 0.03)
    c.over(_aa(d, c.px), p.skin[:, None, None, :] * 0.86)


def _necklace(c: _Ctx) -> None:
    p = c.p
    ring = np.abs(_ell_d(c.X, c.Y, 0.0, 0.5, p.neck + 0.05, 0.24))
    d = np.maximum(ring - 0.014, 0.52 - c.Y)
    pend = _ell_d(c.X, c.Y, 0.0, 0.76, 0.03, 0.03)
    col = p.jewel_col[:, None, None, :] * (0.8 + 0.3 * c.tex[..., None])
    c.over(_aa(np.minimum(d, pend), c.px), col)


def _necktie(c: _Ctx) -> None:
    p = c.p
    # White collar wings then a knot and a widening blade.
    cl = np.minimum(_seg_d(c.X, c.Y, -0.02, 0.77, -0.14, 0.7),
                    _seg_d(c.X, c.Y, 0.02, 0.77, 0.14, 0.7))
    c.over(_aa(cl - 0.03, c.px), (0.95, 0.95, 0.95))
    knot = _box_d(c.X, c.Y, 0.0, 0.77, 0.04, 0.03, 0.012)
    half = 0.035 + 0.06 * np.clip((c.Y - 0.8) / 0.3, 0.0, 1.0)
    blade = np.maximum(np.abs(c.X) - half, np.maximum(0.78 - c.Y, c.Y - 1.25))
    c.over(_aa(np.minimum(knot, blade), c.px), p.tie_col)


def _ears(c: _Ctx) -> None:
    p = c.p
    d = np.minimum(_ell_d(c.X, c.Y, -p.fa - 0.01, 0.0, 0.05, 0.085),
                   _ell_d(c.X, c.Y, p.fa + 0.01, 0.0, 0.05, 0.085))
    c.over(_aa(d, c.px), p.skin[:, None, None, :] * 0.93)


def _earrings(c: _Ctx) -> None:
    p = c.p
    d = np.minimum(_ell_d(c.X, c.Y, -p.fa - 0.015, 0.12, 0.024, 0.024),
                   _ell_d(c.X, c.Y, p.fa + 0.015, 0.12, 0.024, 0.024))
    col = p.jewel_col[:, None, None, :] * (0.75 + 0.4 * c.tex[..., None])
    c.over(_aa(d, c.px), col)


def _face_d(c: _Ctx) -> np.ndarray:
    """Signed distance to the face: an ellipse united with a jaw box (squarer when masculine)."""
    p = c.p
    d_ell = _ell_d(c.X, c.Y, 0.0, 0.0, p.fa, p.fb)
    jh = 0.5 * p.fb * (0.75 + 0.15 * p.jaw)
    jw = p.fa * (0.55 + 0.42 * p.jaw)
    d_jaw = _box_d(c.X, c.Y, 0.0, jh, jw, jh, 0.06 + 0.08 * (1 - p.jaw))
    return np.minimum(d_ell, d_jaw)


def _face(c: _Ctx) -> None:
    p = c.p
    # Soft shading: darker towards the edges and the lower face.
    r2 = (c.X / p.fa) ** 2 + (c.Y / (p.fb * 1.2)) ** 2
    shade = 1.04 - 0.12 * np.clip(r2, 0.0, 1.0)
    # The scalp (skin) shows where the hairline recedes; hair or a hat covers the rest.
    scalp = np.maximum(_ell_d(c.X, c.Y, 0.0, -0.02, p.fa + 0.01, p.fb + 0.04), c.Y + 0.2)
    c.over(_aa(np.minimum(_face_d(c), scalp), c.px), p.skin[:, None, None, :] * shade[..., None])


def _double_chin(c: _Ctx) -> None:
    p = c.p
    bottom = p.fb * (0.95 + 0.05 * (1 - p.jaw))
    fold = _ell_d(c.X, c.Y, 0.0, bottom + 0.02, 0.13 + 0.05 * p.a_Chubby, 0.05)
    c.over(0.6 * _aa(_ell_d(c.X, c.Y, 0.0, bottom + 0.04, 0.15, 0.06), 0.03), p.skin * 0.55)
    c.over(_aa(fold, c.px), p.skin[:, None, None, :] * 0.93)
    crease = np.abs(_ell_d(c.X, c.Y, 0.0, bottom - 0.03, 0.15, 0.07)) - 0.01
    crease = np.maximum(crease, bottom - c.Y)
    c.over(0.85 * _aa(crease, c.px), p.skin * 0.6)


def _cheek_blob(c: _Ctx, cy: float, rx: float, ry: float, dx: float = 0.19) -> np.ndarray:
    d = np.minimum(_ell_d(c.X, c.Y, -dx, cy, rx, ry), _ell_d(c.X, c.Y, dx, cy, rx, ry))
    return _aa(d, 0.06)  # very soft edge


def _cheekbones(c: _Ctx) -> None:
    p = c.p
    c.over(0.45 * _cheek_blob(c, 0.06, 0.07, 0.035, 0.2), np.minimum(p.skin * 1.25 + 0.08, 1.0))
    c.over(0.35 * _cheek_blob(c, 0.15, 0.06, 0.025, 0.23), p.skin * 0.7)


def _blush(c: _Ctx) -> None:
    c.over(0.35 * _cheek_blob(c, 0.1, 0.06, 0.04), (0.9, 0.45, 0.5))


def _rosy(c: _Ctx) -> None:
    c.over(0.5 * _cheek_blob(c, 0.08, 0.07, 0.05, 0.18), (0.88, 0.2, 0.22))


def _wrinkles(c: _Ctx) -> None:
    p = c.p
    col = p.skin * 0.62
    d = np.full_like(c.X, 1.0)
    for y0 in (-0.27, -0.31):  # forehead lines
        line = np.abs(c.Y - y0 - 0.02 * _wave(c.X * 4.0)) - 0.004
        d = np.minimum(d, np.maximum(line, np.abs(c.X) - 0.15))
    for s in (-1.0, 1.0):  # nasolabial folds and crow's feet
        d = np.minimum(d, _seg_d(c.X, c.Y, s * 0.07, 0.14, s * 0.12, 0.27) - 0.004)
        d = np.minimum(d, _seg_d(c.X, c.Y, s * 0.23, -0.05, s * 0.27, -0.07) - 0.004)
        d = np.minimum(d, _seg_d(c.X, c.Y, s * 0.23, -0.02, s * 0.27, -0.0) - 0.004)
    c.over(0.8 * _aa(d, c.px), col)


def _bags(c: _Ctx) -> None:
    p = c.p
    d = np.full_like(c.X, 1.0)
    for s in (-1.0, 1.0):
        ex = s * _EYE_X
        arc = c.Y - (_EYE_Y + 0.055 - 5.0 * (c.X - ex) ** 2)
        d = np.minimum(d, np.maximum(np.abs(arc) - 0.008, np.abs(c.X - ex) - 0.065))
        puff = _ell_d(c.X, c.Y, ex, _EYE_Y + 0.04, 0.06, 0.022)
        c.over(0.35 * _aa(puff, 0.04), p.skin * 0.72 + np.float32([0.05, 0.0, 0.06]))
    c.over(0.75 * _aa(d, c.px), p.skin * 0.6)


def _stubble(c: _Ctx) -> None:
    p = c.p
    region = _aa(_face_d(c), c.px) * _smooth(c.Y, 0.06, 0.14)
    dots = np.clip((c.tex - 0.3) * 2.0, 0.0, 1.0)
    c.over(0.55 * region * dots, p.hair * 0.5 + 0.05)


def _beard(c: _Ctx) -> None:
    p = c.p
    region = _aa(np.maximum(_face_d(c) - 0.02, 0.1 - c.Y), c.px)
    mouth = _ell_d(c.X, c.Y, 0.0, _MOUTH_Y, p.mouth_w * 1.1, 0.035)
    region = region * (1.0 - 0.9 * _aa(mouth, 0.03))  # keep the mouth clear
    c.over(0.92 * region, _hair_shade(c) * 0.8)


def _goatee(c: _Ctx) -> None:
    p = c.p
    d = _ell_d(c.X, c.Y, 0.0, _MOUTH_Y + 0.12, 0.075, 0.07)
    d = np.minimum(d, _box_d(c.X, c.Y, 0.0, _MOUTH_Y + 0.06, 0.022, 0.04))
    d = np.maximum(d, -_ell_d(c.X, c.Y, 0.0, _MOUTH_Y + 0.005, p.mouth_w * 0.95, 0.035))
    c.over(0.92 * _aa(d, c.px), _hair_shade(c) * 0.8)


def _mustache(c: _Ctx) -> None:
    p = c.p
    arc = c.Y - (_MOUTH_Y - 0.035 + 2.2 * c.X * c.X)
    d = np.maximum(np.abs(arc) - 0.017, np.abs(c.X) - p.mouth_w * 1.15)
    c.over(0.92 * _aa(d, c.px), _hair_shade(c) * 0.8)


def _sideburns(c: _Ctx) -> None:
    p = c.p
    face = _face_d(c)
    band = np.maximum(-face - 0.045, face)  # a strip just inside the face outline
    d = np.maximum(band, np.maximum(-0.12 - c.Y, c.Y - 0.12))
    c.over(0.92 * _aa(d, c.px), _hair_shade(c) * 0.85)


def _eye_shadow(c: _Ctx) -> None:
    p = c.p
    d = np.minimum(_ell_d(c.X, c.Y, -_EYE_X, _EYE_Y - 0.025, 0.08, 0.045),
                   _ell_d(c.X, c.Y, _EYE_X, _EYE_Y - 0.025, 0.08, 0.045))
    c.over(0.65 * _aa(d, 0.03), p.shadow_col)


def _eyes(c: _Ctx) -> None:
    p = c.p
    for s in (-1.0, 1.0):
        ex = s * _EYE_X
        white = _aa(_ell_d(c.X, c.Y, ex, _EYE_Y, 0.062, p.eye_open), c.px)
        c.over(white, (0.93, 0.92, 0.9))
        iris = _aa(_ell_d(c.X, c.Y, ex + p.gaze, _EYE_Y, 0.027, 0.027), c.px) * white
        c.over(iris, p.iris_col)
        pupil = _aa(_ell_d(c.X, c.Y, ex + p.gaze, _EYE_Y, 0.012, 0.012), c.px) * white
        c.over(pupil, (0.03, 0.03, 0.03))
        lid = c.Y - (_EYE_Y - p.eye_open * (1.0 - ((c.X - ex) / 0.066) ** 2))
        d = np.maximum(np.abs(lid) - 0.006 - 0.006 * p.a_Heavy_Makeup, np.abs(c.X - ex) - 0.068)
        c.over(_aa(d, c.px), p.skin * 0.35 * (1 - p.a_Heavy_Makeup[:, 0])
               + 0.05 * p.a_Heavy_Makeup[:, 0])


def _brows(c: _Ctx) -> None:
    p = c.p
    d = np.full_like(c.X, 1.0)
    for s in (-1.0, 1.0):
        bx = s * (_EYE_X + 0.005)
        t = (c.X - bx) / 0.075
        peak = t * s - 0.25  # peak slightly outward of centre
        curve = _BROW_Y - p.arch * (1.0 - peak * peak) + 0.01 * t * t
        thick = p.brow_t * (1.0 - 0.5 * np.clip(t * s, 0.0, 1.0))
        d = np.minimum(d, np.maximum(np.abs(c.Y - curve) - thick, np.abs(t) - 1.0))
    c.over(_aa(d, c.px), p.brow_col)


def _nose(c: _Ctx) -> None:
    p = c.p
    ns = p.nose_s
    point = p.a_Pointy_Nose
    # Shadowed tip, nostrils and a side line along the bridge.
    tip = _ell_d(c.X, c.Y, 0.0, _NOSE_Y - 0.01, 0.04 * ns * (1 - 0.35 * point),
                 0.03 * ns * (1 + 0.5 * point))
    c.over(0.35 * _aa(tip, 0.03), p.skin * 0.72)
    nos = np.minimum(_ell_d(c.X, c.Y, -0.028 * ns, _NOSE_Y + 0.01, 0.014 * ns, 0.009 * ns),
                     _ell_d(c.X, c.Y, 0.028 * ns, _NOSE_Y + 0.01, 0.014 * ns, 0.009 * ns))
    c.over(0.85 * _aa(nos, c.px), p.skin * 0.4)
    side = _seg_d(c.X, c.Y, -0.025, _EYE_Y + 0.03, -0.045 * ns, _NOSE_Y - 0.005) - 0.005 * ns
    c.over(0.5 * _aa(side, c.px), p.skin * 0.65)


def _pointy(c: _Ctx) -> None:
    p = c.p
    ns = p.nose_s
    v = np.minimum(_seg_d(c.X, c.Y, -0.035 * ns, _NOSE_Y - 0.04, 0.0, _NOSE_Y + 0.025 * ns),
                   _seg_d(c.X, c.Y, 0.035 * ns, _NOSE_Y - 0.04, 0.0, _NOSE_Y + 0.025 * ns))
    c.over(0.8 * _aa(v - 0.006, c.px), p.skin * 0.5)
    hi = _seg_d(c.X, c.Y, 0.0, _EYE_Y + 0.03, 0.0, _NOSE_Y - 0.02) - 0.008
    c.over(0.6 * _aa(hi, c.px), np.minimum(p.skin * 1.2 + 0.05, 1.0))


def _mouth(c: _Ctx) -> None:
    p = c.p
    mw = p.mouth_w
    t = c.X / mw
    inside = np.clip(1.0 - t * t, 0.0, 1.0)
    line = _MOUTH_Y - 0.035 * p.a_Smiling * inside + 0.004   # smiling: corners up
    gap = 0.018 * p.a_Smiling + 0.024 * p.a_Mouth_Slightly_Open
    lip_col = (p.a_Wearing_Lipstick[:, 0] * p.lip_col
               + (1 - p.a_Wearing_Lipstick[:, 0]) * (p.skin * np.float32([0.78, 0.58, 0.58])))
    # Opening: teeth on top when smiling, dark below.
    hole = np.maximum(np.maximum(line - c.Y, c.Y - line - gap * inside), np.abs(t) - 0.95)
    c.over(_aa(hole, c.px), (0.2, 0.05, 0.06))
    teeth = np.maximum(hole, c.Y - line - 0.016 * inside)
    c.over(p.a_Smiling * _aa(teeth, c.px), (0.95, 0.94, 0.9))
    ut = 0.013 * p.lip_s * np.sqrt(inside)
    lt = 0.019 * p.lip_s * np.sqrt(inside)
    up = np.abs(c.Y - (line - ut / 2)) - ut / 2
    lo = np.abs(c.Y - (line + gap * inside + lt / 2)) - lt / 2
    lips = np.maximum(np.minimum(up, lo), np.abs(t) - 1.0)
    c.over(_aa(lips, c.px), lip_col)
    c.over(_aa(np.abs(c.Y - line) - 0.003, c.px) * (1 - np.sign(gap)) * inside,
           lip_col * 0.55)


def _hair_top(c: _Ctx) -> None:
    p = c.p
    fa, fb = p.fa, p.fb
    cap = _ell_d(c.X, c.Y, 0.0, -0.04, fa + p.hair_vol + _wavy_edge(c), fb + 0.05 + p.hair_vol)
    # Hairline: forehead top, lower with bangs, receding at the temples (M shape).
    tx = np.clip(np.abs(c.X) / fa, 0.0, 1.0)
    hl = -0.28 - 0.03 * p.a_Receding_Hairline - 0.1 * p.a_Receding_Hairline * _smooth(tx, 0.15, 0.7)
    hl = p.a_Bangs * (-0.17 - 0.015 * _wave(c.X * 12.0 + p.wave_ph)) + (1 - p.a_Bangs) * hl
    below = c.Y - hl                      # > 0 below the hairline
    side = fa * 0.9 - np.abs(c.X)         # < 0 beside the face
    d = np.maximum(cap, np.minimum(below, np.maximum(side, c.Y - 0.02)))
    c.over(_aa(d, c.px), _hair_shade(c))


def _bald(c: _Ctx) -> None:
    p = c.p
    scalp = _ell_d(c.X, c.Y, 0.0, -0.02, p.fa + 0.01, p.fb + 0.04)
    c.over(_aa(np.maximum(scalp, c.Y + 0.2), c.px), p.skin[:, None, None, :] * 1.0)
    shine = _ell_d(c.X, c.Y, -0.08, -0.38, 0.08, 0.04)
    c.over(0.45 * _aa(shine, 0.05), np.minimum(p.skin * 1.3 + 0.1, 1.0))
    fringe = np.maximum(np.abs(np.abs(c.X) - p.fa - 0.005) - 0.03, np.abs(c.Y + 0.07) - 0.09)
    c.over(0.9 * _aa(fringe, c.px), _hair_shade(c))


def _hat(c: _Ctx) -> None:
    p = c.p
    crown = np.maximum(_ell_d(c.X, c.Y, 0.0, -0.32, p.fa + 0.06, 0.36), c.Y + 0.28)
    brim = _ell_d(c.X, c.Y, 0.0, -0.28, p.fa + 0.2, 0.045)
    col = p.hat_col[:, None, None, :] * (0.85 + 0.15 * _smooth(c.X, 0.3, -0.3))[..., None]
    c.over(_aa(np.minimum(crown, brim), c.px), col)
    band = np.maximum(crown, np.abs(c.Y + 0.33) - 0.025)
    c.over(_aa(band, c.px), p.hat_col * 0.45)


def _glasses(c: _Ctx) -> None:
    p = c.p
    frame = (0.05, 0.05, 0.06)
    d = np.full_like(c.X, 1.0)
    lens = np.full_like(c.X, 1.0)
    for s in (-1.0, 1.0):
        e = _box_d(c.X, c.Y, s * _EYE_X, _EYE_Y + 0.005, 0.085, 0.055, 0.035)
        lens = np.minimum(lens, e)
        d = np.minimum(d, np.abs(e) - 0.009)
        d = np.minimum(d, np.maximum(np.abs(c.Y - _EYE_Y + 0.02) - 0.008,
                                     np.abs(np.abs(c.X) - p.fa + 0.01) - 0.045))
    d = np.minimum(d, _seg_d(c.X, c.Y, -0.055, _EYE_Y - 0.015, 0.055, _EYE_Y - 0.015) - 0.008)
    c.over(0.18 * _aa(lens, c.px), (0.55, 0.65, 0.75))
    c.over(_aa(d, c.px), frame)


# Layers in drawing order: (gate attribute or None, face-local box x0, y0, x1, y1, function).
_LAYERS: list[tuple[str | None, tuple[float, float, float, float], Callable[[_Ctx], None]]] = [
    (None, (-1.0, 0.55, 1.0, 1.9), _torso),
    ("_long_hair", (-0.65, -0.65, 0.65, 0.9), _hair_back),
    (None, (-0.3, 0.1, 0.3, 0.85), _neck),
    ("Wearing_Necklace", (-0.3, 0.45, 0.3, 0.85), _necklace),
    ("Wearing_Necktie", (-0.2, 0.64, 0.2, 1.3), _necktie),
    (None, (-0.5, -0.12, 0.5, 0.12), _ears),
    ("Wearing_Earrings", (-0.45, 0.06, 0.45, 0.18), _earrings),
    (None, (-0.48, -0.62, 0.48, 0.56), _face),
    ("Double_Chin", (-0.3, 0.3, 0.3, 0.6), _double_chin),
    ("High_Cheekbones", (-0.36, -0.04, 0.36, 0.24), _cheekbones),
    ("Heavy_Makeup", (-0.34, 0.0, 0.34, 0.2), _blush),
    ("Rosy_Cheeks", (-0.34, -0.02, 0.34, 0.2), _rosy),
    ("_old", (-0.34, -0.36, 0.34, 0.32), _wrinkles),
    ("Bags_Under_Eyes", (-0.27, -0.02, 0.27, 0.08), _bags),
    ("5_o_Clock_Shadow", (-0.48, 0.02, 0.48, 0.56), _stubble),
    ("_beard", (-0.48, 0.05, 0.48, 0.56), _beard),
    ("Goatee", (-0.16, 0.18, 0.16, 0.46), _goatee),
    ("Sideburns", (-0.48, -0.16, 0.48, 0.16), _sideburns),
    ("Heavy_Makeup", (-0.27, -0.13, 0.27, 0.04), _eye_shadow),
    (None, (-0.23, -0.1, 0.23, 0.02), _eyes),
    (None, (-0.25, -0.22, 0.25, -0.07), _brows),
    (None, (-0.12, -0.04, 0.12, 0.2), _nose),
    ("Pointy_Nose", (-0.1, -0.04, 0.1, 0.2), _pointy),
    ("Mustache", (-0.16, 0.16, 0.16, 0.28), _mustache),
    (None, (-0.14, 0.17, 0.14, 0.33), _mouth),
    ("_hair", (-0.55, -0.62, 0.55, 0.05), _hair_top),
    ("Bald", (-0.45, -0.55, 0.45, 0.05), _bald),
    ("Wearing_Hat", (-0.72, -0.8, 0.72, -0.18), _hat),
    ("Eyeglasses", (-0.45, -0.12, 0.45, 0.08), _glasses),
]


def _gate(name: str | None, attrs: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray | None:
    if name is None:
        return None
    if name == "_long_hair":
        return d["long_hair"] > 0
    if name == "_old":
        return ~attrs[:, _A["Young"]]
    if name == "_beard":
        return ~attrs[:, _A["No_Beard"]]
    if name == "_hair":
        return ~attrs[:, _A["Bald"]]
    return attrs[:, _A[name]]


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of (m, H, W, 3) with edge padding (shifted weighted sums)."""
    r = max(1, int(math.ceil(3 * sigma)))
    w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    w = (w / w.sum()).astype(np.float32)
    h, wd = img.shape[1:3]
    pad = np.pad(img, ((0, 0), (r, r), (0, 0), (0, 0)), mode="edge")
    out = sum(w[j] * pad[:, j:j + h] for j in range(2 * r + 1))
    pad = np.pad(out, ((0, 0), (0, 0), (r, r), (0, 0)), mode="edge")
    return sum(w[j] * pad[:, :, j:j + wd] for j in range(2 * r + 1))


def _check_inputs(attrs, skin_tone) -> tuple[np.ndarray, np.ndarray]:
    attrs = np.asarray(attrs)
    if attrs.ndim != 2 or attrs.shape[1] != len(CELEBA_ATTRIBUTES):
        raise DataError(f"attrs must have shape (n, {len(CELEBA_ATTRIBUTES)}) in CelebA order, "
                        f"got {attrs.shape}", field="attrs")
    if attrs.dtype != bool:
        if not np.isin(attrs, (0, 1)).all():
            raise DataError("attrs must be boolean (or 0/1)", field="attrs")
        attrs = attrs.astype(bool)
    tone = np.asarray(skin_tone, dtype=np.float64)
    if tone.shape != (attrs.shape[0],):
        raise DataError(f"skin_tone must have shape ({attrs.shape[0]},), got {tone.shape}",
                        field="skin_tone")
    if not np.isfinite(tone).all() or (tone < 0).any() or (tone > 1).any():
        raise DataError("skin_tone must lie in [0, 1]", field="skin_tone")
    return attrs, tone


#: Layers a featureless head (a hard negative for detection, ``features=False``) omits.
_FEATURE_LAYERS = frozenset({_bags, _goatee, _mustache, _eye_shadow, _eyes, _brows, _nose,
                             _pointy, _mouth, _glasses})


def render_faces(attrs: np.ndarray, skin_tone: np.ndarray, *, seed: int = 0,
                 size: int | tuple[int, int] = 64, start_index: int = 0,
                 features: bool = True) -> np.ndarray:
    """Draw one face per attribute vector.

    Parameters
    ----------
    attrs : bool array (n, 40)
        Attributes in CelebA order (:data:`biaslens.names.CELEBA_ATTRIBUTES`).
    skin_tone : float array (n,)
        Continuous skin tone in [0, 1], 0 lightest, 1 darkest.
    seed : int
        Seed of the nuisance variation (pose, face shape, colours, lighting, noise).
    size : int or (H, W)
        ``64`` means 64x64; ``(218, 178)`` is CelebA's aligned frame. The face has the
        same size in every frame (the short side spans the same face units).
    start_index : int
        Index of the first sample: sample ``i`` uses ``rng([seed, start_index + i])``,
        so rendering in chunks gives the same pixels as one call.
    features : bool
        False draws a featureless head (skin, hair, ears, neck, clothes; no eyes, brows,
        nose, mouth, facial hair or glasses): a face-like non-face for detection data.

    Returns
    -------
    uint8 array (n, H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> render_faces(np.zeros((2, 40), bool), np.array([0.2, 0.8]), size=32).shape
    (2, 32, 32, 3)
    """
    attrs, tone = _check_inputs(attrs, skin_tone)
    h, w = parse_size(size)
    n = attrs.shape[0]
    if n == 0:
        return np.zeros((0, h, w, 3), dtype=np.uint8)
    u, z, tex, noise = _nuisance(n, int(seed), int(start_index), h, w)
    d, pose = _params(attrs, tone, u, z)
    cv = _Canvas(h, w, _to_p(d), pose.astype(np.float32), tex)
    _draw_background(cv)
    for gate, box, fn in _LAYERS:
        if not features and fn in _FEATURE_LAYERS:
            continue
        cv.draw(_gate(gate, attrs, d), box, fn)
    img = cv.img
    # Lighting gradient across the frame, then blur, then sensor noise.
    p = cv.p
    light = 1.0 + p.light * (p.light_dir[:, 0, None, None] * cv.gx
                             + p.light_dir[:, 1, None, None] * cv.gy)
    img *= light[..., None]
    blurry = np.flatnonzero(attrs[:, _A["Blurry"]])
    if blurry.size:
        img[blurry] = _blur(img[blurry], sigma=0.03 * min(h, w))
    img += noise * p.sigma[..., None]
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
