"""The HTML leak report of incidents (Jinja2, reports/leak-report.html.j2).

The page is written for whoever must act on it and whoever they forward it to: what to do
now first (live credentials, then the oldest critical/high exposures), headline numbers
that say "not verified" when nothing was checked, charts, a sortable table with every
incident's repository, then the incidents grouped by what carries Google Ads API access
(since 2026-09-09 the Cloud project of the OAuth client or service account), each collapsed
with its members, places and filled-in runbooks. The incidents come from the store or a
live scan. Jinja2 is imported only here, only when an HTML report is asked for.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scanner import __version__
from scanner.render import charts
from scanner.render.escape import visible
from scanner.render.incidents import OUTCOME_ORDER, SEVERITY_ORDER, Incident
from scanner.render.refs import refs_summary
from scanner.render.runbooks import Runbook, incident_runbooks, templates_dir

if TYPE_CHECKING:
    from scanner.render import RenderOptions

COLORS = {
    "live": "#b3261e",
    "unknown": "#b26a00",
    "invalid": "#2e7d32",
    "unverifiable": "#5b6475",
    "skipped": "#9aa3b2",
    "critical": "#7f1d1d",
    "high": "#b3261e",
    "medium": "#b26a00",
    "low": "#5b6475",
}
# What a reader calls each outcome: "skipped" is what the store says, "not verified" is true.
OUTCOME_LABELS = {
    "live": "live",
    "invalid": "invalid",
    "unverifiable": "unverifiable",
    "unknown": "unknown",
    "skipped": "not verified",
}
HEADLINE_OUTCOMES = ("live", "invalid", "unverifiable", "unknown", "skipped")
# Runbooks that grant no API access themselves: "what to do now" names the others first.
NO_ACCESS = ("developer_token", "client_id", "history")
ACTIONS_SHOWN = 10  # "What to do now" lists at most this many; the table has the rest
# Time exposed: first commit -> removal, upper bounds in days (the last bucket has none).
EXPOSURE_BUCKETS = (("< 1 day", 1), ("< 1 week", 7), ("< 1 month", 31), ("< 1 year", 366))
LONGEST, STILL, UNKNOWN = "> 1 year", "still present", "unknown"
BUCKETS = (*(name for name, _ in EXPOSURE_BUCKETS), LONGEST, STILL, UNKNOWN)


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    from jinja2 import Environment, FileSystemLoader
    from markupsafe import Markup

    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True)
    template = env.get_template("leak-report.html.j2")
    views = [_view(i) for i in incidents]
    return template.render(
        version=__version__,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        store_name=visible(options.store_name),
        incidents=views,
        headline=headline(incidents, bool(options.new_since)),
        new_since=visible(options.new_since),
        actions=what_to_do_now(incidents, views),
        groups=access_groups(incidents, views),
        repositories=repository_summary(incidents),
        finding_count=sum(len(i.members) for i in incidents),
        charts=[(title, Markup(svg), Markup(key)) for title, svg, key in report_charts(incidents)],
        outcomes=[(o, OUTCOME_LABELS[o]) for o in HEADLINE_OUTCOMES],
        severities=list(SEVERITY_ORDER),
        severity_rank=SEVERITY_ORDER,
        outcome_rank=OUTCOME_ORDER,
    )


def _status(incident: Incident) -> str:
    return str(incident.verification.get("status", "skipped"))


def headline(incidents: list[Incident], compared: bool) -> dict[str, Any]:
    """The numbers at the top. Nothing checked is said as "not verified", never as 0 live
    (a scan without --verify proves nothing about whether the credentials work)."""
    outcomes = Counter(_status(i) for i in incidents)
    live = [i for i in incidents if _status(i) == "live"]
    reach = {c for i in live for c in i.verification.get("reach") or ()}
    return {
        "verified": any(outcomes[o] for o in HEADLINE_OUTCOMES if o != "skipped"),
        "checked": sum(n for o, n in outcomes.items() if o != "skipped"),
        "live": len(live),
        "reach": len(reach),
        "outcomes": [(o, OUTCOME_LABELS[o], outcomes[o]) for o in HEADLINE_OUTCOMES],
        "new": sum(i.new for i in incidents) if compared else None,
        "open": sum(i.status == "open" for i in incidents),
        "still_present": sum(time_exposed(i)[0] == STILL for i in incidents),
        "repositories": len({name for i in incidents for name in i.repository_names}),
        "oldest": min((i.exposed_since[:10] for i in incidents), default=""),
    }


def what_to_do_now(incidents: list[Incident], views: list[dict[str, Any]]) -> dict[str, Any]:
    """Open incidents to act on, most urgent first: live ones, then critical/high by how long
    they have been exposed (oldest first). Invalid (dead) and triaged incidents wait."""
    view_of = {v["id"]: v for v in views}
    urgent = [
        i
        for i in incidents
        if i.status == "open"
        and _status(i) != "invalid"
        and (_status(i) == "live" or SEVERITY_ORDER.get(i.severity, 0) >= SEVERITY_ORDER["high"])
    ]
    urgent.sort(key=lambda i: (_status(i) != "live", i.exposed_since, i.location))
    return {
        "items": [view_of[i.id] for i in urgent[:ACTIONS_SHOWN]],
        "more": max(0, len(urgent) - ACTIONS_SHOWN),
    }


def action(incident: Incident, books: list[Runbook] | None = None) -> str:
    """The incident's first steps in one line: rotate what carries access (since 2026-09-09
    the OAuth client or service account, not the developer token), then how many more."""
    books = incident_runbooks(incident) if books is None else books
    carrying = [b.title for b in books if b.role not in NO_ACCESS]
    first = carrying[:2] or [b.title for b in books[:1]] or ["Review the finding"]
    more = len(books) - len(first)
    tail = f", then {more} more runbook{'s' if more > 1 else ''}" if more > 0 else ""
    said = ", ".join([first[0], *(t[:1].lower() + t[1:] for t in first[1:])])
    return said + tail


def time_exposed(incident: Incident) -> tuple[str, str]:
    """(bucket, text): first commit -> removal; "still present" while a branch tip or the
    scanned files hold it; "unknown" when history gave no window."""
    places = [o for m in incident.members for o in m.occurrences]
    if any(not o.commit for o in places) or any(
        o.exposure and o.exposure.get("still_present_in") for o in places
    ):
        return STILL, STILL
    windows = [o.exposure for o in places if o.exposure]
    if not windows or any(not w.get("removed_date") for w in windows):
        return UNKNOWN, UNKNOWN
    first = [_when(w.get("first_date")) for w in windows]
    last = [_when(w.get("removed_date")) for w in windows]
    if None in first or None in last:
        return UNKNOWN, UNKNOWN
    days = (max(d for d in last if d) - min(d for d in first if d)).total_seconds() / 86400
    bucket = next((name for name, bound in EXPOSURE_BUCKETS if days < bound), LONGEST)
    whole = round(days)
    return bucket, "< 1 day" if days < 1 else f"{whole} day{'s' if whole > 1 else ''}"


def _when(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def still_in(incident: Incident) -> str:
    """Where it still is, said short ("main and 104 other refs"; JSON has the list)."""
    refs = sorted({r for m in incident.members for o in m.occurrences for r in _refs(o.exposure)})
    files = any(not o.commit for m in incident.members for o in m.occurrences)
    said = [refs_summary(refs)] if refs else []
    return visible(", ".join(["the scanned files", *said] if files else said))


def _refs(exposure: dict[str, Any] | None) -> list[str]:
    return [str(r) for r in (exposure or {}).get("still_present_in") or ()]


def access(incident: Incident) -> tuple[str, str, str]:
    """(kind, name, label) of what carries the incident's access: its Google Cloud project,
    else its service account, else its OAuth client; a developer token alone carries none."""
    client = next((m.secret_redacted for m in incident.members if m.role == "client_id"), None)
    if incident.project:
        # an OAuth client id holds its project's number; a project id starts with a letter
        number = incident.project.isdigit()
        return "project", incident.project, f"Google Cloud project{' number' if number else ''}"
    if incident.client_email:
        return "service_account", incident.client_email, "Service account"
    if client:
        return "oauth_client", client, "OAuth client"
    return "none", "", "No OAuth client or service account found with it"


def access_groups(incidents: list[Incident], views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The incidents under what carries their access, the most urgent group first; within
    a group in report order. The developer token stays in its incident, with the
    credentials it leaked with."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for incident, view in zip(incidents, views, strict=True):
        kind, name, label = access(incident)
        group = groups.setdefault(
            (kind, name),
            {
                "kind": kind,
                "name": visible(name),
                "label": label,
                "incidents": [],
                "clients": set(),
                "accounts": set(),
                "repositories": set(),
                "rank": (0, 0),
            },
        )
        group["incidents"].append(view)
        group["clients"].update(
            visible(m.secret_redacted) for m in incident.members if m.role == "client_id"
        )
        group["accounts"].update([visible(incident.client_email)] if incident.client_email else [])
        group["repositories"].update(view["repository_names"])
        rank = (OUTCOME_ORDER.get(_status(incident), 0), SEVERITY_ORDER.get(incident.severity, 0))
        group["rank"] = max(group["rank"], rank)
    ordered = sorted(
        groups.values(), key=lambda g: (g["kind"] == "none", (-g["rank"][0], -g["rank"][1]))
    )
    for n, group in enumerate(ordered):
        group.update(
            anchor=f"access-{n + 1}",
            live=sum(v["verification"].get("status") == "live" for v in group["incidents"]),
            clients=sorted(group["clients"]),
            accounts=sorted(group["accounts"]),
            repositories=sorted(group["repositories"]),
        )
    return ordered


def report_charts(incidents: list[Incident]) -> list[tuple[str, str, str]]:
    """(title, svg, legend) of each chart in the summary."""
    by_month: dict[tuple[int, int], Counter[str]] = {}
    for incident in incidents:
        when = _when(incident.exposed_since)
        if when:
            by_month.setdefault((when.year, when.month), Counter())[_status(incident)] += 1
    stacks = {
        month: [
            (OUTCOME_LABELS[o], counted[o], COLORS[o])
            for o in sorted(counted, key=lambda o: -OUTCOME_ORDER.get(o, 0))
        ]
        for month, counted in by_month.items()
    }
    shown = sorted({_status(i) for i in incidents}, key=lambda o: -OUTCOME_ORDER.get(o, 0))
    key = charts.legend(
        [(OUTCOME_LABELS.get(o, o), COLORS.get(o, charts.BAR_COLOR)) for o in shown]
    )
    repos = Counter(name for i in incidents for name in i.repository_names)
    roles = Counter(m.role for i in incidents for m in i.members)
    outcomes = Counter(_status(i) for i in incidents)
    exposed = Counter(time_exposed(i)[0] for i in incidents)
    return [
        (
            "Exposures over time (first commit, by month)",
            charts.timeline_chart("Exposures over time", stacks, "no dated exposure"),
            key,
        ),
        ("Incidents by repository", charts.bar_chart("By repository", _bars(repos)), ""),
        (
            "Findings by credential type",
            charts.bar_chart("By credential type", _bars(roles)),
            "",
        ),
        (
            "Incidents by outcome",
            charts.bar_chart(
                "By outcome",
                [
                    charts.Bar(OUTCOME_LABELS.get(o, o), n, COLORS.get(o, charts.BAR_COLOR))
                    for o, n in sorted(
                        outcomes.items(), key=lambda kv: -OUTCOME_ORDER.get(kv[0], 0)
                    )
                ],
            ),
            "",
        ),
        (
            "Time exposed (first commit to removal)",
            charts.bar_chart(
                "Time exposed",
                [
                    charts.Bar(b, exposed[b], COLORS["live"] if b == STILL else charts.BAR_COLOR)
                    for b in BUCKETS
                    if exposed[b] or b != UNKNOWN
                ],
            ),
            "",
        ),
    ]


def _bars(counted: Counter[str], limit: int = 12) -> list[charts.Bar]:
    top = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    bars = [charts.Bar(visible(label), n) for label, n in top[:limit]]
    rest = top[limit:]
    if rest:
        bars.append(charts.Bar(f"{len(rest)} others", sum(n for _, n in rest), "#9aa3b2"))
    return bars


def _view(incident: Incident) -> dict[str, Any]:
    """The template's data, every string made visible (Jinja escapes HTML; a bidi override
    or control character in a path or commit message would still mislead a reader)."""
    kind, name, label = access(incident)
    bucket, exposed_text = time_exposed(incident)
    books = incident_runbooks(incident)
    return {
        "id": visible(incident.id),
        "location": visible(incident.location),
        "roles": [visible(r) for r in incident.roles],
        "severity": incident.severity,
        "status": visible(incident.status),
        "new": incident.new,
        "verification": _visible_tree(incident.verification),
        "outcome_label": OUTCOME_LABELS.get(_status(incident), visible(_status(incident))),
        "exposed_since": visible(incident.exposed_since),
        # a file's exposure starts before anyone saw it: say when it was first seen
        "since_label": "exposed since" if incident.has_history else "first seen",
        "exposed_bucket": bucket,
        "exposed_text": exposed_text,
        "exposed_rank": BUCKETS.index(bucket),
        "still_in": still_in(incident),
        "repository_names": [visible(n) for n in incident.repository_names],
        "login_customer_id": _maybe(incident.login_customer_id),
        "client_email": _maybe(incident.client_email),
        "project": _maybe(incident.project),
        "access_kind": kind,
        "access_name": visible(name),
        "access_label": label,
        "action": visible(action(incident, books)),
        "members": [_member(m) for m in incident.members],
        "places": places(incident),
        "runbooks": [_visible_tree(vars(book)) for book in books],
        "search_text": _search_text(incident),
    }


def _member(member: Any) -> dict[str, Any]:
    return {
        "role": visible(member.role),
        "rule_id": visible(member.rule_id),
        "fingerprint": visible(member.fingerprint),
        "secret_redacted": visible(member.secret_redacted),
        "status": visible(member.status),
        "verification": _visible_tree(member.verification),
        "outcome_label": OUTCOME_LABELS.get(member.verification.get("status"), "?"),
    }


def places(incident: Incident) -> list[dict[str, Any]]:
    """Where the members are, one entry per (repository, commit, path) with its lines and
    roles: a config file's four credentials are one place, not four lines saying the same."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for member in incident.members:
        for o in member.occurrences:
            place = found.get((o.repository, o.commit, o.path))
            if place is None:
                place = _visible_tree(vars(o))
                place.update(
                    repository=visible(o.repository),
                    web_url=web_link(o.web_url),
                    still_in=visible(refs_summary(_refs(o.exposure))),
                    lines=[],
                )
                found[(o.repository, o.commit, o.path)] = place
            place["lines"].append((o.line, visible(member.role)))
    for place in found.values():
        place["lines"].sort()
    return sorted(found.values(), key=lambda p: (p["repository"], p["path"], p["commit"]))


