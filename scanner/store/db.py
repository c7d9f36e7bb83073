"""Write scans into the store and read them back for reports and responders.

One scan is one transaction: a scan killed half-way leaves the store as it
was, and running it again records everything. No secret is ever written:
fingerprints, redacted forms and provenance only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.models import Finding, GitProvenance
from scanner.output.escape import valid_unicode
from scanner.store.schema import migrate

DEFAULT_STORE = ".devtoken-store.sqlite"
STATUSES = ("open", "acknowledged", "resolved", "false_positive")


class StoreError(Exception):
    """The store cannot be opened or is newer than this devtoken (exit code 2)."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def store_path(given: str | None) -> Path:
    return Path(given or os.environ.get("DEVTOKEN_STORE") or DEFAULT_STORE)


class Store:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.version = migrate(self.db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot use store {path}: {exc}") from None
        self.path = path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record(self, result: Any, kind: str, target: str) -> int:
        """Record a ScanResult (findings, occurrences, bundles, verifications) atomically."""
        stamp = now()
        repo = str(result.extra_stats.get("repo", "")) if kind == "git" else ""
        remote = str(result.extra_stats.get("remote_url") or "")
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            scan_id = db.execute(
                "INSERT INTO scans (started, kind, target) VALUES (?, ?, ?)",
                (stamp, kind, valid_unicode(target)),
            ).lastrowid
            for finding in result.findings:
                self._finding(finding, stamp, repo, remote)
            for bundle in result.bundles:
                self._bundle(bundle, stamp, result.verifications.get(bundle.id))
            stats = {"findings": len(result.findings), "bytes": result.bytes_scanned}
            db.execute(
                "UPDATE scans SET finished = ?, stats = ? WHERE id = ?",
                (now(), json.dumps(stats), scan_id),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(scan_id or 0)

    def _finding(self, finding: Finding, stamp: str, repo: str, remote: str) -> None:
        self.db.execute(
            """INSERT INTO findings (fingerprint, rule_id, severity, secret_redacted, first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen""",
            (
                finding.fingerprint,
                finding.rule.id,
                finding.rule.severity,
                finding.match.secret.redacted,
                stamp,
                stamp,
            ),
        )
        provenance = finding.provenance
        commit = provenance.commit if isinstance(provenance, GitProvenance) else None
        exposure = provenance.exposure if isinstance(provenance, GitProvenance) else None
        self.db.execute(
            """INSERT INTO occurrences (fingerprint, repo, ref, commit_sha, path, line, col, source,
                   author, email, date, message, blob, exposure, remote_url, first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (fingerprint, repo, commit_sha, path, line) DO UPDATE SET
                   last_seen = excluded.last_seen, exposure = excluded.exposure""",
            (
                finding.fingerprint,
                repo,
                ",".join(exposure.present_in) if exposure else "",
                commit.sha if commit else "",
                valid_unicode(provenance.path),  # a file name that was not UTF-8: \xNN
                finding.match.line,
                finding.match.column,
                provenance.source,
                commit.author if commit else "",
                commit.email if commit else "",
                commit.date if commit else "",
                commit.message if commit else "",
                provenance.blob if isinstance(provenance, GitProvenance) else "",
                json.dumps(exposure.record()) if exposure else None,
                remote,
                stamp,
                stamp,
            ),
        )

    def _bundle(self, bundle: Any, stamp: str, checked: Any) -> None:
        self.db.execute(
            """INSERT INTO bundles (id, location, roles, login_customer_id, client_email, first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen""",
            (
                bundle.id,
                valid_unicode(bundle.location),
                json.dumps(bundle.roles),
                bundle.attribute("login_customer_id"),
                bundle.attribute("client_email"),
                stamp,
                stamp,
            ),
        )
        for member in bundle.members:
            self.db.execute(
                "INSERT OR IGNORE INTO bundle_members VALUES (?, ?)",
                (bundle.id, member.fingerprint),
            )
        if checked is None:
            return
        outcome = checked.outcome
        self.db.execute(
            "INSERT INTO verifications (bundle_id, fingerprint, status, reason, reach, checked_at) VALUES (?, NULL, ?, ?, ?, ?)",
            (
                bundle.id,
                outcome.status,
                outcome.reason,
                json.dumps(list(outcome.reach)) if outcome.reach is not None else None,
                stamp,
            ),
        )
        for fingerprint, verification in checked.members.items():
            self.db.execute(
                "INSERT INTO verifications (bundle_id, fingerprint, status, reason, reach, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    bundle.id,
                    fingerprint,
                    verification.status,
                    verification.reason,
                    json.dumps(list(verification.reach))
                    if verification.reach is not None
                    else None,
                    stamp,
                ),
            )

    def set_status(self, fingerprint: str, status: str, note: str | None = None) -> int:
        """Triage every finding whose fingerprint starts with `fingerprint` (>= 8 chars)."""
        if status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}")
        if len(fingerprint) < 8:
            raise StoreError("give at least 8 characters of the fingerprint")
        cursor = self.db.execute(
            "UPDATE findings SET status = ?, status_note = ?, status_changed = ? WHERE fingerprint LIKE ?",
            (status, note, now(), fingerprint.lower() + "%"),
        )
        return cursor.rowcount

    def claim_action(self, action: str, target: str, incident: str) -> bool:
        """True once per (action, target, incident): the caller may send; never twice."""
        try:
            self.db.execute(
                "INSERT INTO actions (action, target, incident, state, at) VALUES (?, ?, ?, 'sending', ?)",
                (action, target, incident, now()),
            )
        except sqlite3.IntegrityError:
            row = self.db.execute(
                "SELECT state FROM actions WHERE action = ? AND target = ? AND incident = ?",
                (action, target, incident),
            ).fetchone()
            if row and row["state"] == "failed":
                self.db.execute(
                    "UPDATE actions SET state = 'sending', at = ? WHERE action = ? AND target = ? AND incident = ?",
                    (now(), action, target, incident),
                )
                return True
            return False
        return True

    def finish_action(
        self, action: str, target: str, incident: str, ok: bool, detail: str = ""
    ) -> None:
        self.db.execute(
            "UPDATE actions SET state = ?, detail = ?, at = ? WHERE action = ? AND target = ? AND incident = ?",
            ("sent" if ok else "failed", detail[:500], now(), action, target, incident),
        )

    def rows(self, query: str, *args: Any) -> list[sqlite3.Row]:
        return list(self.db.execute(query, args))
