"""Issue 10's Dask acceptance: the same org scan through `--scheduler` on a
`distributed.LocalCluster(processes=True, n_workers=2)` started here finds exactly what the
process pool finds, and a worker SIGKILLed while it runs a scan task is survived: the task
runs again elsewhere, the run completes, nothing is recorded twice. Each scan task runs on
the worker whose mirror its repository's fetch filled."""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, require
from tests.org.orgfixture import (
    OWNER,
    RunResult,
    Template,
    big_template,
    journal,
    new_blobs,
    scans_per_repository,
    stored_occurrences,
    wait_for,
)
from tests.org.orgfixture import open_org as open_org

__all__ = ["big_template"]

BIG = f"{OWNER}/big"


def identity(run: RunResult) -> set[tuple[Any, ...]]:
    """What must match between the two runs: where each finding is, and what it is."""
    return {
        (f["repository"], f["path"], f["line"], f["rule_id"], f["commit"], f["fingerprint"])
        for f in run.doc["findings"]
    }


def considered(run: RunResult) -> dict[str, int]:
    """Per repository, the blobs scanned or skipped as already known clean."""
    return {
        r["name"]: r["blobs_scanned"] + r.get("blobs_skipped_known", 0)
        for r in run.doc["repositories"]
        if r["status"] != "failed"
    }


def test_a_dask_cluster_finds_what_the_pool_finds_and_survives_a_killed_worker(
    big_template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(importlib.util.find_spec("distributed"), "distributed (pip install 'devtoken[dask]')")
    distributed: Any = importlib.import_module("distributed")  # untyped

    with open_org(big_template, tmp_path / "org") as org:
        org.state = "pool"
        pool = org.run()
        assert pool.code == 1, pool.err
        assert pool.found() == org.expected()

        org.state = "dask"
        monkeypatch.setenv("PYTHONPATH", str(REPO))  # the workers import this checkout
        with (
            distributed.LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                resources={"GIT": 2},
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            report = tmp_path / "dask.json"
            run = org.start("--scheduler", cluster.scheduler_address, "-o", str(report))
            fetched = lambda: journal(org.store).get(BIG) == "fetched"  # noqa: E731
            wait_for("the big repository's fetch", fetched, run)
            # "fetched" is journalled before the scan task is submitted, and a submitted task
            # reaches a worker a moment later: poll the scheduler, never read it once.
            busy: list[str] = []

            def scanning() -> bool:
                busy[:] = [
                    worker
                    for worker, keys in client.processing().items()
                    if any(str(k).startswith("devtoken-scan-") for k in keys)
                ]
                return bool(busy)

            wait_for("a worker running a scan task", scanning, run)
            pids = client.run(os.getpid)
            os.kill(pids[busy[0]], signal.SIGKILL)
            code = run.wait(timeout=180)
            err = run.stderr.read().decode() if run.stderr else ""
            replaced = client.run(os.getpid)
        assert pids[busy[0]] not in replaced.values()
        dask = RunResult(code, json.loads(report.read_text()), err, 0.0)

    assert dask.code == pool.code, dask.err
    # A scan task goes to the worker whose mirror its fetch filled; only one whose worker was
    # killed runs elsewhere (and fetches there again). The pool's runs name no worker.
    placed = [
        (r["fetched_on"], r["scanned_on"]) for r in dask.doc["repositories"] if r["scanned_on"]
    ]
    assert [f for f, s in placed if f != s and f != busy[0]] == [], placed
    # the scan the kill interrupted was pinned to a worker that left: it was moved, not lost
    assert [f for f, s in placed if f == busy[0] and s != f], placed
    assert set(pids) <= {f for f, _ in placed}  # both workers fetched: the check means something
    assert {(r["fetched_on"], r["scanned_on"]) for r in pool.doc["repositories"]} == {(None, None)}
    assert identity(dask) == identity(pool)
    assert dask.statuses() == pool.statuses()
    # Which repository scans a blob many share first is a race; that each is read is not.
    assert considered(dask) == considered(pool)
    assert considered(dask) == {
        n: len(new_blobs(org.git_dir(n), ["--all"], [])) for n in org.scanned_names()
    }
    occurrences = stored_occurrences(org.store)
    assert len(occurrences) == len(set(occurrences))
    assert {o[:5] for o in occurrences} == org.expected()
    assert scans_per_repository(org.store) == dict.fromkeys(org.scanned_names(), 1)
