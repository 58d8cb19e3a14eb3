"""Contact sheets (world/preview.py): layout and captions."""

from __future__ import annotations

import pytest

from biaslens.errors import DataError
from biaslens.world.preview import contact_sheet, short_caption
from biaslens.world.render import render_faces

from .conftest import IDX, plain_faces, random_attrs


def test_contact_sheet_layout():
    attrs, tone = random_attrs(5, 4)
    imgs = render_faces(attrs, tone, size=32)
    caps = [short_caption(a, t) for a, t in zip(attrs, tone)]
    sheet = contact_sheet(imgs, caps, ncols=3)
    assert sheet.size[0] > 3 * 32 and sheet.size[1] > 2 * 32
    with pytest.raises(DataError):
        contact_sheet(imgs, caps[:2], ncols=3)


def test_short_caption():
    row = plain_faces(1)[0]
    row[IDX["Male"]] = True
    row[IDX["No_Beard"]] = False
    row[IDX["Eyeglasses"]] = True
    cap = short_caption(row, 0.25)
    assert cap.split()[:2] == ["M", "t=0.25"] and "beard" in cap and "glasses" in cap
