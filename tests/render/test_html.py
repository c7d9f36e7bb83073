"""render/html.py on literal incidents: the repository column, the per-repository and
per-project summaries, the "new" badge; hostile names stay text."""

from __future__ import annotations

import re

from scanner.render import render_scan, render_store
from scanner.render.html import project_summary, repository_summary
from scanner.render.incidents import Incident
from tests.render.literals import incident, occurrence, scan_result

ONE = occurrence(commit="a" * 40, repo="/m/one.git", remote="git@github.com:acme/one.git")
TWO = occurrence(commit="b" * 40, repo="/m/two")


def org() -> list[Incident]:
    """One credential (fp 1) in two repositories, a second open one, a resolved one."""
    return [
        incident(ONE, fingerprint="1" * 64, project="p-1", new=True, incident_id="a" * 16),
        incident(TWO, fingerprint="2" * 64, project="p-2", incident_id="b" * 16),
        incident(TWO, fingerprint="3" * 64, status="resolved", incident_id="c" * 16),
        incident(TWO, fingerprint="1" * 64, project="p-1", incident_id="d" * 16),
    ]


def table(page: str, name: str) -> list[list[str]]:
    found = re.search(rf'<table id="{name}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, name
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


def test_the_summaries_count_incidents_and_open_findings() -> None:
    assert repository_summary(org()) == [
        {"repository": "/m/two", "incidents": 3, "open_findings": 2},
        {"repository": "acme/one", "incidents": 1, "open_findings": 1},
    ]
    assert project_summary(org()) == [
        {"project": "p-1", "incidents": 2, "repositories": 2, "open_findings": 1},
        {"project": "p-2", "incidents": 1, "repositories": 1, "open_findings": 1},
    ]


def test_an_org_report_shows_both_summaries_and_the_new_badge() -> None:
    page = render_store(org(), "html", "org.sqlite")
    assert table(page, "repositories") == [["/m/two", "3", "2"], ["acme/one", "1", "1"]]
    assert table(page, "projects") == [["p-1", "2", "2", "1"], ["p-2", "1", "1", "1"]]
    rows = re.findall(r'<tr class="incident-row".*?</tr>', page, re.S)
    assert [re.findall(r'data-repository="([^"]*)"', r)[0] for r in rows] == [
        "acme/one",
        "/m/two",
        "/m/two",
        "/m/two",
    ]
    assert ['<span class="badge s-new">new</span>' in r for r in rows] == [
        True,
        False,
        False,
        False,
    ]
    assert page.count('<span class="badge s-new">new</span>') == 2  # its row and its section
    assert page.count("Google Cloud project: ") == 3
    assert "store org.sqlite" in page


def test_one_repository_has_no_summary_and_no_project_table() -> None:
    page = render_store([incident(ONE)], "html")
    assert repository_summary([incident(ONE)]) == []
    assert 'id="repositories"' not in page and 'id="projects"' not in page
    assert "s-new" not in page.split("</style>")[1]
    assert '<td class="mono">acme/one</td>' in page


def test_hostile_repository_and_project_names_stay_text() -> None:
    evil = occurrence(commit="e" * 40, repo="/m/<script>alert(1)</script>\u202e")
    shady = occurrence(commit="f" * 40, repo="/m/x", remote="https://github.com/<b>o</b>/x.git")
    incidents = [
        incident(evil, project="<img src=x onerror=alert(1)>\x1b[2J"),
        incident(shady, fingerprint="9" * 64, incident_id="e" * 16),
    ]
    page = render_store(incidents, "html")
    body = page.split("<body>")[1]
    assert "<script>alert" not in body and "<img" not in body and "<b>o" not in body
    assert [c for c in page if c in "\x1b\u202e"] == []
    assert table(page, "repositories") == [
        ["/m/&lt;script&gt;alert(1)&lt;/script&gt;\\u202e", "1", "1"],
        ["&lt;b&gt;o&lt;/b&gt;/x", "1", "1"],
    ]
    assert table(page, "projects") == [
        ["&lt;img src=x onerror=alert(1)&gt;\\x1b[2J", "1", "1", "1"]
    ]


def test_a_live_scan_is_a_report_without_a_store() -> None:
    page = render_scan(scan_result(), "html")
    assert re.search(r"generated [0-9T:+-]+ · live scan · 1 incident\(s\), 1 finding\(s\)", page)
    assert '<td class="mono">(files)</td>' in page
    assert "Zk3mQ9vTb2LxWc7RnP4s_g" not in page
