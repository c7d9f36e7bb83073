"""Store schema and its migrations: each step runs once, in order, in a transaction."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: findings, where they were seen, scans, bundles, verifications, triage, actions.
    """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        stats TEXT
    );
    CREATE TABLE findings (
        fingerprint TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        secret_redacted TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'acknowledged', 'resolved', 'false_positive')),
        status_note TEXT,
        status_changed TEXT
    );
    CREATE TABLE occurrences (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
        repo TEXT NOT NULL DEFAULT '',
        ref TEXT NOT NULL DEFAULT '',
        commit_sha TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        col INTEGER NOT NULL,
        source TEXT NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        date TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        blob TEXT NOT NULL DEFAULT '',
        exposure TEXT,
        remote_url TEXT NOT NULL DEFAULT '',
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        UNIQUE (fingerprint, repo, commit_sha, path, line)
    );
    CREATE TABLE bundles (
        id TEXT PRIMARY KEY,
        location TEXT NOT NULL,
        roles TEXT NOT NULL,
        login_customer_id TEXT,
        client_email TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE TABLE bundle_members (
        bundle_id TEXT NOT NULL REFERENCES bundles(id),
        fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
        PRIMARY KEY (bundle_id, fingerprint)
    );
    CREATE TABLE verifications (
        id INTEGER PRIMARY KEY,
        bundle_id TEXT NOT NULL,
        fingerprint TEXT,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        reach TEXT,
        checked_at TEXT NOT NULL
    );
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        incident TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
        detail TEXT,
        at TEXT NOT NULL,
        UNIQUE (action, target, incident)
    );
    CREATE INDEX occurrences_by_fingerprint ON occurrences(fingerprint);
    CREATE INDEX verifications_by_bundle ON verifications(bundle_id, checked_at);
    """,
)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database to the newest schema; returns its version."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"store schema version {version} is newer than this devtoken ({len(MIGRATIONS)})"
        )
    for number in range(version, len(MIGRATIONS)):
        with connection:
            connection.executescript(
                "BEGIN;" + MIGRATIONS[number] + f"PRAGMA user_version = {number + 1};COMMIT;"
            )
    return len(MIGRATIONS)
