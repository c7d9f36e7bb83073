"""Baselines and ignore files: known findings that should not be reported again.

A baseline entry is (rule id, SHA-256 of the secret, path), as detect-secrets
does: no line number (moving code does not churn it) and no plaintext. The
ignore file lists finding fingerprints, one per line, `#` for comments: a whole one, or
the first 12 or more hex characters that text output shows (a prefix that matches
several findings' fingerprints in one scan suppresses none of them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.digests import sha256
from scanner.errors import BaselineError as BaselineError  # its old home
from scanner.models import Finding, Suppressed
from scanner.secret import SHORT_FINGERPRINT

BASELINE_FILE = ".devtoken-baseline.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, order=True)
class BaselineEntry:
    rule_id: str
    secret_sha256: str
    path: str

    @classmethod
    def of(cls, finding: Finding) -> BaselineEntry:
        secret = finding.match.secret.reveal().encode("utf-8", "surrogateescape")
        return cls(finding.rule.id, sha256(secret).hexdigest(), finding.provenance.path)


def load_baseline(path: Path) -> set[BaselineEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise BaselineError(f"baseline {path}: unsupported format (want version {FORMAT_VERSION})")
    try:
        return {BaselineEntry(e["rule_id"], e["secret_sha256"], e["path"]) for e in data["entries"]}
    except (KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path}: malformed entry ({exc})") from None


def write_baseline(path: Path, entries: Iterable[BaselineEntry]) -> None:
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "generated_by": f"devtoken {__version__}",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": [e.__dict__ for e in sorted(set(entries))],
    }
    directory = path.parent if str(path.parent) else Path(".")
    import tempfile  # only when a file is written: not on the hook path

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".devtoken-baseline-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def load_ignore_file(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BaselineError(f"cannot read ignore file {path}: {exc.strerror}") from None
    fingerprints = set()
    for number, line in enumerate(lines, 1):
        value = line.split("#", 1)[0].strip().lower()
        if not value:
            continue
        if not SHORT_FINGERPRINT <= len(value) <= 64 or any(
            c not in "0123456789abcdef" for c in value
        ):
            raise BaselineError(
                f"{path}:{number}: not a finding fingerprint "
                f"({SHORT_FINGERPRINT} to 64 hex characters)"
            )
        fingerprints.add(value)
    return fingerprints


def ignored_fingerprints(fingerprints: Iterable[str], entries: set[str]) -> set[str]:
    """The fingerprints an ignore file's entries name: whole, or by a prefix that names
    exactly one of them (a prefix shared by two secrets is ambiguous and names neither,
    so a short entry can never hide an unrelated finding)."""
    lengths = {len(entry) for entry in entries if SHORT_FINGERPRINT <= len(entry) < 64}
    named: set[str] = set()
    by_prefix: dict[str, set[str]] = {}
    for value in set(fingerprints):
        if value in entries:
            named.add(value)
        for length in lengths:
            if value[:length] in entries:
                by_prefix.setdefault(value[:length], set()).add(value)
    for matched in by_prefix.values():
        if len(matched) == 1:
            named |= matched
    return named


def split_known(
    findings: list[Finding], baseline: set[BaselineEntry], ignored: set[str]
) -> tuple[list[Finding], list[Suppressed]]:
    """Findings that are new, and the known ones as suppressed with their reason."""
    new: list[Finding] = []
    known: list[Suppressed] = []
    if ignored:
        ignored = ignored_fingerprints((f.fingerprint for f in findings), ignored)
    for finding in findings:
        if finding.fingerprint in ignored:
            known.append(
                Suppressed(finding.match, finding.provenance, "fingerprint in ignore file")
            )
        elif baseline and BaselineEntry.of(finding) in baseline:
            known.append(Suppressed(finding.match, finding.provenance, "known finding in baseline"))
        else:
            new.append(finding)
    return new, known
