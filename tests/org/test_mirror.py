"""The mirror cache against real repositories served by `git daemon` and file:// URLs."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.git.mirror import HELD_PREFIX, HttpAuth, RefChange
from scanner.org.listed import ListedSource, list_listed
from scanner.org.mirror import MirrorCache, disk_bytes
from scanner.org.repositories import Filters, Listing, RepositoryRef
from tests.conftest import REPO
from tests.gitrepo import Repo
from tests.org.servers import GitDaemon, RecordingHttp, SilentListener

SOURCE = "github:example/acme"
T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[GitDaemon]:
    (tmp_path / "served").mkdir()
    with GitDaemon(tmp_path / "served") as daemon:
        yield daemon


@pytest.fixture
def cache(tmp_path: Path) -> MirrorCache:
    return MirrorCache(tmp_path / "cache" / "mirrors", timeout=60)


def upstream(daemon: GitDaemon, name: str) -> Repo:
    repo = Repo(daemon.base / name)
    repo.commit("first", {"README.md": "hello\n"})
    return repo


def ref_of(
    daemon: GitDaemon, name: str, stable_id: str, pushed_at: datetime | None = T0
) -> RepositoryRef:
    return RepositoryRef(
        host_kind="github",
        host="example",
        stable_id=stable_id,
        full_name=f"acme/{name}",
        clone_url=daemon.url(name),
        default_branch="main",
        pushed_at=pushed_at,
        source=SOURCE,
    )


def git(git_dir: str | Path, *args: str) -> str:
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, check=False, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else f"<rc {done.returncode}>"


def object_count(git_dir: str) -> int:
    stats = dict(line.split(": ") for line in git(git_dir, "count-objects", "-v").splitlines())
    return int(stats["count"]) + int(stats["in-pack"])


def test_first_sight_clones_a_private_mirror_with_gc_off(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    repo.git("tag", "v1")
    tip = repo.git("rev-parse", "HEAD")
    [result] = cache.sync([ref_of(served, "svc", "42")])
    assert (result.status, result.error, result.before) == ("cloned", None, {})
    assert result.after == {"refs/heads/main": tip, "refs/tags/v1": tip}
    assert result.changes == (
        RefChange("refs/heads/main", None, tip, "created"),
        RefChange("refs/tags/v1", None, tip, "created"),
    )
    assert result.path == str(cache.root / "github-example-42" / "repo.git")
    assert git(result.path, "config", "gc.auto") == "0"
    assert git(result.path, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    meta = cache.read_meta("github-example-42")
    assert meta is not None
    assert {k: meta[k] for k in ("full_name", "url", "stable_id", "status", "pushed_at")} == {
        "full_name": "acme/svc",
        "url": served.url("svc"),
        "stable_id": "42",
        "status": "cloned",
        "pushed_at": T0.isoformat(),
    }
    assert not any(p.name.endswith(".partial") for p in cache.root.rglob("*"))


def test_an_update_fetches_only_new_commits_and_reports_both_tips(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    old = repo.git("rev-parse", "HEAD")
    [first] = cache.sync([ref_of(served, "svc", "42")])
    objects = object_count(first.path)
    new = repo.commit("second", {"notes.txt": "more\n"})
    later = T0.replace(day=2)
    [second] = cache.sync([ref_of(served, "svc", "42", pushed_at=later)])
    assert second.status == "updated"
    assert (second.before, second.after) == ({"refs/heads/main": old}, {"refs/heads/main": new})
    assert second.changes == (RefChange("refs/heads/main", old, new, "updated"),)
    assert second.held == ()
    assert object_count(second.path) == objects + 3  # one commit, its tree, one blob


def test_nightly_fetches_do_not_pile_up_packs_or_loose_objects(
    served: GitDaemon, cache: MirrorCache
) -> None:
    """gc stays off (it would drop what a force-push orphaned before it is scanned), yet
    each fetch's objects are rolled into few packs, every object kept."""
    repo = upstream(served, "svc")
    [first] = cache.sync([ref_of(served, "svc", "42")])
    objects = object_count(first.path)
    for night in range(8):
        repo.commit(f"night {night}", {f"notes/{night}.txt": f"entry {night}\n"})
        cache.sync([ref_of(served, "svc", "42")], force=True)
    stats = dict(line.split(": ") for line in git(first.path, "count-objects", "-v").splitlines())
    assert (int(stats["count"]), int(stats["in-pack"])) == (0, objects + 8 * 4)
    assert int(stats["packs"]) <= 3  # 9 fetches: geometric, not one pack per fetch
    assert git(first.path, "config", "gc.auto") == "0"


