"""Render incidents from the store: HTML (Jinja2, reports/), JSON, SARIF, Markdown, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.output.escape import csv_cell, md_code, md_text, visible
from scanner.report.model import OUTCOME_ORDER, SEVERITY_ORDER, Incident

REPORT_FORMATS = ("html", "json", "sarif", "md", "csv")
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


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "reports", here / "_reports"):
        if (candidate / "runbooks.toml").is_file():
            return candidate
    raise FileNotFoundError(f"no report templates next to {here}")


def runbooks() -> dict[str, dict[str, Any]]:
    with (templates_dir() / "runbooks.toml").open("rb") as handle:
        return tomllib.load(handle)


def render_report(incidents: list[Incident], fmt: str, store_name: str = "") -> str:
    if fmt == "html":
        return html(incidents, store_name)
    if fmt == "json":
        return json.dumps(json_document(incidents), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif_document(incidents), indent=2) + "\n"
    if fmt == "md":
        return markdown(incidents)
    return csv_text(incidents)


def html(incidents: list[Incident], store_name: str) -> str:
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True)
    template = env.get_template("leak-report.html.j2")
    counts = {
        "outcome": Counter(i.verification["status"] for i in incidents),
        "severity": Counter(i.severity for i in incidents),
        "repo": Counter(repo for i in incidents for repo in i.repos),
        "month": Counter(i.exposed_since[:7] for i in incidents),
    }
    return template.render(
        version=__version__,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        store_name=store_name,
        incidents=[_view(i) for i in incidents],
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
    words = [incident.location, *incident.roles, *incident.repos]
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
    has_history = any(o.commit for m in incident.members for o in m.occurrences)
    roles = runbook_roles(incident.roles, has_history)
    view["runbook_roles"] = roles
    return view


_HTTP_URL = re.compile(r"https?://[!-~]+")


def web_link(url: str | None) -> str | None:
    """Only an http(s) URL of printable ASCII may become an href (never javascript:, data:)."""
    return url if url and _HTTP_URL.fullmatch(url) else None


RUNBOOK_ORDER = (
    "developer_token",
    "client_secret",
    "refresh_token",
    "access_token",
    "service_account_key",
    "client_id",
)


def runbook_roles(roles: tuple[str, ...] | list[str], has_history: bool = False) -> list[str]:
    """Which runbooks an incident needs, most urgent first (history rewriting last)."""
    ordered = [role for role in RUNBOOK_ORDER if role in roles]
    return [*ordered, "history"] if has_history else ordered


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


def json_document(incidents: list[Incident]) -> dict[str, Any]:
    """The scan JSON contract's fields, rebuilt from the store (no plaintext exists there)."""
    findings = []
    for incident in incidents:
        for member in incident.members:
            for occurrence in member.occurrences or ():
                record = {
                    "rule_id": member.rule_id,
                    "severity": member.severity,
                    "path": occurrence.path,
                    "line": occurrence.line,
                    "column": occurrence.column,
                    "secret_redacted": member.secret_redacted,
                    "fingerprint": member.fingerprint,
                    "source": occurrence.source,
                    "bundle": incident.id,
                    "verification": member.verification,
                    "status": member.status,
                    "first_seen": member.first_seen,
                    "last_seen": member.last_seen,
                }
                if occurrence.repo:
                    record["repo"] = occurrence.repo
                if occurrence.commit:
                    record.update(
                        commit=occurrence.commit,
                        author=occurrence.author,
                        email=occurrence.email,
                        date=occurrence.date,
                        message=occurrence.message,
                    )
                if occurrence.exposure:
                    record["exposure"] = occurrence.exposure
                findings.append(record)
    bundles = [
        {
            "id": i.id,
            "location": i.location,
            "roles": list(i.roles),
            "members": [m.fingerprint for m in i.members],
            "verification": i.verification,
            "severity": i.severity,
            "status": i.status,
        }
        for i in incidents
    ]
    return {"version": __version__, "schema_version": 1, "findings": findings, "bundles": bundles}


def sarif_document(incidents: list[Incident]) -> dict[str, Any]:
    from scanner.output.render import sarif_log, sarif_result
    from scanner.rules import load_rules

    results = [
        sarif_result(
            record["rule_id"],
            record["severity"],
            f"{record['rule_id']} {record['secret_redacted']}: "
            f"verification {record['verification']['status']}",
            record["path"],
            (record["line"], record["column"]),
            record["fingerprint"],
        )
        for record in json_document(incidents)["findings"]
    ]
    return sarif_log(list(load_rules()), results)


def markdown(incidents: list[Incident]) -> str:
    """GitHub-flavoured Markdown; scanned text only ever inside code spans or md_text."""
    lines = [
        "# Leaked Google Ads credentials",
        "",
        f"{len(incidents)} incident(s). Secrets are redacted.",
        "",
        "| Outcome | Severity | Where | Members | Exposed since |",
        "|---|---|---|---|---|",
    ]
    for i in incidents:
        cells = (
            md_text(i.verification["status"]),
            md_text(i.severity),
            md_code(i.location, table=True),
            md_text(", ".join(i.roles)),
            i.exposed_since[:10],  # an ISO date, from git or our clock
        )
        lines.append("| " + " | ".join(cells) + " |")
    books = runbooks()
    for i in incidents:
        lines += [
            "",
            f"## {md_text(i.verification['status'].upper())}: {md_code(i.location)}",
            "",
            md_text(i.verification["reason"]),
            "",
        ]
        for m in i.members:
            lines.append(
                f"- {md_text(m.role)} {md_code(m.secret_redacted)} ({m.fingerprint[:16]}): "
                f"{md_text(m.verification['status'])}"
            )
        for role in _view(i)["runbook_roles"]:
            lines += ["", f"**{books[role]['title']}**", ""]
            lines += [f"{n}. {step}" for n, step in enumerate(books[role]["steps"], 1)]
    return "\n".join(lines) + "\n"


def csv_text(incidents: list[Incident]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [
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
    ]
    writer.writerow(columns)
    for record in json_document(incidents)["findings"]:
        row = {**record, "verification": record["verification"]["status"]}
        writer.writerow([csv_cell(row.get(c, "")) for c in columns])
    return out.getvalue()
