"""render/scan_incidents.py: a live scan as incidents, equal to the store's report of it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner import api
from scanner.bundles import Bundle, make_bundles
from scanner.config import ScanConfig
from scanner.render.incidents import Incident, load_incidents
from scanner.render.scan_incidents import incidents_of_scan
from scanner.verify.outcomes import BundleVerification, Verification
from tests.gitrepo import Repo
from tests.render.literals import scan_result

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
SECRET = "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"
REFRESH = "1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7"
CLEAR = (T, SECRET, REFRESH)
KEY_ID = "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f"
SA_KEY = (
    f'{{"type": "service_account", "private_key_id": "{KEY_ID}", "private_key": '
    '"-----BEGIN PRIVATE KEY-----\\n'
    '5ZVnk19J9zLJTqqGiasTz6eCAmpEElUbygyDvxwJa+sae3FFoxbtGQpH4uqTNv1f\\n-----END PRIVATE KEY-----\\n",'
    ' "client_email": "r@p.iam.gserviceaccount.com"}\n'
)


def _config() -> api.Config:
    return api.Config(scan=ScanConfig(jobs=1))


def _verify(reviewed: api.Reviewed) -> None:
    """Outcomes as a verifier would leave them: the first bundle live with reach, the
    second invalid for the bundle and unknown for its first member, the rest unchecked."""
    bundles = sorted(reviewed.result.bundles, key=lambda b: b.id)
    live = Verification("live", "the token opens 2 customers", ("1234567890", "2345678901"))
    reviewed.result.verifications[bundles[0].id] = BundleVerification(
        bundles[0].id, live, {f.fingerprint: live for f in bundles[0].members}
    )
    invalid = Verification("invalid", "invalid_client")
    first = bundles[1].members[0].fingerprint
    reviewed.result.verifications[bundles[1].id] = BundleVerification(
        bundles[1].id, invalid, {first: Verification("unknown", "HTTP 503")}
    )


def _both(reviewed: api.Reviewed, store_file: Path) -> tuple[list[Incident], list[Incident]]:
    """(the store's incidents of the recorded scan, the live scan's), stamped alike."""
    with api.open_store(str(store_file), create=True) as store:
        api.record(reviewed, store)
        stored = load_incidents(store)
        (stamp,) = [row["started"] for row in store.rows("SELECT started FROM scans")]
    return stored, incidents_of_scan(reviewed, seen=stamp)


def _no_clear_secret(incidents: list[Incident]) -> None:
    shown = repr(incidents)
    assert [s for s in CLEAR if s in shown] == []


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Bundles of every shape: four roles with a login customer id, the same token in a
    second file, one token twice in a file (two places, one member) and twice on a line
    (one place), a service-account key, a file name that is not UTF-8."""
    monkeypatch.chdir(tmp_path)  # no ./.devtokenignore of ours applies
    root = tmp_path / "tree"
    root.mkdir()
    (root / "google-ads.yaml").write_text(
        f"developer_token: {T}\nclient_secret: {SECRET}\nrefresh_token: {REFRESH}\n"
        "client_id: 278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com\n"
        "login_customer_id: 1234567890\n"
    )
    (root / "copy.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={T}\n")
    (root / "twice.env").write_text(
        f"GOOGLE_ADS_DEVELOPER_TOKEN={T}\n#\nGOOGLE_ADS_DEVELOPER_TOKEN={T}\n"
        f"developer_token: {T} developer_token: {T}\n"
    )
    (root / "sa.json").write_text(SA_KEY)
    with open(os.path.join(os.fsencode(root), b"bad\xff.env"), "wb") as handle:
        handle.write(f"GOOGLE_ADS_DEVELOPER_TOKEN={T}\n".encode())
    return root


