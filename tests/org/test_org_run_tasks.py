"""The org scan's worker tasks, called in-process: what crosses back to the driver."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from scanner.org.listed import ListedSource, list_listed
from scanner.org.repositories import Filters
from scanner.org.tasks import EngineSpec, fetch_task, scan_task
from scanner.rules import load_rules, ruleset_key
from scanner.secret import fingerprint
from tests.gitrepo import Repo

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"


def test_a_scan_on_another_worker_mirrors_first_and_sends_back_only_redacted_secrets(
    tmp_path: Path,
) -> None:
    work = Repo(tmp_path / "work")
    work.commit("leak", {"config/google-ads.yaml": f"developer_token: {TOKEN}\n"})
    (ref,) = list_listed(ListedSource((str(work.path),)), Filters()).refs
    fetched = fetch_task(ref, str(tmp_path / "fetcher"), 60.0, (), ())
    assert (fetched.error, len(fetched.candidates)) == (None, 1)
    rules = load_rules()
    spec = EngineSpec(rules, ruleset_key(rules))
    tips = tuple(fetched.tips.values())
    # another worker: its own cache has no mirror yet
    kept = scan_task(ref, str(tmp_path / "scanner"), 60.0, (), (), tips, (), frozenset(), spec)
    wire = pickle.dumps(kept)
    assert TOKEN.encode() not in wire
    back = pickle.loads(wire)
    assert back.result is not None
    (finding,) = back.result.findings
    assert finding.fingerprint == fingerprint("google-ads-developer-token", TOKEN)
    assert finding.match.secret.redacted == "Zk3m…_g"
    assert back.scanned == [(fetched.candidates[0], 1)]
    assert (tmp_path / "scanner" / ref.key / "repo.git").is_dir()

    revealed = scan_task(
        ref, str(tmp_path / "scanner"), 60.0, (), (), tips, (), frozenset(), spec, reveal=True
    )
    assert revealed.result is not None
    assert revealed.result.findings[0].match.secret.reveal() == TOKEN
    skipped = scan_task(
        ref, str(tmp_path / "scanner"), 60.0, (), (), tips, (), frozenset(fetched.candidates), spec
    )
    assert (skipped.scanned, skipped.skipped_known) == ([], 1)


def test_the_cluster_executor_asks_for_a_git_slot_only_where_workers_offer_one() -> None:
    import distributed

    from scanner.org.executor import make_executor

    local_cluster: Any = distributed.LocalCluster  # untyped

    for resources, offered in (({"GIT": 1}, True), ({}, False)):
        with (
            local_cluster(
                n_workers=1, processes=False, resources=resources, dashboard_address=None
            ) as cluster,
            make_executor(1, cluster.scheduler_address) as executor,
        ):
            assert (executor.distributed, executor.git_resource) == (True, offered)
            future = executor.submit_task(pow, (2, 5), key="devtoken-test-pow", git=True)
            assert future.result(timeout=30) == 32
