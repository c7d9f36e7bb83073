"""render/markdown.py on a literal incident: the table, the section, its runbooks."""

from __future__ import annotations

from scanner.render import render_store
from tests.render.literals import incident, occurrence


def test_one_incident_in_a_table_row_and_a_section() -> None:
    lines = render_store([incident()], "md").split("\n")
    assert lines[:12] == [
        "# Leaked Google Ads credentials",
        "",
        "1 incident(s). Secrets are redacted.",
        "",
        "| Outcome | Severity | Where | Members | Exposed since |",
        "|---|---|---|---|---|",
        "| live | high | `conf/app.env:3` | developer\\_token | 2026-01-02 |",
        "",
        "## LIVE: `conf/app.env:3`",
        "",
        "the token opens 1 customer",
        "",
    ]
    assert lines[12] == "- developer\\_token `Zk3m…_g` (abababababababab): skipped"
    titles = [line for line in lines if line.startswith("**")]
    assert titles == ["**Reset the Google Ads developer token**"]


def test_a_finding_seen_in_history_adds_the_history_runbook() -> None:
    text = render_store([incident(occurrence(commit="a" * 40))], "md")
    titles = [line for line in text.split("\n") if line.startswith("**")]
    assert len(titles) == 2 and titles[0] == "**Reset the Google Ads developer token**"