def test_an_unpushed_repository_costs_no_git_unless_forced(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    old = repo.git("rev-parse", "HEAD")
    cache.sync([ref_of(served, "svc", "42")])
    new = repo.commit("second", {"notes.txt": "more\n"})
    [same] = cache.sync([ref_of(served, "svc", "42")])
    assert (same.status, same.before, same.after) == ("unchanged", {}, {})
    assert git(same.path, "rev-parse", "refs/heads/main") == old
    [forced] = cache.sync([ref_of(served, "svc", "42")], force=True)
    assert (forced.status, forced.after) == ("updated", {"refs/heads/main": new})


def test_an_activity_time_that_may_lag_never_skips_a_fetch(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    lagging = dataclasses.replace(ref_of(served, "svc", "42"), pushed_at_lag=3600.0)
    cache.sync([lagging])
    new = repo.commit("second", {"notes.txt": "more\n"})
    [again] = cache.sync([lagging])
    assert (again.status, again.after) == ("updated", {"refs/heads/main": new})


def test_a_force_push_is_detected_and_the_old_tip_held_until_released(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    leaked = repo.commit("oops", {"config.yaml": "developer_token: x\n"})
    [first] = cache.sync([ref_of(served, "svc", "42")])
    repo.git("reset", "-q", "--hard", "HEAD~1")
    rewritten = repo.commit("clean", {"config.yaml": "developer_token: ${TOKEN}\n"})
    [second] = cache.sync([ref_of(served, "svc", "42")], force=True)
    assert second.changes == (
        RefChange("refs/heads/main", leaked, rewritten, "forced", dropped=True),
    )
    assert second.held == (leaked,)
    assert git(first.path, "rev-parse", f"{HELD_PREFIX}{leaked}") == leaked
    assert git(first.path, "cat-file", "-t", leaked) == "commit"
    # A further fetch with --prune keeps the hold: our namespace is outside the refspec.
    [third] = cache.sync([ref_of(served, "svc", "42")], force=True)
    assert (third.status, third.changes) == ("updated", ())
    assert git(first.path, "for-each-ref", "--format=%(refname)", HELD_PREFIX) == (
        f"{HELD_PREFIX}{leaked}"
    )
    cache.release("github-example-42", [leaked])
    assert git(first.path, "for-each-ref", "--format=%(refname)", HELD_PREFIX) == ""


def test_deleted_branches_are_held_only_when_their_commits_dropped_out(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    repo.git("branch", "merged")
    repo.git("checkout", "-q", "-b", "wip")
    lone = repo.commit("wip", {"wip.txt": "draft\n"})
    repo.git("checkout", "-q", "main")
    cache.sync([ref_of(served, "svc", "42")])
    repo.git("branch", "-q", "-D", "wip", "merged")
    [after] = cache.sync([ref_of(served, "svc", "42")], force=True)
    main = repo.git("rev-parse", "main")
    assert after.changes == (
        RefChange("refs/heads/merged", main, None, "deleted", dropped=False),
        RefChange("refs/heads/wip", lone, None, "deleted", dropped=True),
    )
    assert after.held == (lone,)


def test_a_remote_cannot_write_into_the_hold_namespace(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "svc")
    repo.git("update-ref", f"{HELD_PREFIX}{'0' * 40}", "HEAD")
    [result] = cache.sync([ref_of(served, "svc", "42")])
    assert result.after == {"refs/heads/main": repo.git("rev-parse", "HEAD")}
    assert git(result.path, "for-each-ref", HELD_PREFIX) == ""


def test_a_failing_clone_is_a_result_and_the_others_are_still_done(
    served: GitDaemon, cache: MirrorCache
) -> None:
    upstream(served, "one")
    upstream(served, "two")
    refs = [ref_of(served, "one", "1"), ref_of(served, "gone", "2"), ref_of(served, "two", "3")]
    results = cache.sync(refs, jobs=2)
    assert [r.status for r in results] == ["cloned", "failed", "cloned"]
    failed = results[1]
    assert failed.error is not None and failed.error.startswith("git fetch failed: ")
    assert failed.error == "git fetch failed: fatal: remote error: no such repository: /gone"
    assert sorted(os.listdir(cache.root / "github-example-2")) == [".lock", "meta.json"]
    meta = cache.read_meta("github-example-2")
    assert meta is not None and (meta["status"], meta["error"]) == ("failed", failed.error)
    assert "last_fetch" not in meta


def test_two_syncs_of_one_repository_at_once_take_turns(
    served: GitDaemon, cache: MirrorCache
) -> None:
    upstream(served, "svc")
    ref = ref_of(served, "svc", "42")
    twin = MirrorCache(cache.root, timeout=60)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: c.sync_one(ref, force=True), [cache, twin]))
    assert sorted(r.status for r in results) == ["cloned", "updated"]


def test_a_local_filesystem_error_is_a_result_too(served: GitDaemon, cache: MirrorCache) -> None:
    upstream(served, "one")
    blocked = ref_of(served, "blocked", "2")
    (cache.root / blocked.key).write_text("not a directory")
    results = cache.sync([blocked, ref_of(served, "one", "1")])
    assert [(r.status, r.error) for r in results] == [
        ("failed", "FileExistsError: File exists"),
        ("cloned", None),
    ]


def test_an_upstream_that_vanished_fails_its_fetch_but_keeps_the_mirror(
    served: GitDaemon, cache: MirrorCache, tmp_path: Path
) -> None:
    repo = upstream(served, "svc")
    tip = repo.git("rev-parse", "HEAD")
    cache.sync([ref_of(served, "svc", "42")])
    os.rename(served.base / "svc", tmp_path / "elsewhere")
    [result] = cache.sync([ref_of(served, "svc", "42")], force=True)
    assert result.status == "failed"
    assert git(result.path, "rev-parse", "refs/heads/main") == tip


def test_a_repository_missing_from_an_exhaustive_listing_is_marked_deleted(
    served: GitDaemon, cache: MirrorCache
) -> None:
    upstream(served, "keep")
    upstream(served, "drop")
    keep, drop = ref_of(served, "keep", "1"), ref_of(served, "drop", "2")
    other = RepositoryRef("listed", "", "x9", "else/where", served.url("keep"), source="listed")
    cache.sync([keep, drop, other])
    partial = Listing(SOURCE, (keep,), seen_keys=frozenset({keep.key}), exhaustive=False)
    assert cache.mark_missing(partial) == []
    full = Listing(SOURCE, (keep,), seen_keys=frozenset({keep.key}))
    [marked] = cache.mark_missing(full)
    assert (marked.key, marked.full_name, marked.status) == (drop.key, "acme/drop", "deleted")
    assert marked.disk_bytes == disk_bytes(cache.root / drop.key)
    statuses = {key: meta["status"] for key, meta in cache.entries().items()}
    assert statuses == {keep.key: "cloned", drop.key: "deleted", other.key: "cloned"}
    assert Path(marked.path, "HEAD").is_file()  # marked, not removed
    # Seen again (restored upstream): it is a mirror like any other.
    [back] = cache.sync([drop], force=True)
    assert back.status == "updated"
    assert cache.entries()[drop.key]["status"] == "updated"


def test_a_renamed_repository_keeps_its_mirror_and_follows_the_new_url(
    served: GitDaemon, cache: MirrorCache
) -> None:
    repo = upstream(served, "old-name")
    [first] = cache.sync([ref_of(served, "old-name", "42")])
    os.rename(served.base / "old-name", served.base / "new-name")
    new = repo.__class__.__new__(Repo)
    new.path, new.count = served.base / "new-name", repo.count
    tip = new.commit("after rename", {"b.txt": "b\n"})
    [second] = cache.sync([ref_of(served, "new-name", "42", pushed_at=T0.replace(day=3))])
    assert (second.status, second.renamed_from, second.path) == (
        "updated",
        "acme/old-name",
        first.path,
    )
    assert second.after == {"refs/heads/main": tip}
    assert git(second.path, "config", "remote.origin.url") == served.url("new-name")
    meta = cache.read_meta("github-example-42")
    assert meta is not None
    assert (meta["full_name"], meta["url"], meta["previous_names"]) == (
        "acme/new-name",
        served.url("new-name"),
        ["acme/old-name"],
    )


def test_disk_use_is_reported_per_mirror_and_in_total(
    served: GitDaemon, cache: MirrorCache
) -> None:
    upstream(served, "a")
    upstream(served, "b").commit("big", {"data.bin": "x" * 200_000})
    results = cache.sync([ref_of(served, "a", "1"), ref_of(served, "b", "2")])
    usage = cache.disk_usage()
    expected = {
        key: sum(p.lstat().st_blocks * 512 for p in (cache.root / key).rglob("*") if p.is_file())
        for key in ("github-example-1", "github-example-2")
    }
    assert usage.by_key == expected
    assert usage.total == sum(expected.values())
    assert [r.disk_bytes for r in results] == [
        sum(p.lstat().st_blocks * 512 for p in Path(r.path).parent.rglob("*") if p.is_file())
        for r in results
    ]


def test_listed_local_paths_mirror_over_file_urls(tmp_path: Path, cache: MirrorCache) -> None:
    repo = Repo(tmp_path / "local" / "tool")
    tip = repo.commit("first", {"a.txt": "a\n"})
    listing = list_listed(ListedSource((str(repo.path), f"file://{repo.path}")), Filters())
    [ref] = listing.refs
    assert (ref.clone_url, ref.full_name) == (f"file://{repo.path}", "local/tool")
    [result] = cache.sync(listing.refs)
    assert (result.status, result.after) == ("cloned", {"refs/heads/main": tip})


def test_an_api_listed_repository_may_not_point_git_at_local_files(
    tmp_path: Path, cache: MirrorCache
) -> None:
    repo = Repo(tmp_path / "local" / "private")
    repo.commit("first", {"a.txt": "a\n"})
    hostile = RepositoryRef("github", "example", "7", "acme/x", f"file://{repo.path}")
    [result] = cache.sync([hostile])
    assert result.status == "failed"
    assert result.error is not None and "transport 'file' not allowed" in result.error


def test_a_hung_fetch_is_killed_at_the_timeout(tmp_path: Path) -> None:
    cache = MirrorCache(tmp_path / "mirrors", timeout=1)
    with SilentListener() as listener:
        hung = RepositoryRef(
            "listed", "127.0.0.1", "h", "x/hang", f"git://127.0.0.1:{listener.port}/x"
        )
        [result] = cache.sync([hung])
        assert (result.status, result.error) == ("failed", "git fetch timed out after 1s")
        assert listener.closed.wait(10)
    assert sorted(os.listdir(tmp_path / "mirrors" / hung.key)) == [".lock", "meta.json"]


def test_a_token_goes_to_its_own_host_in_a_header_and_nowhere_on_disk(tmp_path: Path) -> None:
    token = "ghp_" + "t0k3n" * 7
    with RecordingHttp() as mine, RecordingHttp() as other:
        auth = HttpAuth(f"{mine.base}/", "x-access-token", token)
        cache = MirrorCache(tmp_path / "mirrors", timeout=30, auths=[auth])
        refs = [
            RepositoryRef("listed", "h", "1", "acme/svc", f"{mine.base}/acme/svc.git"),
            RepositoryRef("listed", "h", "2", "evil/svc", f"{other.base}/evil/svc.git"),
            RepositoryRef(
                "listed", "h", "3", "acme/pw", f"http://me:hunter2@{mine.base[7:]}/pw.git"
            ),
        ]
        results = cache.sync(refs)
    basic = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert [r.status for r in results] == ["failed"] * 3
    assert mine.seen[0] == ("/acme/svc.git/info/refs?service=git-upload-pack", basic)
    assert other.seen == [("/evil/svc.git/info/refs?service=git-upload-pack", None)]
    assert mine.seen[1] == ("/pw.git/info/refs?service=git-upload-pack", basic)
    assert results[2].url == f"{mine.base}/pw.git"
    for path in (tmp_path / "mirrors").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and b"hunter2" not in data, path
    assert all(token not in (r.error or "") for r in results)
    assert token not in repr(auth)


def test_meta_is_json_and_private(served: GitDaemon, cache: MirrorCache) -> None:
    upstream(served, "svc")
    [result] = cache.sync([ref_of(served, "svc", "42")])
    meta_path = Path(result.path).parent / "meta.json"
    assert stat.S_IMODE(meta_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(meta_path.parent.stat().st_mode) == 0o700
    assert json.loads(meta_path.read_text())["key"] == "github-example-42"


MAKE_REPO = REPO.parent / "shared" / "bench" / "make_repo.py"


@pytest.mark.skipif(not MAKE_REPO.is_file(), reason="the shared benchmark builder is not here")
def test_a_realistic_history_mirrors_whole_and_intact(
    served: GitDaemon, cache: MirrorCache
) -> None:
    out = served.base / "realistic"
    subprocess.run(
        [
            sys.executable,
            str(MAKE_REPO),
            "--out",
            str(out),
            "--seed",
            "7",
            "--commits",
            "25",
            "--files",
            "40",
            "--plants",
            "5",
        ],
        check=True,
        capture_output=True,
    )
    [result] = cache.sync([ref_of(served, "realistic", "77")])
    assert result.status == "cloned"
    assert result.after == {"refs/heads/main": git(out / ".git", "rev-parse", "main")}
    assert git(result.path, "rev-list", "--all", "--count") == "25"
    assert git(result.path, "fsck", "--no-progress") == ""
