"""The JSON contract: one dict per finding, shared by json, jsonl and sarif.

Fields are only ever added, never renamed: users' scripts, the reports and the
evaluator read them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scanner import __version__
from scanner.models import Finding, Suppressed
from scanner.scan import ScanResult

SCHEMA_VERSION = 1


def finding_record(finding: Finding, show_secrets: bool) -> dict[str, Any]:
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
        "duration_seconds": round(result.duration, 4),
        "engine": result.engine,
        "rules": [rule.id for rule in result.rules],
        **result.extra_stats,
    }


def document(result: ScanResult, show_secrets: bool, explain: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "findings": [finding_record(f, show_secrets) for f in result.findings],
        "stats": stats_record(result),
    }
    if explain:
        doc["suppressed"] = [suppressed_record(s) for s in result.suppressed]
    return doc
