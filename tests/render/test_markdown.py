"""render/markdown.py on a literal incident: the table, the section, its runbooks."""

from __future__ import annotations

from scanner.render import render_scan, render_store
from tests.render.literals import incident, occurrence, scan_result


def test_one_incident_in_a_table_row_and_a_section() -> None:
    lines = render_store([incident()], "md").split("\n")
    assert lines[:12] == [
        "# Leaked Google Ads credentials",
        "",
        "1 incident(s). Secrets are redacted.",
        "",
        "| Outcome | Severity | Repository | Where | Members | Exposed since |",
        "|---|---|---|---|---|---|",
        "| live | high | `(files)` | `conf/app.env:3` | developer\\_token | 2026-01-02 |",
        "",
        "## LIVE: `conf/app.env:3`",
        "",
        "the token opens 1 customer",
        "",
    ]
    assert lines[12] == "- developer\\_token `Zk3m…_g` (abababababababab): skipped"
    titles = [line for line in lines if line.startswith("**")]
    assert titles == ["**Reset the Google Ads developer token**"]


def test_the_repository_cell_holds_each_repository_in_code() -> None:
    places = (
        occurrence(commit="a" * 40, repo="/m/one", remote="https://github.com/acme/one.git"),
        occurrence(commit="b" * 40, repo="/m/p|ipe`x"),
    )
    row = render_store([incident(*places)], "md").split("\n")[6]
    assert row == (
        "| live | high | ``/m/p\\|ipe`x``, `acme/one` | `conf/app.env:3` | developer\\_token "
        "| 2026-01-02 |"
    )


def test_a_finding_seen_in_history_adds_the_history_runbook() -> None:
    text = render_store([incident(occurrence(commit="a" * 40))], "md")
    titles = [line for line in text.split("\n") if line.startswith("**")]
    assert len(titles) == 2 and titles[0] == "**Reset the Google Ads developer token**"


def test_a_live_scan_renders_as_its_incidents() -> None:
    lines = render_scan(scan_result(), "md").split("\n")
    assert lines[2] == "1 incident(s). Secrets are redacted."
    assert lines[6][: -len("2026-01-02 |")] == (
        "| skipped | high | `(files)` | `app.yaml:1` | developer\\_token | "
    )
    assert lines[8:13] == [
        "## SKIPPED: `app.yaml:1`",
        "",
        "not verified \\(run a scan with \\-\\-verify\\)",
        "",
        "- developer\\_token `Zk3m…_g` (356c4fb93fce1703): skipped",
    ]