def test_a_files_scan_gives_the_store_s_incidents(tree: Path, tmp_path: Path) -> None:
    config = api.Config(scan=ScanConfig(paths=(str(tree),), jobs=1))
    reviewed = api.review(api.scan_paths(config), config, "files", str(tree))
    _verify(reviewed)
    stored, live = _both(reviewed, tmp_path / "s.sqlite")
    assert live == stored
    # what the equality covers: every shape above is there
    where = {i.location.removeprefix(str(tree) + "/"): i for i in live}
    assert sorted(where) == [
        "bad\\xff.env:1",
        "copy.env:1",
        "google-ads.yaml:1",
        "sa.json:1",
        "twice.env:1",
    ]
    twice = where["twice.env:1"]
    (member,) = twice.members
    assert [(o.line, o.column) for o in member.occurrences] == [(1, 28), (3, 28), (4, 18)]
    assert where["google-ads.yaml:1"].roles == (
        "client_id",
        "client_secret",
        "developer_token",
        "refresh_token",
    )
    assert where["google-ads.yaml:1"].login_customer_id == "1234567890"
    assert where["sa.json:1"].client_email == "r@p.iam.gserviceaccount.com"
    assert where["sa.json:1"].private_key_id == KEY_ID
    (key,) = where["sa.json:1"].members
    assert key.secret_redacted == "-----BEGIN PRIVATE KEY-----… (key id 3f1c0e9a7b5d…)"
    assert [i.private_key_id for i in live].count(None) == 4
    statuses = sorted(i.verification["status"] for i in live)
    assert statuses == ["invalid", "live", "skipped", "skipped", "skipped"]
    (checked,) = [i for i in live if i.verification["status"] == "live"]
    assert checked.verification["reach"] == ["1234567890", "2345678901"]
    assert {o.repository for i in live for m in i.members for o in m.occurrences} == {"(files)"}
    _no_clear_secret(live)


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A token added, removed and added again elsewhere, a bundle of three, a remote."""
    monkeypatch.chdir(tmp_path)
    repo = Repo(tmp_path / "repo")
    repo.commit("add config", {"conf/app.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={T}\n"})
    repo.commit("remove it", remove=("conf/app.env",))
    repo.commit(
        "ads config",
        {"ads.yaml": f"developer_token: {T}\nclient_secret: {SECRET}\nrefresh_token: {REFRESH}\n"},
    )
    repo.commit("service account", {"sa.json": SA_KEY})
    repo.git("remote", "add", "origin", "https://ci:tok3n@github.com/acme/ads.git")
    return repo


def test_a_history_scan_gives_the_store_s_incidents(history: Repo, tmp_path: Path) -> None:
    config = _config()
    result = api.scan_history(config, str(history.path))
    reviewed = api.review(result, config, "git", str(history.path))
    _verify(reviewed)
    stored, live = _both(reviewed, tmp_path / "s.sqlite")
    assert live == stored
    where = {i.location.split(" @ ")[0]: i for i in live}
    assert sorted(where) == ["ads.yaml:1", "conf/app.env:1", "sa.json:1"]
    # the key id came through the history scan (blob matches) as through a files scan
    assert {name: i.private_key_id for name, i in where.items()} == {
        "ads.yaml:1": None,
        "conf/app.env:1": None,
        "sa.json:1": KEY_ID,
    }
    assert where["sa.json:1"].members[0].secret_redacted == (
        "-----BEGIN PRIVATE KEY-----… (key id 3f1c0e9a7b5d…)"
    )
    assert {i.repositories for i in live} == {(str(history.path),)}
    assert {i.repository_names for i in live} == {("acme/ads",)}
    removed = [
        o for i in live for m in i.members for o in m.occurrences if o.path == "conf/app.env"
    ]
    (seen,) = removed
    assert (seen.author, seen.message, seen.exposure is not None) == (
        "Test Author",
        "add config",
        True,
    )
    assert seen.exposure and seen.exposure["removed_commit"] == history.git(
        "rev-list", "-1", "HEAD~2"
    )
    assert seen.web_url == (f"https://github.com/acme/ads/blob/{seen.commit}/conf/app.env#L1")
    _no_clear_secret(live)
    assert "tok3n" not in repr(
        [o.repository for i in live for m in i.members for o in m.occurrences]
    )


def test_a_bare_result_is_bundled_here_and_files_name_no_repository() -> None:
    result = scan_result()
    (live,) = incidents_of_scan(result, seen="2026-01-02T03:04:05+00:00")
    (bundle,) = make_bundles(result.findings)
    assert (live.id, live.location, live.roles) == (bundle.id, "app.yaml:1", ("developer_token",))
    (member,) = live.members
    assert (member.secret_redacted, member.status, member.first_seen, member.verification) == (
        "Zk3m…_g",
        "open",
        "2026-01-02T03:04:05+00:00",
        {"status": "skipped", "reason": "not verified (run a scan with --verify)"},
    )
    (place,) = member.occurrences
    assert (place.repo, place.commit, place.remote, place.web_url) == ("", "", "", None)
    assert (live.project, live.new) == (None, False)


def test_a_staged_scan_names_no_repository() -> None:
    @dataclass
    class Staged:
        result: Any
        kind: str = "staged"

    result = scan_result()
    result.extra_stats = {"repo": "/r", "remote_url": ""}  # only a history scan keeps its repo
    (live,) = incidents_of_scan(Staged(result))  # type: ignore[arg-type]
    assert live.repositories == ()
    (git,) = incidents_of_scan(result)
    assert git.repositories == ("/r",)


def test_a_bundle_s_project_becomes_the_incident_s() -> None:
    @dataclass(frozen=True)
    class ProjectBundle(Bundle):  # what bundles.py gains for the org scan
        project: str | None = None

    result = scan_result()
    (bundle,) = make_bundles(result.findings)
    result.bundles = [ProjectBundle(bundle.id, bundle.members, project="ads-prod-4711")]
    (live,) = incidents_of_scan(result)
    assert live.project == "ads-prod-4711"
