"""GitHub-flavoured Markdown of incidents (the store's or a live scan's), with their runbooks.

Scanned text only ever appears inside code spans (`md_code`) or escaped prose (`md_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.render.escape import md_code, md_text
from scanner.render.runbooks import runbook_roles, runbooks

if TYPE_CHECKING:
    from scanner.render import RenderOptions
    from scanner.render.incidents import Incident


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    lines = [
        "# Leaked Google Ads credentials",
        "",
        f"{len(incidents)} incident(s). Secrets are redacted.",
        "",
        "| Outcome | Severity | Repository | Where | Members | Exposed since |",
        "|---|---|---|---|---|---|",
    ]
    for i in incidents:
        cells = (
            md_text(i.verification["status"]),
            md_text(i.severity),
            ", ".join(md_code(name, table=True) for name in i.repository_names),
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
        for role in runbook_roles(i.roles, i.has_history):
            lines += ["", f"**{books[role]['title']}**", ""]
            lines += [f"{n}. {step}" for n, step in enumerate(books[role]["steps"], 1)]
    return "\n".join(lines) + "\n"
