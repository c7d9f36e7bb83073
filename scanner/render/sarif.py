"""SARIF 2.1.0: one builder for a live scan and for the store's report.

Both sources become `SarifFinding`s; `sarif_log` lists the rules and gives each result
the index of its own rule. A history result carries its commit, author, date, (redacted)
message and exposure window in `properties`, as the JSON does; `partialFingerprints`
lets code scanning match a result across runs; a git scan's run names the repository
(remote URL without credentials) and the revision in `versionControlProvenance`.
A rule the given rules lack (a custom `--rules` rule seen
by an earlier scan: the store keeps only its id and severity) is listed too, from
what its findings say, so no ruleIndex ever points at another rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scanner import __version__
from scanner.render.records import finding_record, member_verifications, stored_finding_records

if TYPE_CHECKING:
    from scanner.render import RenderOptions
    from scanner.render.incidents import Incident
    from scanner.rules import Rule
    from scanner.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
_LEVEL = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}
_SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


@dataclass(frozen=True)
class SarifFinding:
    """What a SARIF result says, whichever source it came from."""

    rule_id: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    fingerprint: str
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class RuleDescriptor:
    """A SARIF rule: from a loaded Rule, or only what a stored finding knows of it."""

    id: str
    name: str
    description: str
    severity: str

    @classmethod
    def of(cls, rule: Rule) -> RuleDescriptor:
        return cls(rule.id, rule.name, rule.description, rule.severity)


def render_scan(result: ScanResult, options: RenderOptions) -> str:
    verifications = member_verifications(result)
    findings = []
    for finding in result.findings:
        record = finding_record(
            finding, options.show_secrets, verifications.get(finding.fingerprint)
        )
        shown = record.get("secret", record["secret_redacted"])
        properties = history_properties(record)
        if "verification" in record:
            checked = result.verifications.get(record["bundle"])
            properties |= {
                "verification": record["verification"]["status"],
                "bundle": record["bundle"],
                # what `--fail-on live` decides on: the bundle's outcome, not the member's
                "bundle_verification": checked.outcome.status if checked else "skipped",
            }
        findings.append(
            SarifFinding(
                rule_id=finding.rule.id,
                severity=finding.rule.severity,
                message=f"{finding.rule.name} {shown}: {finding.rule.why}",
                path=finding.provenance.path,
                line=finding.match.line,
                column=finding.match.column,
                fingerprint=finding.fingerprint,
                properties=properties or None,
            )
        )
    provenance = version_control(result.extra_stats)
    return _dump(sarif_log([RuleDescriptor.of(r) for r in result.rules], findings, provenance))


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    from scanner.rules import load_rules

    findings = [
        SarifFinding(
            rule_id=record["rule_id"],
            severity=record["severity"],
            message=f"{record['rule_id']} {record['secret_redacted']}: "
            f"verification {record['verification']['status']}",
            path=record["path"],
            line=record["line"],
            column=record["column"],
            fingerprint=record["fingerprint"],
            properties=history_properties(record) or None,
        )
        for record in stored_finding_records(incidents)
    ]
    return _dump(sarif_log([RuleDescriptor.of(r) for r in load_rules()], findings))


def _dump(log: dict[str, object]) -> str:
    return json.dumps(log, indent=2) + "\n"


def sarif_log(
    rules: Sequence[RuleDescriptor],
    findings: Iterable[SarifFinding],
    provenance: dict[str, str] | None = None,
) -> dict[str, object]:
    """A SARIF 2.1.0 log of one devtoken run; each result gets its own rule's index.
    `provenance`: the scanned repository and revision (`version_control`), when known."""
    findings = list(findings)
    listed = list(rules) + _unlisted_rules(rules, findings)
    index = {rule.id: i for i, rule in enumerate(listed)}
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "devtoken",
                "version": __version__,
                "rules": [_rule(rule) for rule in listed],
            }
        },
    }
    if provenance:
        run["versionControlProvenance"] = [provenance]
    run["results"] = [_result(finding, index[finding.rule_id]) for finding in findings]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


# what a history record (the JSON's) says of its commit (or annotated tag) and its exposure
_COMMIT_FIELDS = ("commit", "author", "email", "date", "message")
_TAG_FIELDS = ("tag", "tag_object", "tagger", "tagger_email", "tagger_date", "tagged_commit")
_EXPOSURE_FIELDS = (
    "first_commit",
    "first_date",
    "removed_commit",
    "removed_date",
    "still_present_in",
    "rewritten",
)


def history_properties(record: dict[str, Any]) -> dict[str, Any]:
    """A finding record's commit (author, date, message: redacted as the JSON has it), the
    annotated tag of a tag-message finding, and exposure window, for a SARIF result's
    property bag; {} for a file finding."""
    properties = {name: record[name] for name in _COMMIT_FIELDS if record.get(name)}
    properties |= {name: record[name] for name in _TAG_FIELDS if record.get(name)}
    exposure = record.get("exposure")
    if isinstance(exposure, dict):
        properties |= {name: exposure[name] for name in _EXPOSURE_FIELDS if name in exposure}
    return properties


def version_control(stats: dict[str, Any]) -> dict[str, str] | None:
    """SARIF versionControlDetails of a git scan: the remote (credentials stripped), HEAD
    and its branch; None without a remote (repositoryUri is required, and a local path
    says nothing to code scanning)."""
    from scanner.urls import remote_uri

    uri = remote_uri(str(stats.get("remote_url") or ""))
    if uri is None:
        return None
    details = {"repositoryUri": uri}
    if stats.get("head_commit"):
        details["revisionId"] = str(stats["head_commit"])
    branch = str(stats.get("head_branch") or "")
    if branch:
        details["branch"] = branch.removeprefix("refs/heads/")
    return details


def _unlisted_rules(
    rules: Sequence[RuleDescriptor], findings: list[SarifFinding]
) -> list[RuleDescriptor]:
    known = {rule.id for rule in rules}
    extra: dict[str, RuleDescriptor] = {}
    for finding in findings:
        if finding.rule_id not in known and finding.rule_id not in extra:
            extra[finding.rule_id] = RuleDescriptor(
                finding.rule_id,
                finding.rule_id,
                "a rule from a custom rules directory (the store keeps only its id)",
                finding.severity,
            )
    return list(extra.values())


def _result(finding: SarifFinding, rule_index: int) -> dict[str, object]:
    item: dict[str, object] = {
        "ruleId": finding.rule_id,
        "level": _LEVEL.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {"devtoken/v1": finding.fingerprint},
    }
    if finding.properties is not None:
        item["properties"] = finding.properties
    item["ruleIndex"] = rule_index
    return item


def _rule(rule: RuleDescriptor) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description},
        "defaultConfiguration": {"level": _LEVEL.get(rule.severity, "warning")},
        "properties": {
            "security-severity": _SECURITY_SEVERITY.get(rule.severity, "5.5"),
            "tags": ["security", "secret"],
        },
    }


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
