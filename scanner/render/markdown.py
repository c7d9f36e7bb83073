"""GitHub-flavoured Markdown of incidents (the store's or a live scan's), with their runbooks.

Scanned text only ever appears inside code spans (`md_code`) or escaped prose (`md_text`);
the runbooks' steps and commands are the project's text, with only values the runbooks checked
against a strict form filled in (scanner/render/runbooks.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scanner.render.escape import md_code, md_text, visible
from scanner.render.runbooks import Runbook, incident_runbooks

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
        for book in incident_runbooks(i):
            lines += ["", *_runbook(book)]
    return "\n".join(lines) + "\n"


def _runbook(book: Runbook) -> list[str]:
    lines = [f"**{book.title}**", ""]
    lines += [f"{n}. {visible(step)}" for n, step in enumerate(book.steps, 1)]
    if book.commands:
        shown = [visible(command) for command in book.commands]
        longest = max((len(run) for c in shown for run in re.findall(r"`+", c)), default=0)
        fence = "`" * max(3, longest + 1)
        lines += ["", f"{fence}sh", *shown, fence]
    return lines
