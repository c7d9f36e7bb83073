"""Incidents (one per credential bundle): the one report model reports and responders see.

An incident's members are its findings (`IncidentMember`), each with every place it was
seen (`StoredOccurrence`), unlike a history scan's in-memory occurrences. `load_incidents`
reads them from the store; `scanner.render.scan_incidents` builds the same records from a
live scan, so every report format renders either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    remote: str = ""  # the repository's remote URL, when it has one

    @property
    def repository(self) -> str:
        """The repository as a reader names it: the remote's `org/name`, else the path or
        name it was scanned as; "(files)" for files, logs and stdin."""
        return remote_project(self.remote) or self.repo or FILES


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
    project: str | None = None  # the Google Cloud project the credentials belong to, if known
    new: bool = False  # first seen in this run (set by the caller that knows the run)
    private_key_id: str | None = None  # a service-account key's id, next to the key

    @property
    def severity(self) -> str:
        return max((m.severity for m in self.members), key=lambda s: SEVERITY_ORDER.get(s, 0))

    @property
    def status(self) -> str:
        statuses = {m.status for m in self.members}
        return "open" if "open" in statuses else sorted(statuses)[0]

    @property
    def repositories(self) -> tuple[str, ...]:
        """The distinct repositories (`repo`) it was seen in; none for files."""
        return tuple(sorted({o.repo for m in self.members for o in m.occurrences if o.repo}))

    @property
    def repository_names(self) -> tuple[str, ...]:
        """Its places' `StoredOccurrence.repository`, distinct: what reports show."""
        return tuple(sorted({o.repository for m in self.members for o in m.occurrences}))

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


def latest_run_scan(store: Store) -> int | None:
    """The first scan of the store's latest run: the latest scan, or the first scan of the
    org run it belongs to (an org run records one scan per repository); None for no scan."""
    latest = store.rows("SELECT id, started FROM scans ORDER BY id DESC LIMIT 1")
    if not latest:
        return None
    run = store.rows(
        "SELECT started FROM org_runs WHERE started <= ? AND (finished IS NULL OR finished >= ?)"
        " ORDER BY started DESC LIMIT 1",
        latest[0]["started"],
        latest[0]["started"],
    )
    if not run:
        return int(latest[0]["id"])
    first = store.rows("SELECT MIN(id) AS id FROM scans WHERE started >= ?", run[0]["started"])
    return int(first[0]["id"])


def marked_new(store: Store, incidents: list[Incident]) -> tuple[list[Incident], str]:
    """The incidents with `new` set on those the latest run first recorded, and when the scan
    before that run began; unchanged and "" when the store has no earlier scan to compare."""
    from dataclasses import replace

    begins = latest_run_scan(store)
    before = store.rows(
        "SELECT started FROM scans WHERE id < ? ORDER BY id DESC LIMIT 1", begins or 0
    )
    if not before:
        return incidents, ""
    fresh = {
        row["fingerprint"]
        for row in store.rows("SELECT fingerprint FROM findings WHERE first_scan >= ?", begins)
    }
    marked = [
        replace(i, new=i.new or any(m.fingerprint in fresh for m in i.members)) for i in incidents
    ]
    return marked, str(before[0]["started"])


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
        # `project` (schema v5, the org scan), `private_key_id` (v6); `in` on an sqlite3.Row
        # tests its values
        columns = bundle.keys()
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
                verification=latest.get((bundle["id"], fp), not_verified()),
                occurrences=_own(occurrences.get(fp, []), places.get(bundle["id"])),
            )
            for fp in fingerprints
            if fp in findings
        )
        if not members:
            continue
        incidents.append(
            Incident(
                id=bundle["id"],
                location=bundle["location"],
                roles=tuple(json.loads(bundle["roles"])),
                members=members,
                verification=latest.get((bundle["id"], None), not_verified()),
                login_customer_id=bundle["login_customer_id"],
                client_email=bundle["client_email"],
                first_seen=bundle["first_seen"],
                project=bundle["project"] if "project" in columns else None,
                private_key_id=bundle["private_key_id"] if "private_key_id" in columns else None,
            )
        )
    return in_report_order(incidents)


def in_report_order(incidents: Iterable[Incident]) -> list[Incident]:
    """Most urgent first: live before unknown ..., then by severity, then by place (stable)."""
    return sorted(
        incidents,
        key=lambda i: (
            -OUTCOME_ORDER.get(i.verification["status"], 0),
            -SEVERITY_ORDER.get(i.severity, 0),
            i.location,
        ),
    )


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


def not_verified() -> dict[str, Any]:
    """The verification of a bundle or finding nobody checked."""
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
        remote=row["remote_url"],
    )


FILES = "(files)"  # the repository column of what was not in a repository

# A remote is read as host and project only in the forms git itself reads as a network
# remote: a URL (https, ssh, git; any user-info and port dropped) or scp-like `host:path`.
# A local path or file:// URL names no host: it has no project. A project never holds an `@`,
# so no part of user-info (a token in `https://user:TOKEN@host/...`) can be read as one.
_URL_REMOTE = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:@]+)(?::[0-9]*/|[:/])(?P<project>[^@]+?)"
    r"(?:\.git)?/?$"
)
_SCP_REMOTE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:@]+):(?!/)(?P<project>[^@]+?)(?:\.git)?/?$")
_KNOWN_HOST = re.compile(
    r"^(?:[^@/:]+@)?(?P<host>github\.com|gitlab\.com|bitbucket\.org)/(?P<project>[^@]+?)"
    r"(?:\.git)?/?$"
)


def remote_parts(remote: str) -> tuple[str, str] | None:
    """(host, project) of a network remote (`git@github.com:acme/ads.git` -> github.com,
    acme/ads); None for a local path, a file:// URL, or no remote."""
    for form in (_URL_REMOTE, _SCP_REMOTE, _KNOWN_HOST):
        match = form.match(remote or "")
        if match:
            return match["host"], match["project"]
    return None


def remote_project(remote: str) -> str | None:
    """The `org/name` (GitLab: `group/sub/name`) a network remote points at; else None."""
    parts = remote_parts(remote)
    return parts[1] if parts else None


_WEB_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")
_COMMIT = re.compile(r"[0-9a-f]{7,64}")


def web_url(remote: str, commit: str, path: str, line: int) -> str | None:
    """A link to the line in the hosting service's web view, for known hosts.

    The remote comes from the scanned repository's config: only its project part is
    used, percent-encoded like the path, under a fixed https:// host.
    """
    parts = remote_parts(remote)
    if parts is None or parts[0] not in _WEB_HOSTS or not _COMMIT.fullmatch(commit or ""):
        return None
    host, project = parts
    from urllib.parse import quote

    project, where = quote(project, safe="/"), quote(path, safe="/")
    if host == "bitbucket.org":
        return f"https://{host}/{project}/src/{commit}/{where}#lines-{line}"
    middle = "/-/blob/" if host == "gitlab.com" else "/blob/"
    return f"https://{host}/{project}{middle}{commit}/{where}#L{line}"
