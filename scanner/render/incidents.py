"""The store read as incidents (one per credential bundle): what reports and responders see.

An incident's members are its findings (`IncidentMember`), each with every place the
store saw it (`StoredOccurrence`), unlike a history scan's in-memory occurrences.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from scanner.store.db import Store

SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1}
OUTCOME_ORDER = {"live": 5, "unknown": 4, "invalid": 3, "unverifiable": 2, "skipped": 1}


@dataclass(frozen=True)
class StoredOccurrence:
    """One place (repo, commit, path, line) where the store saw a finding."""

    repo: str
    path: str
    line: int
    column: int
    source: str
    commit: str
    author: str
    email: str
    date: str
    message: str
    exposure: dict[str, Any] | None
    web_url: str | None


@dataclass(frozen=True)
class IncidentMember:
    """A finding of an incident: its triage status and latest verification."""

    fingerprint: str
    rule_id: str
    role: str
    severity: str
    secret_redacted: str
    status: str  # triage
    first_seen: str
    last_seen: str
    verification: dict[str, Any]
    occurrences: tuple[StoredOccurrence, ...]


@dataclass(frozen=True)
class Incident:
    id: str
    location: str
    roles: tuple[str, ...]
    members: tuple[IncidentMember, ...]
    verification: dict[str, Any]
    login_customer_id: str | None
    client_email: str | None
    first_seen: str
    repos: tuple[str, ...] = field(default=())

    @property
    def severity(self) -> str:
        return max((m.severity for m in self.members), key=lambda s: SEVERITY_ORDER.get(s, 0))

    @property
    def status(self) -> str:
        statuses = {m.status for m in self.members}
        return "open" if "open" in statuses else sorted(statuses)[0]

    @property
    def has_history(self) -> bool:
        """Seen in a commit: the history may need rewriting too."""
        return any(o.commit for m in self.members for o in m.occurrences)

    @property
    def exposed_since(self) -> str:
        dates = [
            o.exposure["first_date"]
            for m in self.members
            for o in m.occurrences
            if o.exposure and o.exposure.get("first_date")
        ]
        return min(dates) if dates else self.first_seen


def load_incidents(store: Store) -> list[Incident]:
    from scanner.bundles import ROLE_BY_RULE

    findings = {row["fingerprint"]: row for row in store.rows("SELECT * FROM findings")}
    occurrences: dict[str, list[tuple[int, StoredOccurrence]]] = {}
    for row in store.rows("SELECT * FROM occurrences ORDER BY path, line"):
        occurrences.setdefault(row["fingerprint"], []).append((row["id"], _occurrence(row)))
    places: dict[str, set[int]] = {}  # bundle -> the occurrences it was formed from
    for row in store.rows("SELECT bundle_id, occurrence_id FROM bundle_occurrences"):
        places.setdefault(row["bundle_id"], set()).add(row["occurrence_id"])
    latest = _latest_verifications(store)
    incidents = []
    for bundle in store.rows("SELECT * FROM bundles ORDER BY first_seen, id"):
        fingerprints = [
            r["fingerprint"]
            for r in store.rows(
                "SELECT fingerprint FROM bundle_members WHERE bundle_id = ? ORDER BY fingerprint",
                bundle["id"],
            )
        ]
        members = tuple(
            IncidentMember(
                fingerprint=fp,
                rule_id=findings[fp]["rule_id"],
                role=findings[fp]["role"]
                or ROLE_BY_RULE.get(findings[fp]["rule_id"], findings[fp]["rule_id"]),
                severity=findings[fp]["severity"],
                secret_redacted=findings[fp]["secret_redacted"],
                status=findings[fp]["status"],
                first_seen=findings[fp]["first_seen"],
                last_seen=findings[fp]["last_seen"],
                verification=latest.get((bundle["id"], fp), _skipped()),
                occurrences=_own(occurrences.get(fp, []), places.get(bundle["id"])),
            )
            for fp in fingerprints
            if fp in findings
        )
        if not members:
            continue
        repos = sorted({o.repo or "(files)" for m in members for o in m.occurrences})
        incidents.append(
            Incident(
                id=bundle["id"],
                location=bundle["location"],
                roles=tuple(json.loads(bundle["roles"])),
                members=members,
                verification=latest.get((bundle["id"], None), _skipped()),
                login_customer_id=bundle["login_customer_id"],
                client_email=bundle["client_email"],
                first_seen=bundle["first_seen"],
                repos=tuple(repos),
            )
        )
    incidents.sort(
        key=lambda i: (
            -OUTCOME_ORDER.get(i.verification["status"], 0),
            -SEVERITY_ORDER.get(i.severity, 0),
            i.location,
        )
    )
    return incidents


def _latest_verifications(store: Store) -> dict[tuple[str, str | None], dict[str, Any]]:
    latest: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in store.rows("SELECT * FROM verifications ORDER BY checked_at, id"):
        record: dict[str, Any] = {
            "status": row["status"],
            "reason": row["reason"],
            "checked_at": row["checked_at"],
        }
        if row["reach"] is not None:
            record["reach"] = json.loads(row["reach"])
        latest[(row["bundle_id"], row["fingerprint"])] = record
    return latest


def _skipped() -> dict[str, Any]:
    return {"status": "skipped", "reason": "not verified (run a scan with --verify)"}


def _own(
    found: list[tuple[int, StoredOccurrence]], place: set[int] | None
) -> tuple[StoredOccurrence, ...]:
    """A member's occurrences in this incident: those its bundle was formed from (every one
    for a bundle recorded before the store kept that link)."""
    return tuple(o for row_id, o in found if place is None or row_id in place)


def _occurrence(row: Any) -> StoredOccurrence:
    exposure = json.loads(row["exposure"]) if row["exposure"] else None
    return StoredOccurrence(
        repo=row["repo"],
        path=row["path"],
        line=row["line"],
        column=row["col"],
        source=row["source"],
        commit=row["commit_sha"],
        author=row["author"],
        email=row["email"],
        date=row["date"],
        message=row["message"],
        exposure=exposure,
        web_url=web_url(row["remote_url"], row["commit_sha"], row["path"], row["line"]),
    )


_REMOTE = re.compile(
    r"^(?:https?://|ssh://)?(?:[^@/]+@)?(github\.com|gitlab\.com|bitbucket\.org)[:/](.+?)(?:\.git)?/?$"
)


_COMMIT = re.compile(r"[0-9a-f]{7,64}")


def web_url(remote: str, commit: str, path: str, line: int) -> str | None:
    """A link to the line in the hosting service's web view, for known hosts.

    The remote comes from the scanned repository's config: only its project part is
    used, percent-encoded like the path, under a fixed https:// host.
    """
    match = _REMOTE.match(remote or "")
    if not match or not _COMMIT.fullmatch(commit or ""):
        return None
    host, project = match.groups()
    from urllib.parse import quote

    project, where = quote(project, safe="/"), quote(path, safe="/")
    if host == "bitbucket.org":
        return f"https://{host}/{project}/src/{commit}/{where}#lines-{line}"
    middle = "/-/blob/" if host == "gitlab.com" else "/blob/"
    return f"https://{host}/{project}{middle}{commit}/{where}#L{line}"
