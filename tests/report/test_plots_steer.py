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
    from biaslens.app.common import association_word
    from biaslens.report.tables import fmt_ci

    r = small_report.data.steer[0]
    for a, x in zip(app_rows(r, 3), steer_rows(r, 3), strict=True):
        assert a["attribute"] == x["attribute"] and a["significant"] == x["significant"]
        assert a["covariance"] == round(x["covariance"], 3)
        assert a["95% CI"] == fmt_ci(x["ci_low"], x["ci_high"], 3)
        assert a["correlation"] == (round(x["correlation"], 3)
                                    if np.isfinite(x["correlation"]) else None)
        assert a["beyond data"] == association_word(x["path_slope"], x["data_slope"],
                                                    x["beyond_data"])
