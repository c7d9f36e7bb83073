"""The worker pool under uneven loads: a worker that finishes early is done, not dead.

Real repositories where one worker gets all the slow work (or none at all) and
the others finish well before it; every finding must come back whatever the
number of workers, and a worker that really dies must be a clear error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.git import blobscan, discover
from tests.conftest import loopback_env
from tests.gitrepo import Repo

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
# Placeholder lines: each is a match the filters drop, so this blob keeps one
# worker busy for seconds while the others have long reported.
SLOW_LOG = "developer_token: XXXXXXXXXXXXXXXXXXXXXX\n" * 40_000


def findings(cli: Any, repo: Repo, jobs: str) -> list[tuple[str, int, str]]:
    run = cli("git", str(repo.path), "--format", "json", "--quiet", "--jobs", jobs)
    assert run.code == 1, run.err
    return sorted((f["path"], f["line"], f["secret_redacted"]) for f in run.json()["findings"])


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_one_slow_blob_and_idle_workers_lose_nothing(tmp_path: Path, cli: Any, jobs: str) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("x", {"req.log": SLOW_LOG, "a.yaml": f"developer_token: {TOKEN}\n"})
    assert findings(cli, repo, jobs) == [("a.yaml", 1, "Zk3m…_g")]


def test_uneven_batches_over_three_workers_agree_with_one(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    small = {f"s/{n}.txt": f"n = {n}\n" for n in range(discover.BATCH * 2 + 10)}
    small["slow/req.log"] = SLOW_LOG
    small["s/0.env"] = f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"
    repo.commit("many", small)
    repo.commit("late", {"z/late.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN[:-2]}zz\n"})
    expected = [("s/0.env", 1, "Zk3m…_g"), ("z/late.env", 1, "Zk3m…zz")]
    assert findings(cli, repo, "1") == expected
    assert findings(cli, repo, "3") == expected


@pytest.mark.parametrize(
    ("how", "said"),
    [
        (lambda: os._exit(0), "a blob reader stopped (exit code 0) before it reported"),
        (
            lambda: os.kill(os.getpid(), signal.SIGKILL),
            "a blob reader was killed by signal 9 before it reported",
        ),
    ],
)
def test_a_worker_that_dies_without_reporting_is_a_clear_error(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, how: Any, said: str
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("x", {"a.yaml": f"developer_token: {TOKEN}\n"})
    scan, parent = blobscan.BlobScanner.feed_all, os.getpid()

    def in_workers_only(*args: Any) -> Any:
        return scan(*args) if os.getpid() == parent else how()

    monkeypatch.setattr(blobscan.BlobScanner, "feed_all", in_workers_only)
    run = cli("git", str(repo.path), "--jobs", "2")
    assert (run.code, run.err.strip()) == (2, f"devtoken: error: {said}")


# A child scan whose workers fail after the parent filled the task queue.
FAILING_WORKERS = """
import os, sys, time
import scanner.git.parallel as parallel

scan, parent = parallel.BlobScanner.feed_all, os.getpid()

def fail(*args):
    if os.getpid() == parent:
        return scan(*args)
    time.sleep(1.0)  # long enough for the parent to queue every batch it may
    raise RuntimeError("reader failed")

parallel.BlobScanner.feed_all = fail
from scanner.cli import main
sys.exit(main(["git", sys.argv[1], "--jobs", "2", "--quiet"]))
"""


def test_a_failed_scan_with_batches_still_queued_exits_at_once(tmp_path: Path) -> None:
    """The queued batches are dropped: the process must not hang flushing them at exit."""
    repo = Repo(tmp_path / "repo")
    blobs = discover.BATCH * 24  # far more queued names than a pipe buffer holds
    stream = b"".join(
        b"blob\nmark :%d\ndata %d\n%s\n" % (n + 1, len(b"v%d" % n), b"v%d" % n)
        for n in range(blobs)
    )
    stream += b"commit refs/heads/main\ncommitter A <a@b.c> 1700000000 +0000\ndata 4\nmany\n"
    stream += b"".join(b"M 100644 :%d f/%d.txt\n" % (n + 1, n) for n in range(blobs))
    repo.git("fast-import", "--quiet", input=stream)
    done = subprocess.run(
        [sys.executable, "-c", FAILING_WORKERS, str(repo.path)],
        capture_output=True,
        env=loopback_env(),
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr.decode().strip()) == (
        2,
        "devtoken: error: RuntimeError: reader failed",
    )


# A child scan whose history walk stalls after its first batch (the workers wait for more).
STALLED_WALK = """
import sys, time
import scanner.git.scan_history as scan_history

real = scan_history.batches

def stalled(names):
    yield from real(names)
    print("walked", flush=True)
    time.sleep(600)

scan_history.batches = stalled
from scanner.cli import main
main(["git", sys.argv[1], "--jobs", "2", "--quiet"])
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_workers_do_not_outlive_a_killed_scan(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("x", {"a.yaml": f"developer_token: {TOKEN}\n"})
    scan = subprocess.Popen(
        [sys.executable, "-c", STALLED_WALK, str(repo.path)],
        stdout=subprocess.PIPE,
        env=loopback_env(),
    )
    assert scan.stdout is not None and scan.stdout.readline() == b"walked\n"
    with open(f"/proc/{scan.pid}/task/{scan.pid}/children") as children:
        workers = [int(pid) for pid in children.read().split()]
    assert len(workers) == 2
    scan.kill()
    scan.wait()
    deadline = time.monotonic() + 15
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
