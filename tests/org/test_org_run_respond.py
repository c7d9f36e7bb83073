"""`devtoken org --verify --respond`: each credential set is checked once per run, however
many repositories hold it, and only new incidents are notified (once: the actions table)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.fakes.listeners import HttpReceiver
from tests.fakes.oauth_server import FakeOAuth
from tests.gitrepo import Repo

CLIENT_ID = "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com"
SECRET = "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"
TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"


def test_one_credential_in_two_repositories_is_verified_once_and_notified_once_per_incident(
    cli: Callable[..., CliRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = {}
    for name in ("one", "two"):
        repos[name] = Repo(tmp_path / name)
        repos[name].commit("start", {"README.md": f"# {name}\n"})  # two histories
        repos[name].commit(
            "oauth", {"config/oauth.yaml": f"client_id: {CLIENT_ID}\nclient_secret: {SECRET}\n"}
        )
    with FakeOAuth() as oauth, HttpReceiver() as hook:
        monkeypatch.setenv("DEVTOKEN_OAUTH_TOKEN_URL", oauth.url)
        monkeypatch.setenv("DEVTOKEN_VERIFY_TIMEOUT", "2")
        monkeypatch.setenv("DEVTOKEN_WEBHOOK_URL", f"{hook.base}/hook")
        monkeypatch.setenv("DEVTOKEN_WEBHOOK_FORMAT", "json")
        args = [
            "org",
            *("--repo", str(repos["one"].path), "--repo", str(repos["two"].path)),
            *("--store", str(tmp_path / "s.sqlite"), "--cache", str(tmp_path / "c")),
            *("--jobs", "2", "--verify", "--respond", "webhook", "--send"),
            *("--format", "json", "--quiet"),
        ]
        first = cli(*args)
        doc = json.loads(first.out)
        assert first.code == 1
        assert len(oauth.requests) == 1  # one client pair, in two repositories
        statuses = {(f["repository"], f["verification"]["status"]) for f in doc["findings"]}
        assert len({status for _, status in statuses}) == 1
        assert {status for _, status in statuses} != {"skipped"}
        assert len(hook.requests) == 1  # one incident of the organisation: one notice
        urls = sorted(f"file://{repo.path}" for repo in repos.values())
        assert all(url in hook.requests[0]["body"] for url in urls)
        (incident,) = doc["incidents"]
        assert (incident["repositories"], len(incident["bundles"]), incident["new"]) == (
            urls,
            2,
            True,
        )
        assert SECRET not in first.out + first.err

        second = cli(*args)
        assert second.code == 1
        assert (len(oauth.requests), len(hook.requests)) == (1, 1)  # nothing new: no call

        repos["one"].commit("token", {"deploy/.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
        third = cli(*args)
        assert third.code == 1
        assert len(hook.requests) == 2  # only the new incident
        bodies = [json.loads(r["body"]) for r in hook.requests]
        assert len({json.dumps(b, sort_keys=True) for b in bodies}) == 2
