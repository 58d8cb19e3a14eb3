"""Contact sheets: a grid of faces, each with a short caption of its key attributes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES

__all__ = ["contact_sheet", "short_caption", "CAPTION_ABBREVIATIONS"]

#: Short names used in captions, in caption order (the attributes worth reading at a glance).
CAPTION_ABBREVIATIONS: dict[str, str] = {
    "Male": "M", "Young": "young", "Smiling": "smile", "Mouth_Slightly_Open": "open",
    "Black_Hair": "black", "Blond_Hair": "blond", "Brown_Hair": "brown", "Gray_Hair": "gray",
    "Bald": "bald", "Bangs": "bangs", "Receding_Hairline": "reced", "Wavy_Hair": "wavy",
    "Straight_Hair": "straight", "Eyeglasses": "glasses", "Wearing_Hat": "hat",
    "Wearing_Lipstick": "lipstick", "Heavy_Makeup": "makeup", "Mustache": "mustache",
    "Goatee": "goatee", "5_o_Clock_Shadow": "stubble", "Sideburns": "sideb",
    "Wearing_Earrings": "earr", "Wearing_Necklace": "neckl", "Wearing_Necktie": "tie",
    "Rosy_Cheeks": "rosy", "High_Cheekbones": "cheekb", "Pale_Skin": "pale",
    "Chubby": "chubby", "Double_Chin": "2chin", "Big_Nose": "bignose",
    "Pointy_Nose": "pointy", "Big_Lips": "biglips", "Narrow_Eyes": "narrow",
    "Bushy_Eyebrows": "bushy", "Arched_Eyebrows": "arched", "Bags_Under_Eyes": "bags",
    "Oval_Face": "oval", "Blurry": "blurry",
}


def short_caption(attrs_row: np.ndarray, skin_tone: float | None = None,
                  names: Sequence[str] = CELEBA_ATTRIBUTES) -> str:
    """Caption listing the attributes a face has (abbreviated); ``F`` when not Male,
    ``beard`` when No_Beard is false, ``t=0.42`` for the skin tone when given."""
    on = {n for n, v in zip(names, np.asarray(attrs_row, dtype=bool)) if v}
    words = ["M" if "Male" in on else "F"]
    if "No_Beard" in names and "No_Beard" not in on:
        words.append("beard")
    words += [ab for n, ab in CAPTION_ABBREVIATIONS.items() if n in on and n != "Male"]
    if skin_tone is not None:
        words.insert(1, f"t={float(skin_tone):.2f}")
    return " ".join(words)


def _wrap(text: str, font, width: int, draw: ImageDraw.ImageDraw, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels, at most ``max_lines`` lines (last one cut with …)."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 2)] + ".."
    return lines


def contact_sheet(images: np.ndarray, labels_text: Sequence[str], ncols: int = 8, *,
                  caption_lines: int = 3, pad: int = 4,
                  background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Grid of uint8 images ``(n, H, W, 3)`` with a wrapped caption under each.

    Captions use PIL's built-in bitmap font so the sheet looks the same everywhere.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise DataError(f"images must be uint8 (n, H, W, 3), got {images.dtype} {images.shape}",
                        field="images")
    n, h, w, _ = images.shape
    if len(labels_text) != n:
        raise DataError(f"got {len(labels_text)} captions for {n} images", field="labels_text")
    if ncols < 1:
        raise DataError(f"ncols must be >= 1, got {ncols}", field="ncols")
    font = ImageFont.load_default()
    line_h = 11
    cap_h = caption_lines * line_h + 2
    ncols = min(ncols, max(n, 1))
    nrows = -(-n // ncols) if n else 0
    cell_w, cell_h = w + pad, h + cap_h + pad
    sheet = Image.new("RGB", (ncols * cell_w + pad, max(nrows, 1) * cell_h + pad), background)
    draw = ImageDraw.Draw(sheet)
    for i in range(n):
        r, c = divmod(i, ncols)
        x, y = pad + c * cell_w, pad + r * cell_h
        sheet.paste(Image.fromarray(images[i]), (x, y))
        for j, line in enumerate(_wrap(labels_text[i], font, w, draw, caption_lines)):
            draw.text((x, y + h + 1 + j * line_h), line, fill=(20, 20, 20), font=font)
    return sheet
