"""render/csv.py: one row per place seen; no cell can be a spreadsheet formula."""

from __future__ import annotations

import csv
import io

from scanner.render import render_store
from tests.render.literals import incident, occurrence


def test_rows_and_formula_cells() -> None:
    seen = occurrence("=HYPERLINK(1).env", commit="a" * 40, repo="/r")
    rows = list(csv.reader(io.StringIO(render_store([incident(occurrence(), seen)], "csv"))))
    assert rows[0][:5] == ["bundle", "verification", "rule_id", "severity", "path"]
    assert rows[1] == [
        "0123456789abcdef",
        "skipped",
        "google-ads-developer-token",
        "high",
        "conf/app.env",
        "3",
        "28",
        "Zk3m…_g",
        "ab" * 32,
        "open",
        "",
        "",
        "",
        "",
    ]
    assert rows[2][4] == "'=HYPERLINK(1).env"
    assert rows[2][10:] == ["/r", "a" * 40, "Ann", "2023-11-14T22:13:20+00:00"]
