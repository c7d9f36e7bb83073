"""Issue 10's resume acceptance: `devtoken org` SIGKILLed mid-fetch, mid-scan and mid-record
(the whole process group, as a crash would), then run again until it completes. The store
must hold every finding exactly once, every repository recorded once, and the webhook
listener on 127.0.0.1 must have each incident's notice once, and nothing more on a rerun.

The kill points are found, not timed: mid-fetch is while a slow TCP proxy holds the big
repository's clone open; mid-scan and mid-record are read from the store's run journal
(the big repository `fetched`, then `scanned`), whose scan takes long enough to land in.
"""

from __future__ import annotations

from pathlib import Path

from tests.fakes.listeners import HttpReceiver
from tests.org.orgfixture import (
    MISSING,
    OWNER,
    Template,
    big_template,
    journal,
    kill_run,
    open_org,
    read_rows,
    scans_per_repository,
    served_name,
    stored_occurrences,
    wait_for,
)
from tests.org.servers import SlowProxy

__all__ = ["big_template"]

BIG = f"{OWNER}/big"
GHOST = f"{OWNER}/{MISSING}"


def test_a_run_killed_mid_fetch_mid_scan_and_mid_record_resumes_and_repeats_nothing(
    big_template: Template, tmp_path: Path
) -> None:
    with (
        open_org(big_template, tmp_path / "org") as org,
        SlowProxy(org.daemon.port, delay=1.5) as proxy,
        HttpReceiver() as hook,
    ):
        org.set_clone_url(BIG, proxy.url(served_name(BIG)))
        respond = ("--respond", "webhook", "--send")
        env = {"DEVTOKEN_WEBHOOK_URL": f"{hook.base}/hook", "DEVTOKEN_WEBHOOK_FORMAT": "json"}

        # Mid-fetch: the big repository's clone is held open by the proxy.
        run = org.start(*respond, env=env)
        wait_for("the big repository's clone", proxy.connected.is_set, run)
        kill_run(run)
        assert journal(org.store)[BIG] == "discovered"

        # Mid-scan: it is fetched, its scan task is running.
        run = org.start(*respond, env=env)
        wait_for(
            "the big repository fetched", lambda: journal(org.store).get(BIG) == "fetched", run
        )
        kill_run(run)
        assert journal(org.store)[BIG] == "fetched"

        # Mid-record: scanned, its one record transaction under way.
        run = org.start(*respond, env=env)
        wait_for(
            "the big repository scanned", lambda: journal(org.store).get(BIG) == "scanned", run
        )
        kill_run(run)
        assert journal(org.store)[BIG] == "scanned"
        assert BIG not in scans_per_repository(org.store)  # nothing of its record is left
        assert not [o for o in stored_occurrences(org.store) if o[0] == BIG]
        assert hook.requests == []  # notices go out only once every repository is done

        final = org.run(*respond, env=env)
        assert final.code == 1, final.err
        assert final.found() == org.expected()
        occurrences = stored_occurrences(org.store)
        assert len(occurrences) == len(set(occurrences))
        assert {o[:5] for o in occurrences} == org.expected()
        assert scans_per_repository(org.store) == dict.fromkeys(org.scanned_names(), 1)
        assert journal(org.store) == {
            **dict.fromkeys(org.scanned_names(), "recorded"),
            GHOST: "failed",
        }
        assert [r[0] for r in read_rows(org.store, "SELECT count(*) FROM org_runs")] == [1]

        # One notice per incident of the organisation (its id, then its credential set's
        # digest), every incident new in this run, none twice.
        notices = hook.json_bodies("/hook")
        incidents = [notice["incident"] for notice in notices]
        assert len(incidents) == len(set(incidents))
        assert sorted(i.split(".")[0] for i in incidents) == sorted(
            incident["id"] for incident in final.doc["incidents"]
        )
        assert {incident["new"] for incident in final.doc["incidents"]} == {True}
        assert len(incidents) > len(org.scanned_names())

        again = org.run(*respond, env=env)
        assert again.doc["stats"]["blobs_scanned"] == 0
        assert len(hook.requests) == len(notices)
        assert scans_per_repository(org.store) == dict.fromkeys(org.scanned_names(), 2)
