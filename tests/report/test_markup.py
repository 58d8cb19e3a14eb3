"""HTML building blocks of the report (report/markup.py)."""

from __future__ import annotations

import base64

from biaslens.report.markup import esc, flat, img, table


def test_esc_escapes_text_and_attribute_quotes():
    assert esc('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#x27;"
    assert esc(0.5) == "0.5"


def test_table_escapes_cells_and_sets_row_classes():
    html = table(["name", "<v>"], [["a&b", 1], ["c", 2.5]], classes=["sig", ""],
                 caption="T <1>")
    assert html == ("<table><caption>T &lt;1&gt;</caption><thead><tr><th>name</th>"
                    "<th>&lt;v&gt;</th></tr></thead><tbody><tr class=\"sig\"><td>a&amp;b</td>"
                    "<td>1</td></tr><tr><td>c</td><td>2.5</td></tr></tbody></table>")
    assert "<caption>" not in table(["x"], [])


def test_img_embeds_the_png_or_nothing():
    tag = img({"fig": b"\x89PNG"}, "fig", 'a "plot"')
    b64 = base64.b64encode(b"\x89PNG").decode("ascii")
    assert tag == f'<img src="data:image/png;base64,{b64}" alt="a &quot;plot&quot;">'
    assert img({}, "fig", "x") == ""


def test_flat_paths_numbers_and_short_lists():
    rows = flat({"a": {"b": 0.12345, "c": [1, 2.0, None]}, "d": "x", "e": None, "f": True,
                 "g": list(range(9)), "h": {"nested": [{"skip": 1}]}})
    assert rows == [("a.b", "0.123"), ("a.c", "1, 2.000, None"), ("d", "x"), ("e", None),
                    ("f", True)]
    assert len(flat({f"k{i}": i for i in range(80)})) == 60
    assert flat({"k": float("nan")}) == [("k", "—")]