def _search_text(incident: Incident) -> str:
    words: list[str] = [incident.location, *incident.roles, *incident.repository_names]
    words += [incident.project or "", incident.client_email or ""]
    for member in incident.members:
        words += [member.rule_id, member.fingerprint]
        for o in member.occurrences:
            words += [o.path, o.author, o.email, o.commit, o.message]
    return visible(" ".join(w for w in words if w).lower())


def _maybe(value: str | None) -> str | None:
    return visible(value) if value else None


def repository_summary(incidents: list[Incident]) -> list[dict[str, Any]]:
    """Per repository (as reports name it): its incidents and open findings (distinct
    fingerprints still open seen there), most incidents first; empty unless the incidents
    span more than one repository."""
    if len({name for i in incidents for name in i.repository_names}) < 2:
        return []
    counted: Counter[str] = Counter()
    still_open: dict[str, set[str]] = {}
    live: Counter[str] = Counter()
    for incident in incidents:
        counted.update(incident.repository_names)
        if _status(incident) == "live":
            live.update(incident.repository_names)
        for member in incident.members:
            for seen in member.occurrences:
                found = still_open.setdefault(seen.repository, set())
                if member.status == "open":
                    found.add(member.fingerprint)
    return [
        {
            "repository": visible(name),
            "incidents": n,
            "live": live[name],
            "open_findings": len(still_open[name]),
        }
        for name, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


_HTTP_URL = re.compile(r"https?://[!-~]+")


def web_link(url: str | None) -> str | None:
    """Only an http(s) URL of printable ASCII may become an href (never javascript:, data:)."""
    return url if url and _HTTP_URL.fullmatch(url) else None


def _visible_tree(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {key: _visible_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_visible_tree(item) for item in value]
    return value
