"""A live scan as incidents: the store's report model built without a store.

`devtoken scan --format html` renders the same `Incident` records `devtoken report` reads
from the store, so every report format renders a live scan too. The records are built as
`Store.record` writes them and `load_incidents` reads them back: the same ids, members,
roles, occurrences and verifications, every text made storable, never a clear secret (a
member holds only the redacted form, as the store does). Only what needs a store differs:
triage is "open" and first/last seen are this scan's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scanner.models import Finding, GitProvenance
from scanner.render.incidents import (
    Incident,
    IncidentMember,
    StoredOccurrence,
    in_report_order,
    not_verified,
    web_url,
)
from scanner.store.text import storable

if TYPE_CHECKING:
    from scanner.api import Reviewed
    from scanner.scan import ScanResult


def incidents_of_scan(scan: Reviewed | ScanResult, seen: str | None = None) -> list[Incident]:
    """The incidents of a reviewed scan (its bundles and verifications), in report order.

    `scan` is a `Reviewed` or its `ScanResult`; a result not yet reviewed has its bundles
    made here. `seen` stands for the store's record time (default: now).
    """
    result: ScanResult = scan.result if hasattr(scan, "result") else scan
    stamp = seen or datetime.now(UTC).isoformat(timespec="seconds")
    # The store keeps a repository only for a history scan (Store.record); only a history
    # scan's result names one, so a bare ScanResult is read the same way.
    kind = getattr(scan, "kind", "git")
    repo = storable(str(result.extra_stats.get("repo", ""))) if kind == "git" else ""
    remote = storable(str(result.extra_stats.get("remote_url") or ""))
    bundles = result.bundles
    if not bundles and result.findings:
        from scanner.bundles import make_bundles

        bundles = make_bundles(result.findings)
    incidents = [
        _incident(bundle, result.verifications.get(bundle.id), stamp, repo, remote)
        for bundle in sorted(bundles, key=lambda b: str(b.id))
    ]
    return in_report_order(incidents)


def _incident(bundle: Any, checked: Any, stamp: str, repo: str, remote: str) -> Incident:
    by_fingerprint: dict[str, list[Finding]] = {}
    for finding in bundle.members:
        by_fingerprint.setdefault(finding.fingerprint, []).append(finding)
    members = tuple(
        _member(found, checked, stamp, repo, remote) for _, found in sorted(by_fingerprint.items())
    )
    return Incident(
        id=bundle.id,
        location=storable(bundle.location),
        roles=tuple(bundle.roles),
        members=members,
        verification=_checked(checked.outcome if checked else None, stamp),
        login_customer_id=_text(bundle.attribute("login_customer_id")),
        client_email=_text(bundle.attribute("client_email")),
        first_seen=stamp,
        project=getattr(bundle, "project", None),
        private_key_id=_text(bundle.attribute("private_key_id")),
    )


def _member(
    found: list[Finding], checked: Any, stamp: str, repo: str, remote: str
) -> IncidentMember:
    from scanner.bundles import ROLE_BY_RULE

    first = found[0]
    rule = first.rule
    verification = checked.members.get(first.fingerprint) if checked else None
    return IncidentMember(
        fingerprint=first.fingerprint,
        rule_id=rule.id,
        role=rule.role or ROLE_BY_RULE.get(rule.id, rule.id),
        severity=rule.severity,
        secret_redacted=storable(first.match.secret.redacted),
        status="open",
        first_seen=stamp,
        last_seen=stamp,
        verification=_checked(verification, stamp),
        occurrences=_places(found, repo, remote),
    )


def _places(found: Iterable[Finding], repo: str, remote: str) -> tuple[StoredOccurrence, ...]:
    """One occurrence per place, as the store keys them (repo, commit, path, line)."""
    places: dict[tuple[str, str, str, int], StoredOccurrence] = {}
    for finding in found:
        occurrence = _occurrence(finding, repo, remote)
        key = (occurrence.repo, occurrence.commit, finding.provenance.path, occurrence.line)
        places.setdefault(key, occurrence)
    return tuple(sorted(places.values(), key=lambda o: (o.path, o.line)))


def _occurrence(finding: Finding, repo: str, remote: str) -> StoredOccurrence:
    """Where a finding is, as the store records it; a finding of a scan of several
    repositories names its own repository (`GitProvenance.repo`), not the scan's."""
    provenance = finding.provenance
    git = provenance if isinstance(provenance, GitProvenance) else None
    if git and git.repo:
        repo, remote = storable(git.repo), storable(git.remote_url)
    commit = git.commit if git else None
    sha = commit.sha if commit else ""
    path = storable(provenance.path)
    return StoredOccurrence(
        repo=repo,
        path=path,
        line=finding.match.line,
        column=finding.match.column,
        source=provenance.source,
        commit=sha,
        author=storable(commit.author) if commit else "",
        email=storable(commit.email) if commit else "",
        date=storable(commit.date) if commit else "",
        message=storable(commit.message) if commit else "",
        exposure=git.exposure.record() if git and git.exposure else None,
        web_url=web_url(remote, sha, path, finding.match.line),
        remote=remote,
    )


def _checked(verification: Any, stamp: str) -> dict[str, Any]:
    """A verification as the store reads it back: its record and when it was checked."""
    if verification is None:
        return not_verified()
    record: dict[str, Any] = {
        "status": verification.status,
        "reason": storable(verification.reason),
        "checked_at": stamp,
    }
    if verification.reach is not None:
        record["reach"] = list(verification.reach)
    return record


def _text(value: str | None) -> str | None:
    return storable(value) if value is not None else None
