"""One notice per incident: the same redacted facts for every channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanner.report.model import Incident
from scanner.report.render import runbook_roles, runbooks


@dataclass(frozen=True)
class Notice:
    incident: str
    title: str
    body: str  # plain text, secrets redacted

    def slack(self) -> dict[str, Any]:
        return {
            "text": self.title,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": self.body[:2900]}},
            ],
        }

    def json(self) -> dict[str, Any]:
        return {
            "source": "devtoken",
            "incident": self.incident,
            "title": self.title,
            "body": self.body,
        }


def notice_for(incident: Incident) -> Notice:
    status = incident.verification["status"]
    state = "" if status == "skipped" else f"{status} "
    title = f"devtoken: {state}Google Ads credentials leaked in {incident.location}"
    lines = [f"Outcome: {status}: {incident.verification['reason']}"]
    if incident.verification.get("reach"):
        lines.append(f"Opens Google Ads customer(s): {', '.join(incident.verification['reach'])}")
    lines.append("Members (redacted):")
    for member in incident.members:
        lines.append(
            f"- {member.role}: {member.secret_redacted} "
            f"(fingerprint {member.fingerprint[:16]}, {member.verification['status']})"
        )
        for occurrence in member.occurrences[:3]:
            repo = f"{occurrence.repo}: " if occurrence.repo else ""
            where = f"{repo}{occurrence.path}:{occurrence.line}"
            if occurrence.commit:
                where += f" @ {occurrence.commit[:12]} by {occurrence.email}"
            lines.append(f"  at {where}")
    books = runbooks()
    lines.append("")
    lines.append("Reset runbook:")
    roles = [r for r in runbook_roles(incident.roles) if r != "client_id"]
    for role in roles:
        lines.append(f"* {books[role]['title']}")
        lines += [f"  {n}. {step}" for n, step in enumerate(books[role]["steps"], 1)]
    return Notice(incident.id, title, "\n".join(lines))
