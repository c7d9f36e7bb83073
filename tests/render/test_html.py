"""render/html.py on literal incidents: what to do now, the headline numbers, the access
groups, time exposed, the repository column and charts; hostile names stay text."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from markupsafe import escape

from scanner.render import charts, render_scan, render_store
from scanner.render.html import access_groups, headline, repository_summary, time_exposed
from scanner.render.incidents import Incident, IncidentMember
from scanner.render.runbooks import incident_runbooks
from tests.render.literals import incident, occurrence, scan_result

ONE = occurrence(commit="a" * 40, repo="/m/one.git", remote="git@github.com:acme/one.git")
TWO = occurrence(commit="b" * 40, repo="/m/two")
NOT_VERIFIED = {"status": "skipped", "reason": "not verified (run a scan with --verify)"}


def window(first: str, removed: str | None = None, refs: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "first_commit": "c" * 40,
        "first_date": first,
        "removed_commit": "d" * 40 if removed else None,
        "removed_date": removed,
        "still_present_in": list(refs),
        "added_in_commits": 1,
        "rewritten": False,
    }


def exposed(
    first: str,
    removed: str | None = None,
    refs: tuple[str, ...] = (),
    repo: str = "/m/one",
    remote: str = "",
) -> Any:
    return replace(
        occurrence(commit="e" * 40, repo=repo, remote=remote), exposure=window(first, removed, refs)
    )


def member(role: str, rule_id: str, severity: str, fingerprint: str) -> IncidentMember:
    base = incident().members[0]
    return replace(base, role=role, rule_id=rule_id, severity=severity, fingerprint=fingerprint)


def made(
    incident_id: str,
    status: str = "live",
    severity: str = "high",
    place: Any = None,
    triage: str = "open",
    **fields: Any,
) -> Incident:
    found = incident(place or ONE, incident_id=incident_id, status=triage)
    members = tuple(replace(m, severity=severity) for m in found.members)
    verification = NOT_VERIFIED if status == "skipped" else {"status": status, "reason": "test"}
    return replace(found, members=members, verification=verification, **fields)


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


def todo_links(page: str) -> list[str]:
    found = re.search(r'<section class="todo" id="todo">(.*?)</section>', page, re.S)
    assert found
    return re.findall(r'<a href="#incident-([0-9a-f]+)"', found.group(1))


def test_the_repository_summary_counts_incidents_live_and_open_findings() -> None:
    assert repository_summary(org()) == [
        {"repository": "/m/two", "incidents": 3, "live": 3, "open_findings": 2},
        {"repository": "acme/one", "incidents": 1, "live": 1, "open_findings": 1},
    ]
    page = render_store(org(), "html", "org.sqlite", "2026-11-30T02:00:00+00:00")
    assert table(page, "repositories") == [["/m/two", "3", "3", "2"], ["acme/one", "1", "1", "1"]]
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
    assert page.count('<span class="badge s-new">new</span>') == 2  # its row and its details
    assert "store org.sqlite" in page and "1 new since the previous scan (2026-11-30)" in page


def test_nothing_verified_says_not_verified_never_zero_live() -> None:
    found = [made("a" * 16, "skipped"), made("b" * 16, "skipped", place=TWO)]
    page = render_store(found, "html", "s.sqlite")
    assert '<div class="big unverified" id="live-count">not verified</div>' in page
    assert '<div class="big unverified" id="reach-count">not verified</div>' in page
    assert 'id="live-count">0<' not in page and 'id="reach-count">0<' not in page
    counts = re.findall(
        r'<li><span class="badge s-(\w+)">([\w ]+)</span> <strong>(\d+)</strong></li>', page
    )
    assert counts == [
        ("live", "live", "0"),
        ("invalid", "invalid", "0"),
        ("unverifiable", "unverifiable", "0"),
        ("unknown", "unknown", "0"),
        ("skipped", "not verified", "2"),
    ]


def test_the_headline_counts_each_outcome_reach_and_new() -> None:
    live = replace(
        made("a" * 16, "live", new=True),
        verification={"status": "live", "reason": "ok", "reach": ["1", "2"]},
    )
    other = replace(
        made("b" * 16, "live", place=TWO),
        verification={"status": "live", "reason": "ok", "reach": ["2", "3"]},
    )
    found = [live, other, made("c" * 16, "invalid"), made("d" * 16, "unknown")]
    numbers = headline(found, compared=True)
    assert (numbers["verified"], numbers["checked"], numbers["live"], numbers["reach"]) == (
        True,
        4,
        2,
        3,
    )
    assert [(o, n) for o, _, n in numbers["outcomes"]] == [
        ("live", 2),
        ("invalid", 1),
        ("unverifiable", 0),
        ("unknown", 1),
        ("skipped", 0),
    ]
    assert numbers["new"] == 1
    assert headline(found, compared=False)["new"] is None  # nothing to compare with
    page = render_store(found, "html", "s.sqlite")
    assert '<div class="big alarm" id="live-count">2</div>' in page
    assert '<div class="big" id="reach-count">3</div>' in page
    assert "live scan: no previous scan to compare" in render_store(found, "html")
    assert "first scan: no previous scan to compare" in page


def test_what_to_do_now_lists_live_first_then_critical_and_high_oldest_first() -> None:
    found = [
        made("1" * 16, "unknown", "critical", exposed("2024-05-01T00:00:00+00:00")),
        made("2" * 16, "live", "medium", exposed("2025-01-01T00:00:00+00:00")),
        made("3" * 16, "skipped", "high", exposed("2021-03-01T00:00:00+00:00")),
        made("4" * 16, "live", "critical", exposed("2023-01-01T00:00:00+00:00")),
        made("5" * 16, "invalid", "critical", exposed("2020-01-01T00:00:00+00:00")),  # dead
        made("6" * 16, "unknown", "medium", exposed("2019-01-01T00:00:00+00:00")),  # medium
        made("7" * 16, "live", "critical", exposed("2019-01-01T00:00:00+00:00"), "resolved"),
    ]
    page = render_store(found, "html", "s.sqlite")
    assert todo_links(page) == ["4" * 16, "2" * 16, "3" * 16, "1" * 16]
    for incident_id in todo_links(page):
        assert page.count(f'<details class="incident" id="incident-{incident_id}">') == 1
    line = re.search(r"<strong>(Reset[^<]*)</strong>", page)
    assert line and line.group(1) == "Reset the Google Ads developer token, then 1 more runbook"


def test_the_action_names_what_carries_access_before_the_developer_token() -> None:
    roles = ("client_id", "client_secret", "developer_token", "refresh_token")
    place = exposed("2024-01-01T00:00:00+00:00")
    members = tuple(
        replace(member(role, f"rule-{role}", "critical", str(n) * 64), occurrences=(place,))
        for n, role in enumerate(roles)
    )
    found = replace(made("a" * 16, "live", place=place), roles=roles, members=members)
    page = render_store([found], "html", "s.sqlite")
    books = incident_runbooks(found)
    assert [b.role for b in books] == [
        "developer_token",
        "client_secret",
        "refresh_token",
        "client_id",
        "history",
    ]
    assert (
        "<strong>Rotate the OAuth client secret, revoke the refresh token, then 3 more runbooks"
        "</strong>" in page
    )
    body = page.split('id="incident-' + "a" * 16)[1]
    for book in books:  # every member's runbook, its commands as the runbooks module fills them
        assert f"<strong>{book.title}</strong>" in body
        for command in book.commands:
            assert str(escape(command)) in body


def test_incidents_group_under_what_carries_their_access() -> None:
    client = member("client_id", "google-oauth-client-id", "low", "c" * 64)
    token = member("developer_token", "google-ads-developer-token", "high", "t" * 64)
    client = replace(client, secret_redacted="278534944592-6vb…om")
    oauth = replace(
        made("1" * 16, "unknown"),
        project="278534944592",
        members=(token, client),
        roles=("client_id", "developer_token"),
    )
    other = replace(made("2" * 16, "live", place=TWO), project="278534944592")
    account = replace(made("3" * 16, "invalid"), client_email="r@p.iam.gserviceaccount.com")
    alone = made("4" * 16, "unverifiable")
    client_only = replace(made("5" * 16, "unknown"), members=(client,), roles=("client_id",))
    found = [other, oauth, account, client_only, alone]
    groups = access_groups(
        found,
        [
            {
                "id": i.id,
                "verification": i.verification,
                "repository_names": list(i.repository_names),
            }
            for i in found
        ],
    )
    assert [(g["kind"], g["name"], [v["id"] for v in g["incidents"]]) for g in groups] == [
        ("project", "278534944592", ["2" * 16, "1" * 16]),
        ("oauth_client", "278534944592-6vb…om", ["5" * 16]),
        ("service_account", "r@p.iam.gserviceaccount.com", ["3" * 16]),
        ("none", "", ["4" * 16]),
    ]
    assert groups[0]["clients"] == ["278534944592-6vb…om"] and groups[0]["live"] == 1
    page = render_store(found, "html", "s.sqlite")
    assert "Google Cloud project number <span" in page
    section = page.split('<section class="group" id="access-1">')[1].split("</section>")[0]
    # the developer token stays in its incident, with the client it leaked with
    assert section.count('<details class="incident"') == 2 and "developer_token" in section


def test_time_exposed_buckets_the_window_from_first_commit_to_removal() -> None:
    day = "2024-01-01T00:00:00+00:00"
    cases = [
        (exposed(day, "2024-01-01T05:00:00+00:00"), ("< 1 day", "< 1 day")),
        (exposed(day, "2024-01-04T00:00:00+00:00"), ("< 1 week", "3 days")),
        (exposed(day, "2024-01-21T00:00:00+00:00"), ("< 1 month", "20 days")),
        (exposed(day, "2024-07-01T00:00:00+00:00"), ("< 1 year", "182 days")),
        (exposed(day, "2026-01-01T00:00:00+00:00"), ("> 1 year", "731 days")),
        (exposed(day, None, ("main",)), ("still present", "still present")),
        (occurrence(), ("still present", "still present")),  # in the scanned files now
        (occurrence(commit="f" * 40, repo="/m/x"), ("unknown", "unknown")),  # no window
    ]
    assert [time_exposed(made("a" * 16, place=place)) for place, _ in cases] == [
        want for _, want in cases
    ]


def test_still_present_in_says_the_default_branch_and_a_count() -> None:
    refs = ("main", *(f"release/{n}" for n in range(104)))
    page = render_store(
        [made("a" * 16, place=exposed("2024-01-01T00:00:00+00:00", None, refs))], "html"
    )
    assert "still in main and 104 other refs" in page
    assert "release/7" not in page


def test_charts_show_full_repository_names_and_every_month() -> None:
    long_a = "acme-platform-engineering/google-ads-reporting-service"
    long_b = "acme-platform-engineering/google-ads-reporting-service-mirror"
    found = [
        made(
            "a" * 16,
            place=exposed(
                "2024-01-15T00:00:00+00:00", repo="/a", remote=f"https://github.com/{long_a}"
            ),
        ),
        made(
            "b" * 16,
            place=exposed(
                "2024-04-02T00:00:00+00:00", repo="/b", remote=f"https://github.com/{long_b}"
            ),
        ),
    ]
    page = render_store(found, "html")
    assert f"<title>{long_a}: 1</title>" in page and f"<title>{long_b}: 1</title>" in page
    timeline = page.split('aria-label="Exposures over time"')[1].split("</svg>")[0]
    assert re.findall(r"<title>([A-Z][a-z]{2} 2024: \d+ [a-z ]+)</title>", timeline) == [
        "Jan 2024: 1 live",
        "Apr 2024: 1 live",
    ]
    ticks = re.findall(r'class="tick">([A-Z][a-z]{2})</text>', timeline)
    assert ticks == ["Jan", "Feb", "Mar", "Apr"]  # the empty months are on the axis


def test_chart_labels_wrap_instead_of_being_cut() -> None:
    name = "acme-platform-engineering/google-ads-reporting-service-mirror"
    assert charts.wrap(name) == [
        "acme-platform-engineering/",
        "google-ads-reporting-service-",
        "mirror",
    ]
    assert "".join(charts.wrap("x" * 80)) == "x" * 80
    svg = charts.bar_chart("t", [charts.Bar("<b>&\u202e", 2)])
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert charts.month_range(date(2023, 11, 5), date(2024, 2, 1)) == [
        (2023, 11),
        (2023, 12),
        (2024, 1),
        (2024, 2),
    ]
    assert [charts.tick_every(n) for n in (12, 24, 25, 48, 72, 73, 200)] == [1, 1, 2, 2, 3, 6, 12]


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
        ["/m/&lt;script&gt;alert(1)&lt;/script&gt;\\u202e", "1", "1", "1"],
        ["&lt;b&gt;o&lt;/b&gt;/x", "1", "1", "1"],
    ]
    assert (
        'Google Cloud project <span class="mono">&lt;img src=x onerror=alert(1)&gt;\\x1b[2J</span>'
        in page
    )


def test_one_repository_has_no_summary_table() -> None:
    page = render_store([incident(ONE)], "html")
    assert repository_summary([incident(ONE)]) == []
    assert 'id="repositories"' not in page
    assert "s-new" not in page.split("</style>")[1]
    assert '<td class="mono">acme/one</td>' in page


def test_a_live_scan_is_a_report_without_a_store() -> None:
    page = render_scan(scan_result(), "html")
    assert re.search(r"generated [0-9T:+-]+ · live scan · 1 incident\(s\), 1 finding\(s\)", page)
    assert '<td class="mono">(files)</td>' in page
    assert "Zk3mQ9vTb2LxWc7RnP4s_g" not in page


def test_two_mirrors_of_one_remote_say_where_each_was_scanned() -> None:
    remote = "git@github.com:acme/ads.git"
    first = occurrence(commit="a" * 40, repo="/srv/mirrors/ads.git", remote=remote)
    second = occurrence(commit="a" * 40, repo="/home/ci/cache/ads", remote=remote)
    page = render_store([made("a" * 16, place=first), made("b" * 16, place=second)], "html")
    assert re.findall(
        r"acme/ads: conf/app.env</span> <span class=\"muted\">\(scanned as "
        r"<span class=\"mono\">([^<]+)</span>",
        page,
    ) == [
        "/srv/mirrors/ads.git",
        "/home/ci/cache/ads",
    ]
