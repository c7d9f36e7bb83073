"""Write scans into the store and read them back for reports and responders.

One scan is one transaction: a scan killed half-way leaves the store as it
was, and running it again records everything. No secret is ever written:
fingerprints, redacted forms and provenance only. Every SQLite failure leaves
this module as a one-line `StoreError` (exit code 2), never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.config_schema import resolve_table
from scanner.errors import StoreError as StoreError  # its old home
from scanner.models import Finding, GitProvenance
from scanner.store.schema import SchemaError, check_openable, migrate
from scanner.store.text import raw_bytes, storable

DEFAULT_STORE = ".devtoken-store.sqlite"
STATUSES = ("open", "acknowledged", "resolved", "false_positive")
_HEX_PREFIX = re.compile(r"[0-9a-f]{8,64}")
MAX_PARAMS = 900  # bound parameters per statement, under every SQLite build's limit (999)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def store_path(given: str | None) -> Path:
    """--store, else DEVTOKEN_STORE (an empty one is unset), else the default."""
    return Path(given or resolve_table("store", os.environ)["path"] or DEFAULT_STORE)


def busy_timeout(env: Mapping[str, str]) -> float:
    """DEVTOKEN_STORE_TIMEOUT: how long to wait for a store another process has locked."""
    return float(resolve_table("store", env)["timeout"])


@dataclass(frozen=True)
class Written:
    """What `Store.write_scan` wrote: its scan row and the fingerprints new to the store."""

    scan_id: int
    new: frozenset[str]


class Store:
    """The findings store at `path`; `create=False` (commands that only read) needs it to exist."""

    def __init__(self, path: Path, create: bool = True, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = busy_timeout(os.environ) if timeout is None else timeout
        if not create and not path.is_file():
            raise StoreError(
                f"no store at {storable(str(path))}: record one first "
                "(devtoken scan --store PATH or devtoken git --store PATH)"
            )
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                _create_private(path)
            self.db = sqlite3.connect(
                _uri(path, create), uri=True, timeout=self.timeout, isolation_level=None
            )
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot use store {storable(str(path))}: {exc}") from None
        try:
            with self.guard():
                self.db.row_factory = sqlite3.Row
                check_openable(self.db, create)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self.version = migrate(self.db)
        except StoreError:
            self.db.close()
            raise

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn any SQLite failure into a StoreError that names the store and the cause."""
        try:
            yield
        except SchemaError as exc:
            raise StoreError(f"cannot use store {self._name}: {exc}") from None
        except sqlite3.Error as exc:
            raise StoreError(self._explain(exc)) from None

    @property
    def _name(self) -> str:
        return storable(str(self.path))

    def _explain(self, exc: sqlite3.Error) -> str:
        code = getattr(exc, "sqlite_errorname", "")
        if code in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc):
            return (
                f"store {self._name} is locked by another process (waited {self.timeout:g}s; "
                "DEVTOKEN_STORE_TIMEOUT sets how long): try again when it has finished"
            )
        if "no such table" in str(exc) or "no such column" in str(exc):
            return f"cannot use store {self._name}: a damaged devtoken store ({exc})"
        return f"cannot use store {self._name}: {exc}"

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def execute(self, query: str, *args: Any) -> sqlite3.Cursor:
        """Run one statement; every text parameter is made storable (see store.text)."""
        values = tuple(storable(a) if isinstance(a, str) else a for a in args)
        with self.guard():
            return self.db.execute(query, values)

    def rows(self, query: str, *args: Any) -> list[sqlite3.Row]:
        with self.guard():
            return list(self.execute(query, *args))

    def record(self, result: Any, kind: str, target: str) -> int:
        """Record a ScanResult (findings, occurrences, bundles, verifications) atomically."""
        with self.guard(), self.transaction():
            return self.write_scan(result, kind, target).scan_id

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT: an exception (or a kill) inside leaves nothing behind."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def write_scan(self, result: Any, kind: str, target: str, repo: str | None = None) -> Written:
        """Write one scan's rows inside the caller's transaction (see `transaction`).

        `repo` names the repository the occurrences are in (a git scan's own path when None).
        """
        stamp = now()
        if repo is None:
            repo = str(result.extra_stats.get("repo", "")) if kind == "git" else ""
        remote = str(result.extra_stats.get("remote_url") or "")
        known = self._known({finding.fingerprint for finding in result.findings})
        scan_id = self.execute(
            "INSERT INTO scans (started, kind, target) VALUES (?, ?, ?)", stamp, kind, target
        ).lastrowid
        occurrence_of: dict[int, int] = {}  # id(finding) -> its occurrence row
        for finding in result.findings:
            occurrence_of[id(finding)] = self._finding(finding, stamp, repo, remote, scan_id)
        for bundle in result.bundles:
            self._bundle(bundle, stamp, result.verifications.get(bundle.id))
            for member in bundle.members:
                if id(member) in occurrence_of:
                    self.execute(
                        "INSERT OR IGNORE INTO bundle_occurrences VALUES (?, ?)",
                        bundle.id,
                        occurrence_of[id(member)],
                    )
        stats = {"findings": len(result.findings), "bytes": result.bytes_scanned}
        self.execute(
            "UPDATE scans SET finished = ?, stats = ? WHERE id = ?",
            now(),
            json.dumps(stats),
            scan_id,
        )
        fresh = frozenset(f.fingerprint for f in result.findings if f.fingerprint not in known)
        return Written(int(scan_id or 0), fresh)

    def _known(self, fingerprints: set[str]) -> set[str]:
        """Those of `fingerprints` the store already has (asked in chunks of SQLite's limit)."""
        ordered = sorted(fingerprints)
        known: set[str] = set()
        for start in range(0, len(ordered), MAX_PARAMS):
            chunk = ordered[start : start + MAX_PARAMS]
            marks = ", ".join("?" * len(chunk))
            rows = self.execute(
                f"SELECT fingerprint FROM findings WHERE fingerprint IN ({marks})", *chunk
            )
            known.update(row[0] for row in rows)
        return known

    def _finding(
        self, finding: Finding, stamp: str, repo: str, remote: str, scan_id: int | None = None
    ) -> int:
        """Record a finding and its occurrence; the occurrence's row id."""
        self.execute(
            """INSERT INTO findings (fingerprint, rule_id, severity, secret_redacted, first_seen,
                   last_seen, role, first_scan)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen,
                   role = excluded.role, severity = excluded.severity""",
            finding.fingerprint,
            finding.rule.id,
            finding.rule.severity,
            finding.match.secret.redacted,
            stamp,
            stamp,
            finding.rule.role or "",
            scan_id,
        )
        provenance = finding.provenance
        commit = provenance.commit if isinstance(provenance, GitProvenance) else None
        exposure = provenance.exposure if isinstance(provenance, GitProvenance) else None
        row = self.execute(
            """INSERT INTO occurrences (fingerprint, repo, ref, commit_sha, path, path_bytes, line,
                   col, source, author, email, date, message, blob, exposure, remote_url,
                   first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (fingerprint, repo, commit_sha, path, path_bytes, line) DO UPDATE SET
                   last_seen = excluded.last_seen, exposure = excluded.exposure
               RETURNING id""",
            finding.fingerprint,
            repo,
            ",".join(exposure.present_in) if exposure else "",
            commit.sha if commit else "",
            provenance.path,
            raw_bytes(provenance.path),
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
        ).fetchone()
        return int(row[0])

    def _bundle(self, bundle: Any, stamp: str, checked: Any) -> None:
        self.execute(
            """INSERT INTO bundles (id, location, roles, login_customer_id, client_email, project,
                   private_key_id, first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,
                   project = excluded.project, private_key_id = excluded.private_key_id""",
            bundle.id,
            bundle.location,
            json.dumps(bundle.roles),
            bundle.attribute("login_customer_id"),
            bundle.attribute("client_email"),
            getattr(bundle, "project", None),  # Bundle.project (org incidents) where it exists
            bundle.attribute("private_key_id"),
            stamp,
            stamp,
        )
        for member in bundle.members:
            self.execute(
                "INSERT OR IGNORE INTO bundle_members VALUES (?, ?)", bundle.id, member.fingerprint
            )
        if checked is None:
            return
        checks = [(None, checked.outcome), *checked.members.items()]
        for fingerprint, verification in checks:
            reach = verification.reach
            self.execute(
                "INSERT INTO verifications (bundle_id, fingerprint, status, reason, reach, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                bundle.id,
                fingerprint,
                verification.status,
                verification.reason,
                json.dumps(list(reach)) if reach is not None else None,
                stamp,
            )

    def set_status(self, fingerprint: str, status: str, note: str | None = None) -> int:
        """Triage the one finding whose fingerprint starts with these (>= 8) hex characters."""
        if status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}")
        prefix = fingerprint.lower()
        if not _HEX_PREFIX.fullmatch(prefix):
            raise StoreError(
                "a fingerprint is hexadecimal (0-9, a-f): give at least 8 of its characters"
            )
        matches = [
            row["fingerprint"]
            for row in self.rows(
                "SELECT fingerprint FROM findings WHERE substr(fingerprint, 1, ?) = ? LIMIT 6",
                len(prefix),
                prefix,
            )
        ]
        if len(matches) > 1:
            shown = ", ".join(m[: len(prefix) + 4] for m in matches[:5])
            more = " or more" if len(matches) > 5 else ""
            raise StoreError(
                f"{prefix} is the start of {len(matches)}{more} fingerprints ({shown}): "
                "give more characters"
            )
        if not matches:
            return 0
        return self.execute(
            "UPDATE findings SET status = ?, status_note = ?, status_changed = ? WHERE fingerprint = ?",
            status,
            note,
            now(),
            matches[0],
        ).rowcount


def _create_private(path: Path) -> None:
    """A new store is its owner's only (0600, whatever the umask; SQLite gives its -wal and
    -shm files the same mode): it lists repositories, paths, authors and redacted secrets."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _uri(path: Path, create: bool) -> str:
    """A file: URI, so that a store that must exist is opened read-write but never created."""
    quoted = urllib.parse.quote(os.fsencode(path.absolute()))
    return f"file:{quoted}?mode={'rwc' if create else 'rw'}"
