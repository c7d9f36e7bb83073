"""A store that is missing, empty, foreign, damaged, locked or from the previous schema: one
clear line and exit 2 (never an internal error, never a new empty store); triage by hex prefix
only; non-UTF-8 paths stored without loss; --verify without the verify extra."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from scanner.store.db import Store
from scanner.store.schema import MIGRATIONS
from tests.conftest import loopback_env, run_subprocess
from tests.fakes.targets import HttpTarget

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
SECRET = "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"
READERS = [
    ("report",),
    ("triage", "0123456789abcdef", "--status", "resolved"),
    ("respond", "--action", "webhook"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "a.yaml").write_text(f"developer_token: {TOKEN}\nclient_secret: {SECRET}\n")
    return root


@pytest.fixture
def store(project: Path, tmp_path: Path, cli: Any) -> Path:
    path = tmp_path / "s.sqlite"
    assert cli("scan", str(project), "--store", str(path), "--quiet").code == 1
    return path


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_command_that_reads_never_creates_a_store(
    tmp_path: Path, cli: Any, command: tuple[str, ...]
) -> None:
    typo = tmp_path / "typo.sqlite"
    run = cli(*command, "--store", str(typo))
    assert run.code == 2
    assert f"devtoken: error: no store at {typo}: record one first" in run.err
    assert list(tmp_path.iterdir()) == []


def test_the_default_store_must_exist_too(tmp_path: Path, cli: Any) -> None:
    run = cli("report", "--format", "json", cwd=tmp_path)
    assert run.code == 2 and "no store at .devtoken-store.sqlite" in run.err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_not_a_store(tmp_path: Path, cli: Any) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    run = cli("report", "--store", str(empty))
    assert run.code == 2 and "an empty database, not a devtoken store" in run.err
    assert empty.read_bytes() == b""


def test_another_programs_database_is_never_changed(
    tmp_path: Path, project: Path, cli: Any
) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    before = other.read_bytes()
    run = cli("scan", str(project), "--store", str(other), "--quiet")
    assert run.code == 2
    assert "an SQLite database but not a devtoken store (it has customers)" in run.err
    assert other.read_bytes() == before


def test_a_file_that_is_not_sqlite(tmp_path: Path, cli: Any) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database " * 100)
    run = cli("report", "--store", str(junk))
    assert run.code == 2 and "file is not a database" in run.err


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("DROP TABLE bundle_members", "table bundle_members is missing"),
        (
            "ALTER TABLE findings DROP COLUMN status_note",
            "table findings has no column status_note",
        ),
    ],
)
@pytest.mark.parametrize("command", ["report", "scan"])
def test_a_store_missing_a_table_or_column(
    store: Path, project: Path, cli: Any, damage: str, said: str, command: str
) -> None:
    with sqlite3.connect(store) as db:
        db.execute(damage)
    args = ["report"] if command == "report" else ["scan", str(project), "--quiet"]
    run = cli(*args, "--store", str(store))
    assert run.code == 2, run.err
    assert f"cannot use store {store}: a damaged devtoken store: {said}" in run.err
    assert "internal error" not in run.err


def test_a_malformed_store(store: Path, cli: Any) -> None:
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # everything into the main file
        page = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(store.read_bytes())
    data[page:] = b"\xab" * (len(data) - page)  # every page but the schema's
    store.write_bytes(bytes(data))
    run = cli("report", "--store", str(store), "--format", "json")
    assert run.code == 2, run.err
    assert f"devtoken: error: cannot use store {store}: database disk image is malformed" in run.err


def test_a_locked_store(
    store: Path, project: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVTOKEN_STORE_TIMEOUT", "0.2")
    fingerprint = _fingerprints(store)[0]
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another devtoken is writing
    try:
        scan = cli("scan", str(project), "--store", str(store), "--quiet")
        triage = cli("triage", fingerprint, "--status", "resolved", "--store", str(store))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    locked = f"store {store} is locked by another process (waited 0.2s;"
    assert scan.code == 2 and locked in scan.err
    assert triage.code == 2 and locked in triage.err


def test_a_bad_store_timeout_names_the_variable(
    store: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVTOKEN_STORE_TIMEOUT", "soon")
    run = cli("report", "--store", str(store))
    assert run.code == 2
    assert "DEVTOKEN_STORE_TIMEOUT must be a number of seconds, not 'soon'" in run.err


def _fingerprints(store: Path) -> list[str]:
    with Store(store) as db:
        return [r["fingerprint"] for r in db.rows("SELECT fingerprint FROM findings")]


def _statuses(store: Path) -> list[str]:
    with Store(store) as db:
        return [r["status"] for r in db.rows("SELECT status FROM findings ORDER BY fingerprint")]


@pytest.mark.parametrize("given", ["________", "%%%%%%%%", "0123456g", "abc", "ab%", "a_c_e_g_"])
def test_triage_takes_hex_only(store: Path, cli: Any, given: str) -> None:
    run = cli("triage", given, "--status", "false_positive", "--store", str(store))
    assert run.code == 2
    assert "a fingerprint is hexadecimal (0-9, a-f): give at least 8 of its characters" in run.err
    assert _statuses(store) == ["open", "open"]


def test_triage_refuses_an_ambiguous_prefix(store: Path, cli: Any) -> None:
    with sqlite3.connect(store) as db:
        for tail in ("1111", "2222"):
            db.execute(
                "INSERT INTO findings (fingerprint, rule_id, severity, secret_redacted, "
                "first_seen, last_seen) VALUES (?, 'r', 'low', 'x…y', 't', 't')",
                ("feedface" + tail + "0" * 52,),
            )
    run = cli("triage", "FEEDFACE", "--status", "resolved", "--store", str(store))
    assert run.code == 2
    assert "feedface is the start of 2 fingerprints (feedface1111, feedface2222)" in run.err
    assert _statuses(store) == ["open"] * 4
    full = "feedface2222" + "0" * 52
    assert cli("triage", full[:12], "--status", "resolved", "--store", str(store)).code == 0
    with Store(store) as db:
        rows = db.rows("SELECT fingerprint FROM findings WHERE status = 'resolved'")
    assert [r["fingerprint"] for r in rows] == [full]


def test_non_utf8_paths_are_stored_without_loss(tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    line = f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n".encode()
    raw = os.fsencode(root) + b"/caf\xe9.env"  # Latin-1, not UTF-8
    Path(os.fsdecode(raw)).write_bytes(line)
    (root / "caf\\xe9.env").write_bytes(line)  # a different file whose name reads the same
    store = tmp_path / "s.sqlite"
    for _ in range(2):
        run = cli("scan", str(root), "--store", str(store), "--quiet", "--format", "json")
        assert run.code == 1, run.err
    with Store(store) as db:
        rows = db.rows("SELECT path, path_bytes FROM occurrences ORDER BY path_bytes")
    shown = f"{root}/caf\\xe9.env"
    assert [(r["path"], r["path_bytes"]) for r in rows] == [(shown, b""), (shown, raw)]
    report = cli("report", "--store", str(store), "--format", "json")
    assert report.code == 0, report.err
    paths = [f["path"] for f in json.loads(report.out)["findings"]]
    assert paths == [shown, shown]  # two files, two incidents, each with its own file


def _v1_store(path: Path) -> None:
    """A store as the previous devtoken (schema 1) left it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("BEGIN;" + MIGRATIONS[0] + "PRAGMA user_version = 1; COMMIT;")
    fingerprint = "ab" * 32
    db.execute(
        "INSERT INTO findings (fingerprint, rule_id, severity, secret_redacted, first_seen, "
        "last_seen) VALUES (?, 'google-ads-developer-token', 'high', 'Qm3x…A1', 't0', 't0')",
        (fingerprint,),
    )
    db.execute(
        "INSERT INTO occurrences (fingerprint, path, line, col, source, first_seen, last_seen) "
        "VALUES (?, 'config/a.yaml', 3, 18, 'file', 't0', 't0')",
        (fingerprint,),
    )
    db.execute(
        "INSERT INTO bundles (id, location, roles, first_seen, last_seen) "
        "VALUES ('b1', 'config/a.yaml:3', '[\"developer_token\"]', 't0', 't0')"
    )
    db.execute("INSERT INTO bundle_members VALUES ('b1', ?)", (fingerprint,))
    return db.close()


