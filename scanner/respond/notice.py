"""One notice per incident: the same redacted facts, escaped for each channel's format.

Paths, author e-mails and repository names come from scanned content, so they are data: control
and bidirectional characters are shown as escapes everywhere (no fake lines, no header
injection), Slack `mrkdwn` gets `& < >` entity-escaped (no `<!channel>`, no disguised links), and
a GitHub issue body sits in a code fence longer than any backtick run in it (no breaking out into
Markdown headings or `@team` mentions).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from scanner.render.incidents import Incident
from scanner.render.runbooks import incident_runbooks

SLACK_TEXT_LIMIT = 2900  # Slack refuses a section text over 3000 characters
_SLACK_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """`text` on one line with every control, format or separator character shown as an escape."""
    if text.isprintable():
        return text
    return "".join(_NAMED.get(c, _escape(c)) if _hidden(c) else c for c in text)


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def slack_escape(text: str, limit: int | None = None) -> str:
    """Slack's three entities; cut at `limit` characters without splitting an entity."""
    pieces = [_SLACK_ENTITIES.get(c, c) for c in text]
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out, used = [], 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…"


def code_fence(text: str) -> str:
    """A Markdown fence that `text` cannot close: longer than its longest backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


@dataclass(frozen=True)
class Notice:
    incident: str
    title: str  # one line: every fact in it went through visible()
    body: str  # plain text lines, secrets redacted, facts through visible()

    def slack(self) -> dict[str, Any]:
        return {
            "text": slack_escape(self.title),
            "blocks": [
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": self.title[:150]},
                },
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": slack_escape(self.body, SLACK_TEXT_LIMIT),
                        "verbatim": True,  # no automatic links or mention parsing
                    },
                },
            ],
        }

    def json(self, key: str) -> dict[str, Any]:
        return {
            "source": "devtoken",
            "incident": self.incident,
            "title": self.title,
            "body": self.body,
            "idempotency_key": key,
        }

    def issue(self, key: str) -> dict[str, Any]:
        fence = code_fence(self.body)
        marker = f"<!-- devtoken idempotency key: {key} -->"
        return {
            "title": self.title,
            "body": f"{fence}text\n{self.body}\n{fence}\n\n{marker}",
            "labels": ["security", "leaked-credential"],
        }


def notice_for(incident: Incident) -> Notice:
    status = incident.verification["status"]
    state = "" if status == "skipped" else f"{status} "
    title = f"devtoken: {state}Google Ads credentials leaked in {visible(incident.location)}"
    lines = [f"Outcome: {status}: {visible(incident.verification['reason'])}"]
    if incident.verification.get("reach"):
        reach = ", ".join(visible(str(r)) for r in incident.verification["reach"])
        lines.append(f"Opens Google Ads customer(s): {reach}")
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
            lines.append(f"  at {visible(where)}")
    lines.append("")
    lines.append("Reset runbook:")
    # what to rotate: not the client id's (nothing to do) nor history rewriting (a report's)
    for book in incident_runbooks(incident):
        if book.role in ("client_id", "history"):
            continue
        lines.append(f"* {book.title}")
        lines += [f"  {n}. {visible(step)}" for n, step in enumerate(book.steps, 1)]
        lines += [f"  $ {visible(command)}" for command in book.commands]
    return Notice(incident.id, title, "\n".join(lines))
