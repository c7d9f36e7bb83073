"""The JSON contract: one dict per finding, for a live scan and rebuilt from the store.

Every format renders from these records. Fields are only ever added, never renamed:
users' scripts, the reports and the evaluator read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from scanner import __version__
from scanner.models import Finding, Suppressed

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence
    from scanner.scan import ScanResult

SCHEMA_VERSION = 1


def finding_record(
    finding: Finding, show_secrets: bool, verification: dict[str, Any] | None = None
) -> dict[str, Any]:
    match, rule = finding.match, finding.rule
    record: dict[str, Any] = {
        "rule_id": rule.id,
        "rule_name": rule.name,
        "severity": rule.severity,
        "path": finding.provenance.path,
        "line": match.line,
        "column": match.column,
        "secret_redacted": match.secret.redacted,
        "fingerprint": finding.fingerprint,
        "source": finding.provenance.source,
        "encoding": finding.provenance.encoding,
        "why": rule.why,
    }
    record.update(finding.provenance.extra())
    if verification is not None:
        record["bundle"] = verification["bundle"]
        record["verification"] = verification["verification"]
    if show_secrets:
        record["secret"] = match.secret.reveal()
    return record


def suppressed_record(item: Suppressed) -> dict[str, Any]:
    return {
        "rule_id": item.match.rule.id,
        "path": item.provenance.path,
        "line": item.match.line,
        "column": item.match.column,
        "secret_redacted": item.match.secret.redacted,
        "reason": item.reason,
        **item.provenance.extra(),
    }


def stats_record(result: ScanResult) -> dict[str, Any]:
    return {
        "bytes_scanned": result.bytes_scanned,
        "files_scanned": result.files_scanned,
        "files_skipped": len(result.skipped),
        "skipped_by_reason": dict(sorted(Counter(s.reason for s in result.skipped).items())),
        "skipped": [
            {"path": s.path, "reason": s.reason, "detail": s.detail} for s in result.skipped
        ],
        "suppressed_matches": sum(result.suppressed_by_rule.values()),
        "suppressed_by_rule": dict(sorted(result.suppressed_by_rule.items())),
        "duration_seconds": round(result.duration, 4),
        "engine": result.engine,
        "rules": [rule.id for rule in result.rules],
        **result.extra_stats,
    }


def member_verifications(result: ScanResult) -> dict[str, dict[str, Any]]:
    """fingerprint -> {"bundle": id, "verification": {...}} ("skipped" when not verified)."""
    out: dict[str, dict[str, Any]] = {}
    for bundle in result.bundles:
        checked = result.verifications.get(bundle.id)
        for member in bundle.members:
            verification = checked.members.get(member.fingerprint) if checked else None
            record = verification.record() if verification else _not_requested()
            out[member.fingerprint] = {"bundle": bundle.id, "verification": record}
    return out


def bundle_records(result: ScanResult) -> list[dict[str, Any]]:
    records = []
    for bundle in result.bundles:
        checked = result.verifications.get(bundle.id)
        record: dict[str, Any] = {
            "id": bundle.id,
            "location": bundle.location,
            "roles": bundle.roles,
            "members": [
                {
                    "fingerprint": f.fingerprint,
                    "rule_id": f.rule.id,
                    "path": f.provenance.path,
                    "line": f.match.line,
                    "secret_redacted": f.match.secret.redacted,
                }
                for f in bundle.members
            ],
            "verification": checked.outcome.record() if checked else _not_requested(),
        }
        for name in ("login_customer_id", "client_email", "private_key_id"):
            value = bundle.attribute(name)
            if value:
                record[name] = value
        records.append(record)
    return records


def _not_requested() -> dict[str, Any]:
    return {"status": "skipped", "reason": "verification not requested (--verify)"}


def document(result: ScanResult, show_secrets: bool, explain: bool) -> dict[str, Any]:
    verifications = member_verifications(result)
    doc: dict[str, Any] = {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "findings": [
            finding_record(f, show_secrets, verifications.get(f.fingerprint))
            for f in result.findings
        ],
        "bundles": bundle_records(result),
        "stats": stats_record(result),
    }
    if explain:
        doc["suppressed"] = [suppressed_record(s) for s in result.suppressed]
    return doc


def store_document(incidents: list[Incident]) -> dict[str, Any]:
    """The scan JSON contract's fields, rebuilt from the store (no plaintext exists there)."""
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
    return {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "findings": stored_finding_records(incidents),
        "bundles": bundles,
    }


def stored_finding_records(incidents: list[Incident]) -> list[dict[str, Any]]:
    """One record per place the store saw a finding, incident by incident."""
    return [stored_finding_record(i, m, seen) for i, m, seen in places(incidents)]


def places(
    incidents: list[Incident],
) -> Iterator[tuple[Incident, IncidentMember, StoredOccurrence]]:
    """Each place a finding was seen, with its member and incident, in report order."""
    for incident in incidents:
        for member in incident.members:
            for seen in member.occurrences:
                yield incident, member, seen


def stored_finding_record(
    incident: Incident, member: IncidentMember, seen: StoredOccurrence
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "rule_id": member.rule_id,
        "severity": member.severity,
        "path": seen.path,
        "line": seen.line,
        "column": seen.column,
        "secret_redacted": member.secret_redacted,
        "fingerprint": member.fingerprint,
        "source": seen.source,
        "bundle": incident.id,
        "verification": member.verification,
        "status": member.status,
        "first_seen": member.first_seen,
        "last_seen": member.last_seen,
    }
    if seen.repo:
        record["repo"] = seen.repo
    if seen.commit:
        record.update(
            commit=seen.commit,
            author=seen.author,
            email=seen.email,
            date=seen.date,
            message=seen.message,
        )
    if seen.exposure:
        record["exposure"] = seen.exposure
    return record
