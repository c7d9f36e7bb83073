"""Store schema and its migrations: each step runs once, in order, in a transaction."""

from __future__ import annotations

import functools
import sqlite3

from scanner.errors import StoreError

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
    # 2: occurrences keep a non-UTF-8 path's raw bytes (part of their identity); actions become
    # delivery attempts: an idempotency key, a `pending` state, attempt count, last error and
    # when to retry. SQLite cannot alter a UNIQUE or CHECK constraint, so both tables are rebuilt.
    """
    CREATE TABLE occurrences_v2 (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
        repo TEXT NOT NULL DEFAULT '',
        ref TEXT NOT NULL DEFAULT '',
        commit_sha TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        path_bytes BLOB NOT NULL DEFAULT x'',
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
        UNIQUE (fingerprint, repo, commit_sha, path, path_bytes, line)
    );
    INSERT INTO occurrences_v2 (id, fingerprint, repo, ref, commit_sha, path, line, col, source,
            author, email, date, message, blob, exposure, remote_url, first_seen, last_seen)
        SELECT id, fingerprint, repo, ref, commit_sha, path, line, col, source,
            author, email, date, message, blob, exposure, remote_url, first_seen, last_seen
        FROM occurrences;
    DROP TABLE occurrences;
    ALTER TABLE occurrences_v2 RENAME TO occurrences;
    CREATE INDEX occurrences_by_fingerprint ON occurrences(fingerprint);
    CREATE TABLE actions_v2 (
        id INTEGER PRIMARY KEY,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        incident TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
        detail TEXT,
        at TEXT NOT NULL,
        idempotency_key TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        UNIQUE (action, target, incident)
    );
    INSERT INTO actions_v2 (id, action, target, incident, state, detail, at, attempts)
        SELECT id, action, target, incident, state, detail, at, 1 FROM actions;
    DROP TABLE actions;
    ALTER TABLE actions_v2 RENAME TO actions;
    """,
    # 3: which occurrences each bundle was formed from, so an incident shows its own place only
    # (the same credentials in two files are two incidents, each with its own file). Stores from
    # before keep no link; their incidents show every occurrence of their members, as before.
    """
    CREATE TABLE bundle_occurrences (
        bundle_id TEXT NOT NULL REFERENCES bundles(id),
        occurrence_id INTEGER NOT NULL REFERENCES occurrences(id),
        PRIMARY KEY (bundle_id, occurrence_id)
    );
    """,
    # 4: the credential role each finding's rule gave it (a rule file field), so reports from
    # the store know a custom rule's role too. Rows from before keep '' and are read through the
    # bundled rules' roles.
    """
    ALTER TABLE findings ADD COLUMN role TEXT NOT NULL DEFAULT '';
    """,
    # 5: the org scan (scanner/store/org.py). Repositories with the tips scanned under each rule
    # set; a ledger of blobs scanned under each rule set (20-byte ids, the rule set as a small
    # integer, first_scanned in Unix seconds: it holds millions of rows); org runs and their
    # journal, so a killed run resumes.
    # Tip refs are raw bytes: git allows any in a ref name, and a tip must read back exactly.
    # Bundles keep the Google Cloud project their access follows, to group incidents by project.
    """
    CREATE TABLE repositories (
        key TEXT PRIMARY KEY,
        full_name TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        stable_id TEXT NOT NULL DEFAULT '',
        repository TEXT,
        status TEXT NOT NULL DEFAULT 'discovered',
        error TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_scanned TEXT,
        blobs_scanned INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE repository_tips (
        repo_key TEXT NOT NULL REFERENCES repositories(key),
        ruleset TEXT NOT NULL,
        ref BLOB NOT NULL,
        sha TEXT NOT NULL,
        PRIMARY KEY (repo_key, ruleset, ref)
    ) WITHOUT ROWID;
    CREATE TABLE rulesets (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE blob_ledger (
        ruleset_id INTEGER NOT NULL REFERENCES rulesets(id),
        blob BLOB NOT NULL,
        matches INTEGER NOT NULL,
        first_scanned INTEGER NOT NULL,
        PRIMARY KEY (ruleset_id, blob)
    ) WITHOUT ROWID;
    CREATE TABLE org_runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        ruleset TEXT NOT NULL,
        stats TEXT
    );
    CREATE TABLE org_journal (
        run_id INTEGER NOT NULL REFERENCES org_runs(id),
        repo_key TEXT NOT NULL,
        phase TEXT NOT NULL
            CHECK (phase IN ('discovered', 'fetched', 'scanned', 'recorded', 'failed')),
        detail TEXT,
        error TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (run_id, repo_key)
    );
    CREATE INDEX occurrences_by_repo ON occurrences(repo);
    ALTER TABLE bundles ADD COLUMN project TEXT;
    """,
    # 6: bundles keep a service-account key's id (`private_key_id`), so a report from the store
    # fills it into the runbook's `gcloud iam service-accounts keys delete` as a live scan does.
    # Bundles recorded before have none until a scan records them again.
    """
    ALTER TABLE bundles ADD COLUMN private_key_id TEXT;
    """,
    # 7: the scan that first recorded a finding, so a report says what the latest run found
    # new (timestamps have a second's resolution; two scans can share one). Findings recorded
    # before have none: they are older than any scan recorded from now on.
    """
    ALTER TABLE findings ADD COLUMN first_scan INTEGER;
    """,
)


class SchemaError(StoreError, sqlite3.DatabaseError):
    """The file is SQLite but not (or no longer) a devtoken store; the text is one clear line."""


def check_openable(connection: sqlite3.Connection, create: bool) -> None:
    """Refuse, before anything is written, a database this devtoken must not touch.

    Newer schemas and other programs' databases are never changed; with `create=False`
    (commands that only read) an empty database is an error rather than a fresh store.
    """
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise SchemaError(
            f"store schema version {version} is newer than this devtoken ({len(MIGRATIONS)})"
        )
    if version == 0:
        tables = _columns(connection)
        if tables:
            raise SchemaError(
                f"an SQLite database but not a devtoken store (it has {', '.join(sorted(tables))})"
            )
        if not create:
            raise SchemaError("an empty database, not a devtoken store")


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database to the newest schema and check it is whole; returns its version."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number in range(version, len(MIGRATIONS)):
        with connection:
            connection.executescript(
                "BEGIN;" + MIGRATIONS[number] + f"PRAGMA user_version = {number + 1};COMMIT;"
            )
    missing = _missing(_columns(connection))
    if missing:
        raise SchemaError(f"a damaged devtoken store: {missing}")
    return len(MIGRATIONS)


def _columns(connection: sqlite3.Connection) -> dict[str, set[str]]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')}
        for name in names
    }


@functools.cache
def expected_columns() -> dict[str, frozenset[str]]:
    """The tables and columns the migrations build: the truth a store is checked against."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for script in MIGRATIONS:
            memory.executescript("BEGIN;" + script + "COMMIT;")
        return {name: frozenset(columns) for name, columns in _columns(memory).items()}
    finally:
        memory.close()


def _missing(found: dict[str, set[str]]) -> str:
    for table, columns in sorted(expected_columns().items()):
        if table not in found:
            return f"table {table} is missing"
        absent = sorted(columns - found[table])
        if absent:
            return f"table {table} has no column {', '.join(absent)}"
    return ""
