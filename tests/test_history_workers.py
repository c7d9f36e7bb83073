"""The worker pool under uneven loads: a worker that finishes early is done, not dead.

Real repositories where one worker gets all the slow work (or none at all) and
the others finish well before it; every finding must come back whatever the
number of workers, and a worker that really dies must be a clear error.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from scanner.git import discover, parallel
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
    monkeypatch.setattr(parallel.BlobScanner, "feed_all", lambda *_: how())
    run = cli("git", str(repo.path), "--jobs", "2")
    assert (run.code, run.err.strip()) == (2, f"devtoken: error: {said}")
