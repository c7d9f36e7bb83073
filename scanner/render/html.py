"""The HTML leak report of incidents (Jinja2, reports/leak-report.html.j2).

The incidents come from the store or a live scan. A report spanning several repositories
also sums them up per repository and per Google Cloud project. Jinja2 is imported only
here, only when an HTML report is asked for.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scanner import __version__
from scanner.render.escape import visible
from scanner.render.incidents import OUTCOME_ORDER, SEVERITY_ORDER, Incident
from scanner.render.runbooks import runbook_roles, runbooks, templates_dir

if TYPE_CHECKING:
    from scanner.render import RenderOptions
COLORS = {
    "live": "#b3261e",
    "unknown": "#b26a00",
    "invalid": "#2e7d32",
    "unverifiable": "#5b6475",
    "skipped": "#8a93a3",
    "critical": "#7f1d1d",
    "high": "#b3261e",
    "medium": "#b26a00",
    "low": "#5b6475",
}


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True)
    template = env.get_template("leak-report.html.j2")
    counts = {
        "outcome": Counter(i.verification["status"] for i in incidents),
        "severity": Counter(i.severity for i in incidents),
        "repo": Counter(name for i in incidents for name in i.repository_names),
        "month": Counter(i.exposed_since[:7] for i in incidents),
    }
    return template.render(
        version=__version__,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        store_name=options.store_name,
        incidents=[_view(i) for i in incidents],
        repositories=repository_summary(incidents),
        projects=project_summary(incidents),
        finding_count=sum(len(i.members) for i in incidents),
        counts=counts,
        charts=[
            _chart(
                "Incidents by outcome",
                sorted(counts["outcome"].items(), key=lambda kv: -OUTCOME_ORDER.get(kv[0], 0)),
            ),
            _chart(
                "Incidents by severity",
                sorted(counts["severity"].items(), key=lambda kv: -SEVERITY_ORDER.get(kv[0], 0)),
            ),
            _chart("Incidents by repository", counts["repo"].most_common(8)),
            _chart("Exposures by month (first seen)", sorted(counts["month"].items())[-12:]),
        ],
        outcomes=[o for o in OUTCOME_ORDER],
        severities=list(SEVERITY_ORDER),
        severity_rank=SEVERITY_ORDER,
        outcome_rank=OUTCOME_ORDER,
        runbooks=runbooks(),
    )


def _view(incident: Incident) -> dict[str, Any]:
    """The template's data: every string made visible (Jinja escapes HTML; a bidi override
    or control character in a path or commit message would still mislead a reader)."""
    view: dict[str, Any] = _visible_tree(asdict(incident))
    view.update(
        severity=incident.severity, status=incident.status, exposed_since=incident.exposed_since
    )
    view["repository_names"] = [visible(name) for name in incident.repository_names]
    words = [incident.location, *incident.roles, *incident.repository_names]
    words += [incident.project] if incident.project else []
    for member in incident.members:
        words += [member.rule_id, member.fingerprint]
        for occurrence in member.occurrences:
            words += [
                occurrence.path,
                occurrence.author,
                occurrence.email,
                occurrence.commit,
                occurrence.message,
            ]
    view["search_text"] = visible(" ".join(words).lower())
    for member in view["members"]:
        for occurrence in member["occurrences"]:
            occurrence["web_url"] = web_link(occurrence["web_url"])
    view["runbook_roles"] = runbook_roles(incident.roles, incident.has_history)
    return view


def repository_summary(incidents: list[Incident]) -> list[dict[str, Any]]:
    """Per repository (as reports name it): its incidents and open findings (distinct
    fingerprints still open seen there), most incidents first; empty unless the incidents
    span more than one repository."""
    if len({repo for i in incidents for repo in i.repositories}) < 2:
        return []
    counted: Counter[str] = Counter()
    still_open: dict[str, set[str]] = {}
    for incident in incidents:
        counted.update(incident.repository_names)
        for member in incident.members:
            for seen in member.occurrences:
                found = still_open.setdefault(seen.repository, set())
                if member.status == "open":
                    found.add(member.fingerprint)
    return [
        {"repository": visible(name), "incidents": n, "open_findings": len(still_open[name])}
        for name, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def project_summary(incidents: list[Incident]) -> list[dict[str, Any]]:
    """Per Google Cloud project, where known: its incidents, repositories, open findings."""
    counted: Counter[str] = Counter()
    repositories: dict[str, set[str]] = {}
    still_open: dict[str, set[str]] = {}
    for incident in incidents:
        if not incident.project:
            continue
        counted[incident.project] += 1
        repositories.setdefault(incident.project, set()).update(incident.repository_names)
        still_open.setdefault(incident.project, set()).update(
            m.fingerprint for m in incident.members if m.status == "open"
        )
    return [
        {
            "project": visible(name),
            "incidents": n,
            "repositories": len(repositories[name]),
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


def _chart(title: str, items: list[tuple[str, int]]) -> dict[str, Any]:
    top = max((count for _, count in items), default=1)
    bars = [
        {
            "label": visible(label)[:18],
            "value": count,
            "y": 4 + 20 * n,
            "width": round(150 * count / top),
            "color": COLORS.get(label, "#3b5b8c"),
        }
        for n, (label, count) in enumerate(items)
    ]
    return {"title": title, "bars": bars, "height": max(24, 8 + 20 * len(bars))}
