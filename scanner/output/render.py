"""Render a ScanResult as text, JSON, JSON Lines or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from scanner import __version__
from scanner.models import GitProvenance, Provenance
from scanner.output.escape import visible
from scanner.output.records import document, finding_record, member_verifications
from scanner.rules import Rule
from scanner.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}
_SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


def render(result: ScanResult, fmt: str, show_secrets: bool = False, explain: bool = False) -> str:
    if fmt == "json":
        return json.dumps(document(result, show_secrets, explain), indent=2) + "\n"
    if fmt == "jsonl":
        verifications = member_verifications(result)
        return "".join(
            json.dumps(finding_record(f, show_secrets, verifications.get(f.fingerprint))) + "\n"
            for f in result.findings
        )
    if fmt == "sarif":
        return json.dumps(sarif(result, show_secrets), indent=2) + "\n"
    return text(result, show_secrets, explain)


def text(result: ScanResult, show_secrets: bool, explain: bool) -> str:
    """The terminal report; every field that came from scanned content goes through `visible`."""
    out: list[str] = []
    verifications = member_verifications(result)
    for finding in result.findings:
        match, rule = finding.match, finding.rule
        shown = match.secret.reveal() if show_secrets else match.secret.redacted
        out.append(
            f"{visible(finding.provenance.path)}:{match.line}:{match.column}: "
            f"{visible(rule.severity.upper())} {visible(rule.id)} {visible(shown)}\n"
            f"    {visible(rule.name)}: {visible(rule.why)}\n"
        )
        out.extend(f"    {visible(line)}\n" for line in history_lines(finding.provenance))
        checked = verifications.get(finding.fingerprint)
        if checked and checked["verification"]["status"] != "skipped":
            out.append(f"    {visible(verification_line(checked['verification']))}\n")
    if explain:
        for item in result.suppressed:
            out.append(
                f"{visible(item.provenance.path)}:{item.match.line}:{item.match.column}: "
                f"suppressed {visible(item.match.rule.id)} {visible(item.match.secret.redacted)}: "
                f"{visible(item.reason)}\n"
            )
    out.append(visible(summary(result)) + "\n")
    return "".join(out)


def verification_line(record: dict[str, Any]) -> str:
    line = f"verification: {record['status'].upper()}: {record['reason']}"
    reach = record.get("reach")
    if reach:
        line += f"; opens customer(s) {', '.join(reach)}"
    return line


def history_lines(provenance: Provenance) -> list[str]:
    """Where a history finding came from and how long it was exposed (unescaped: one line each)."""
    if not isinstance(provenance, GitProvenance) or provenance.exposure is None:
        return []
    window = provenance.exposure
    first = window.introduced
    lines = [
        f"added in {first.sha[:12]} by {first.author} <{first.email}> on {first.date}: "
        f"{first.message}"
    ]
    if window.removed:
        lines.append(f"removed in {window.removed.sha[:12]} on {window.removed.date}")
    if window.present_in:
        lines.append(f"still present in {', '.join(window.present_in)}")
    elif not window.removed:
        lines.append("not at any branch tip (only in history)")
    return lines


def summary(result: ScanResult) -> str:
    skipped = Counter(s.reason for s in result.skipped)
    skipped_text = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
    places = {f.provenance.path for f in result.findings}
    if "commits" in result.extra_stats:
        scanned = f"{result.files_scanned} blob(s) of {result.extra_stats['commits']} commit(s)"
    else:
        scanned = f"{result.files_scanned} file(s)"
    return (
        f"devtoken: {len(result.findings)} finding(s) in {len(places)} file(s); "
        f"scanned {scanned}, {result.bytes_scanned / 1e6:.1f} MB in {result.duration:.2f}s"
        + (f"; skipped {sum(skipped.values())} ({skipped_text})" if skipped else "")
    )


def sarif(result: ScanResult, show_secrets: bool) -> dict[str, object]:
    verifications = member_verifications(result)
    results = []
    for finding in result.findings:
        record = finding_record(finding, show_secrets, verifications.get(finding.fingerprint))
        shown = record.get("secret", record["secret_redacted"])
        item = sarif_result(
            finding.rule.id,
            finding.rule.severity,
            f"{finding.rule.name} {shown}: {finding.rule.why}",
            finding.provenance.path,
            (finding.match.line, finding.match.column),
            finding.fingerprint,
        )
        if "verification" in record:
            item["properties"] = {
                "verification": record["verification"]["status"],
                "bundle": record["bundle"],
            }
        results.append(item)
    return sarif_log(list(result.rules), results)


def sarif_result(
    rule_id: str, severity: str, message: str, path: str, where: tuple[int, int], fingerprint: str
) -> dict[str, object]:
    line, column = where
    return {
        "ruleId": rule_id,
        "level": _SARIF_LEVEL.get(severity, "warning"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(path),
                    "region": {"startLine": line, "startColumn": column},
                }
            }
        ],
        "partialFingerprints": {"devtoken/v1": fingerprint},
    }


def sarif_log(rules: list[Rule], results: list[dict[str, object]]) -> dict[str, object]:
    """A SARIF 2.1.0 log of one devtoken run; results get their rule's index."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    for item in results:
        item["ruleIndex"] = index.get(str(item["ruleId"]), 0)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "devtoken",
                        "version": __version__,
                        "rules": [_sarif_rule(rule) for rule in rules],
                    }
                },
                "results": results,
            }
        ],
    }


def _sarif_rule(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "secret"],
        },
    }


SOURCE_ROOT = "%SRCROOT%"


def artifact_location(path: str) -> dict[str, str]:
    """A SARIF artifactLocation that can only name a file: never another scheme or host.

    A relative path becomes a relative reference under %SRCROOT% (SARIF 3.4.4); an
    absolute one a file:/// URI. Each segment is percent-encoded from the name's own
    bytes, so `javascript:x` is the file `javascript%3Ax` and a name that was not
    UTF-8 keeps its bytes; empty segments are dropped, so no `//host` can appear.
    """
    raw = _name_bytes(path)
    segments = [quote(segment, safe="") for segment in raw.split(b"/") if segment]
    if raw.startswith(b"/"):
        return {"uri": "file:///" + "/".join(segments)}
    return {"uri": "/".join(segments) or ".", "uriBaseId": SOURCE_ROOT}


def _name_bytes(path: str) -> bytes:
    try:
        return path.encode("utf-8", "surrogateescape")  # what os.fsdecode made of the bytes
    except UnicodeEncodeError:
        return path.encode("utf-8", "backslashreplace")
