"""SIGKILL in the middle of `record_repository`: the store has the whole record or none of it,
and the journal agrees. The child stops itself at an exact statement (an SQLite trace callback
that signals the parent and sleeps), so the kill lands inside the transaction every time."""

from __future__ import annotations

import base64
import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.bundles import make_bundles
from scanner.scan import ScanResult
from scanner.store.db import Store
from scanner.store.org import OrgStore
from tests.conftest import loopback_env
from tests.render.literals import scan_result

RULESET = "5" * 64
KEY = "listed-local-big"
FINDINGS = 1500
BLOBS = 3000

CHILD = """
import os, sys, time
from pathlib import Path
from scanner.store.db import Store
from scanner.store.org import OrgStore
from tests.store.test_org_store_kill import KEY, RULESET, big_result, scanned, tips

path, run_id, point, nth = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
result = big_result()
store = Store(Path(path))
store.db.execute("PRAGMA cache_size = 8")  # pages spill into the WAL before COMMIT
seen = 0

def stop(sql):
    global seen
    if point in sql:
        seen += 1
        if seen == nth:
            os.write(1, b"stopped\\n")
            time.sleep(3600)

store.db.set_trace_callback(stop)
OrgStore(store).record_repository(run_id, KEY, "org/big", result, RULESET, tips(), scanned())
store.db.set_trace_callback(None)
os.write(1, b"stopped\\n")  # the "after" point: recorded, not yet closed
time.sleep(3600)
"""


def token(number: int) -> str:
    digest = hashlib.sha256(f"token {number}".encode()).digest()
    return "Q" + base64.urlsafe_b64encode(digest).decode()[:21]


def big_result() -> ScanResult:
    text = "".join(f"developer_token: {token(i)}\n" for i in range(FINDINGS))
    result = scan_result(text, "config/tokens.yaml")
    result.bundles = make_bundles(result.findings)
    return result


def scanned() -> list[tuple[bytes, int]]:
    return [(f"{i:040x}".encode(), i % 2) for i in range(BLOBS)]


def tips() -> dict[str, str]:
    return {"refs/heads/main": "c" * 40}


def _counts(store: Store) -> dict[str, int]:
    tables = ("findings", "occurrences", "scans", "bundles", "bundle_members", "repository_tips")
    counts = {t: int(store.rows(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in tables}
    counts["blob_ledger"] = int(store.rows("SELECT COUNT(*) FROM blob_ledger")[0][0])
    return counts


@pytest.mark.parametrize(
    ("point", "nth", "whole"),
    [
        ("INSERT INTO occurrences", 1000, False),  # mid-findings, pages already in the WAL
        ("INSERT INTO blob_ledger", 1, False),
        ("INSERT INTO org_journal", 1, False),  # the last write before COMMIT
        ("COMMIT", 1, False),  # COMMIT not yet run
        ("after", 0, True),  # record_repository returned
    ],
)
def test_a_record_killed_at_any_point_is_whole_or_absent(
    tmp_path: Path, point: str, nth: int, whole: bool
) -> None:
    path = tmp_path / "s.sqlite"
    result = big_result()
    assert len(result.findings) == FINDINGS
    bundles = len(result.bundles)
    with Store(path) as store:
        org = OrgStore(store)
        run = org.open_run(RULESET)
        org.upsert_repository(KEY, "org/big", "file:///r/big", "list", "big")
        org.set_phase(run.id, KEY, "scanned")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(run.id), point, str(nth)],
        env=loopback_env(),
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"stopped\n"
    wal = path.with_name(path.name + "-wal").stat().st_size
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    assert wal > 0  # the killed transaction had written pages, not only planned them
    complete = {
        "findings": FINDINGS,
        "occurrences": FINDINGS,
        "scans": 1,
        "bundles": bundles,
        "bundle_members": FINDINGS,
        "repository_tips": 1,
        "blob_ledger": BLOBS,
    }
    with Store(path) as store:
        org = OrgStore(store)
        assert _counts(store) == (complete if whole else dict.fromkeys(complete, 0))
        entry = org.journal(run.id)[KEY]
        assert entry.phase == ("recorded" if whole else "scanned")
        (row,) = org.repositories()
        assert (row.status, row.findings) == (("scanned", FINDINGS) if whole else ("discovered", 0))
        resumed = org.open_run(RULESET)
        assert (resumed.id, resumed.resumed) == (run.id, True)
        if KEY not in resumed.recorded:  # what a resumed driver does
            outcome = org.record_repository(
                run.id, KEY, "org/big", result, RULESET, tips(), scanned()
            )
            assert len(outcome.new) == FINDINGS  # none of them had reached the store
        assert _counts(store) == complete
        assert org.journal(run.id)[KEY].phase == "recorded"
        assert org.tips(KEY, RULESET) == tips()
        assert len(org.clean_blobs(RULESET, [blob for blob, _ in scanned()])) == BLOBS // 2
