"""Literal inputs for the renderer unit tests: a scan of one line, an incident."""

from __future__ import annotations

from scanner.engine import Engine
from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence
from scanner.rules import load_rules
from scanner.scan import ScanResult, scan_text

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
RULES = load_rules()


def scan_result(text: str = f"developer_token: {TOKEN}\n", path: str = "app.yaml") -> ScanResult:
    """A ScanResult of `text` read as the file `path` (no verification, no bundles)."""
    found = scan_text(text, Engine(RULES), path)
    return ScanResult(
        rules=RULES,
        engine="test",
        findings=list(found.findings),
        suppressed=list(found.suppressed),
        bytes_scanned=len(text),
        files_scanned=1,
        duration=0.25,
    )


def occurrence(
    path: str = "conf/app.env", commit: str = "", repo: str = "", remote: str = ""
) -> StoredOccurrence:
    return StoredOccurrence(
        repo=repo,
        path=path,
        line=3,
        column=28,
        source="file" if not commit else "git",
        commit=commit,
        author="Ann" if commit else "",
        email="ann@example.com" if commit else "",
        date="2023-11-14T22:13:20+00:00" if commit else "",
        message="add config" if commit else "",
        exposure=None,
        web_url=None,
        remote=remote,
    )


def incident(
    *occurrences: StoredOccurrence,
    rule_id: str = "google-ads-developer-token",
    fingerprint: str = "ab" * 32,
    status: str = "open",
    project: str | None = None,
    new: bool = False,
    incident_id: str = "0123456789abcdef",
) -> Incident:
    member = IncidentMember(
        fingerprint=fingerprint,
        rule_id=rule_id,
        role="developer_token",
        severity="high",
        secret_redacted="Zk3m…_g",
        status=status,
        first_seen="2026-01-02T03:04:05+00:00",
        last_seen="2026-01-03T03:04:05+00:00",
        verification={"status": "skipped", "reason": "not verified"},
        occurrences=occurrences or (occurrence(),),
    )
    return Incident(
        id=incident_id,
        location="conf/app.env:3",
        roles=("developer_token",),
        members=(member,),
        verification={"status": "live", "reason": "the token opens 1 customer"},
        login_customer_id=None,
        client_email=None,
        first_seen="2026-01-02T03:04:05+00:00",
        project=project,
        new=new,
    )
