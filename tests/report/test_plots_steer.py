"""One source of steering table rows: the rich table, the HTML report and the app agree."""

from __future__ import annotations

import numpy as np

from biaslens.app.common import steer_rows as app_rows
from biaslens.report import steer_rows, steer_table


def test_rows_follow_the_ranking_with_the_data_comparison(small_report):
    for r in small_report.data.steer:
        rows = steer_rows(r)
        assert [x["attribute"] for x in rows] == [x.name for x in r.ranked]
        assert [x["covariance"] for x in rows] == [x.covariance for x in r.ranked]
        assert all({"path_slope", "data_slope", "beyond_data"} <= set(x) for x in rows)
        assert repr(steer_rows(r, 2)) == repr(rows[:2])  # NaN-aware equality
        assert steer_table(r).row_count == len(rows)


def test_app_rows_are_the_report_rows_rounded(small_report):
    r = small_report.data.steer[0]
    for a, x in zip(app_rows(r, 3), steer_rows(r, 3), strict=True):
        assert a["attribute"] == x["attribute"] and a["significant"] == x["significant"]
        assert a["covariance"] == round(x["covariance"], 4)
        assert a["CI low"] == (round(x["ci_low"], 4) if np.isfinite(x["ci_low"]) else None)
        assert a["beyond data"] == x["beyond_data"]
        assert "correlation" not in a