def test_a_store_from_the_previous_schema_is_migrated(tmp_path: Path) -> None:
    store = tmp_path / "v1.sqlite"
    _v1_store(store)
    with HttpTarget() as target:
        url = f"{target.base}/hook"
        with sqlite3.connect(store) as db:  # the previous devtoken was killed mid-send
            db.execute(
                "INSERT INTO actions (action, target, incident, state, at) "
                "VALUES ('webhook', ?, 'b1', 'sending', 't0')",
                (url,),
            )
        with Store(store) as db:
            assert db.version == len(MIGRATIONS) == 7
            (occurrence,) = db.rows("SELECT path, path_bytes, line FROM occurrences")
            (action,) = db.rows("SELECT state, attempts, idempotency_key FROM actions")
        assert tuple(occurrence) == ("config/a.yaml", b"", 3)
        assert tuple(action) == ("sending", 1, "")
        env = loopback_env(DEVTOKEN_WEBHOOK_URL=url, DEVTOKEN_WEBHOOK_FORMAT="json")
        args = ["respond", "--store", str(store), "--action", "webhook", "--send"]
        done = run_subprocess(args, env=env, text=True)
    assert done.returncode == 0, done.stderr
    assert "retrying 1 notice(s) from a previous run" in done.stderr
    assert [body["incident"] for body in target.bodies()] == ["b1"]
    with Store(store) as db:
        (action,) = db.rows("SELECT state, attempts FROM actions")
    assert tuple(action) == ("sent", 2)


def test_verify_without_the_verify_extra_is_a_usage_error(tmp_path: Path, project: Path) -> None:
    # A `google` package that cannot be imported stands in for the extra not being installed.
    blocker = tmp_path / "blocker" / "google"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('the verify extra is not installed')\n")
    env = loopback_env()
    env["PYTHONPATH"] = os.pathsep.join([str(blocker.parent), env["PYTHONPATH"]])
    done = run_subprocess(["scan", str(project), "--verify", "--quiet"], env=env, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "devtoken: error: --verify needs the Google Ads client (google.auth cannot be imported): "
        "pip install 'devtoken[verify]'"
    )


def test_the_json_report_of_a_migrated_store(tmp_path: Path, cli: Any) -> None:
    store = tmp_path / "v1.sqlite"
    _v1_store(store)
    run = cli("report", "--store", str(store), "--format", "json")
    assert run.code == 0, run.err
    (finding,) = json.loads(run.out)["findings"]
    assert finding["fingerprint"] == "ab" * 32
