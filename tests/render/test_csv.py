"""render/csv.py: one row per place seen; no cell can be a spreadsheet formula."""

from __future__ import annotations

import csv
import io

from scanner.render import render_scan, render_store
from tests.render.literals import incident, occurrence, scan_result


def test_rows_and_formula_cells() -> None:
    seen = occurrence("=HYPERLINK(1).env", commit="a" * 40, repo="/r")
    rows = list(csv.reader(io.StringIO(render_store([incident(occurrence(), seen)], "csv"))))
    assert rows[0] == [
        "bundle",
        "verification",
        "rule_id",
        "severity",
        "path",
        "line",
        "column",
        "secret_redacted",
        "fingerprint",
        "status",
        "repo",
        "commit",
        "author",
        "date",
        "repository",
    ]
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
        "(files)",
    ]
    assert rows[2][4] == "'=HYPERLINK(1).env"
    assert rows[2][10:] == ["/r", "a" * 40, "Ann", "2023-11-14T22:13:20+00:00", "/r"]


def test_the_repository_column_names_the_remote_project() -> None:
    seen = occurrence(commit="a" * 40, repo="/m/ads.git", remote="git@github.com:acme/ads.git")
    (row,) = csv.DictReader(io.StringIO(render_store([incident(seen)], "csv")))
    assert (row["repo"], row["repository"]) == ("/m/ads.git", "acme/ads")


def test_a_repository_name_cannot_be_a_formula() -> None:
    hostile = occurrence(commit="a" * 40, repo="=cmd|' /C calc'!A0", remote="")
    remote = occurrence(commit="b" * 40, repo="/r", remote="https://gitlab.com/-x/y.git")
    text = render_store([incident(hostile), incident(remote)], "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["repository"] for r in rows] == ["'=cmd|' /C calc'!A0", "'-x/y"]


def test_a_live_scan_renders_the_same_columns() -> None:
    rows = list(csv.reader(io.StringIO(render_scan(scan_result(), "csv"))))
    assert len(rows) == 2 and rows[0][-1] == "repository"
    bundle, *cells = rows[1]
    assert len(bundle) == 16
    assert cells[:12] == [
        "skipped",
        "google-ads-developer-token",
        "high",
        "app.yaml",
        "1",
        "18",
        "Zk3m…_g",
        "356c4fb93fce170360332fdd97891f047a6acdb474b8fd346734cd453d21b13e",
        "open",
        "",
        "",
        "",
    ]
    assert cells[12:] == ["", "(files)"]
