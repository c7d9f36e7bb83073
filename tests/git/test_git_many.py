"""`devtoken git A B URL`: several repositories and clone URLs in one report. Real
repositories in temp dirs; URLs served by `git daemon` and an HTTP listener on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.api import is_clone_url
from scanner.org.listed import ListedSource, list_listed
from scanner.org.mirror import MirrorCache
from scanner.org.repositories import Filters
from tests.gitrepo import Repo
from tests.org.servers import GitDaemon, RecordingHttp

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
OTHER = "Qm3xK9_pL2vN8rT4wY6zA1"


def _repo(path: Path, token: str, name: str = "google-ads.yaml") -> Repo:
    repo = Repo(path)
    repo.commit(f"add {name}", {name: f"developer_token: {token}\n"})
    return repo


def _found(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["repo"], f["path"], f["secret_redacted"]) for f in doc["findings"]]


def test_several_repositories_are_one_report_each_finding_naming_its_own(
    tmp_path: Path, cli: Any
) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", OTHER, "config.yaml")
    b.git("remote", "add", "origin", "https://deploy:hunter22@git.example/acme/b.git")
    for repo in (a, b):
        repo.git("tag", "-a", "v1", "-m", "release one")
    b.git("tag", "-a", "v2", "-m", "release two")
    run = cli("git", str(a.path), str(b.path), "--format", "json")
    assert run.code == 1
    doc = run.json()
    assert _found(doc) == [
        (str(a.path), "google-ads.yaml", "Zk3m…_g"),
        (str(b.path), "config.yaml", "Qm3x…A1"),
    ]
    # the remote as reports label it, without the credentials written into it
    assert [f["remote_url"] for f in doc["findings"]] == ["", "https://git.example/acme/b.git"]
    assert "hunter22" not in json.dumps(doc["findings"])
    stats = doc["stats"]
    assert [s["repo"] for s in stats["repositories"]] == [str(a.path), str(b.path)]
    assert (stats["commits"], stats["blobs"], stats["repo"]) == (2, 2, f"{a.path},{b.path}")
    assert (stats["tags"], stats["tag_messages_scanned"]) == (3, 3)  # summed like commits
    assert [(s["commits"], s["files_scanned"]) for s in stats["repositories"]] == [(1, 1), (1, 1)]


def test_one_repository_keeps_its_json_as_it_was(tmp_path: Path, cli: Any) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    doc = cli("git", str(a.path), "--format", "json").json()
    assert "repo" not in doc["findings"][0] and "remote_url" not in doc["findings"][0]
    assert "repositories" not in doc["stats"]
    assert doc["stats"]["repo"] == str(a.path)


def test_the_store_records_each_repository_as_its_own(tmp_path: Path, cli: Any) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", TOKEN)  # the same token in both: one finding, two places
    store = str(tmp_path / "s.sqlite")
    assert cli("git", str(a.path), str(b.path), "--store", store, "--quiet").code == 1
    report = cli("report", "--store", store, "--format", "json").json()
    assert sorted((f["repo"], f["path"]) for f in report["findings"]) == [
        (str(a.path), "google-ads.yaml"),
        (str(b.path), "google-ads.yaml"),
    ]


@pytest.mark.parametrize("bad", ["missing", "plain"])
def test_a_bad_repository_among_several_stops_before_anything_is_scanned(
    tmp_path: Path, cli: Any, bad: str
) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    (tmp_path / "plain").mkdir()
    store = tmp_path / "s.sqlite"
    run = cli("git", str(a.path), str(tmp_path / bad), "--store", str(store))
    said = {"missing": "no such directory", "plain": "not a git repository"}[bad]
    assert (run.code, run.out) == (2, "")
    assert run.err == f"devtoken: error: {said}: {tmp_path / bad}\n"
    assert not store.exists()  # nothing scanned, nothing recorded: nothing lost


def test_each_repository_keeps_its_own_ignore_file(tmp_path: Path, cli: Any) -> None:
    import hashlib

    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", TOKEN)
    fingerprint = hashlib.sha256(f"google-ads-developer-token:{TOKEN}".encode()).hexdigest()
    a.write(".devtokenignore", fingerprint + "\n")
    doc = cli("git", str(a.path), str(b.path), "--format", "json", "--quiet").json()
    assert _found(doc) == [(str(b.path), "google-ads.yaml", "Zk3m…_g")]  # a's file, a's finding
    assert doc["stats"]["config"]["suppressed_by_repository"] == {
        str(a.path / ".devtokenignore"): 1
    }


def test_repositories_with_their_own_configs_apply_none(tmp_path: Path, cli: Any) -> None:
    """As `scan A B` does: one repository's file must not narrow the scan of another."""
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", OTHER)
    a.write(".devtoken.toml", 'exclude = ["*.cfg"]\n')
    run = cli("git", str(a.path), str(b.path), "--format", "json")
    assert run.code == 1
    assert run.err.startswith(
        "devtoken: warning: the targets are in several repositories: their config files "
        f"({a.path / '.devtoken.toml'}) are not applied"
    )


@pytest.fixture
def served(tmp_path: Path) -> Any:
    """`git daemon` serving base/acme/svc.git (T in config.yaml) on 127.0.0.1."""
    base = tmp_path / "served"
    work = _repo(tmp_path / "work", OTHER, "config.yaml")
    (base / "acme").mkdir(parents=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(work.path), str(base / "acme" / "svc.git")],
        check=True,
    )
    with GitDaemon(base) as daemon:
        yield daemon


def test_a_clone_url_is_mirrored_into_the_org_cache_and_scanned(
    served: GitDaemon, tmp_path: Path, cli: Any
) -> None:
    url = served.url("acme/svc.git")
    cache = tmp_path / "mirrors"
    a = _repo(tmp_path / "a", TOKEN)
    run = cli("git", str(a.path), url, "--cache", str(cache), "--format", "json")
    assert run.code == 1, run.err
    doc = run.json()
    (ref,) = list_listed(ListedSource((url,)), Filters()).refs  # as `devtoken org --repo URL`
    mirror = MirrorCache(cache).path_of(ref.key)
    assert _found(doc) == [
        (str(a.path), "google-ads.yaml", "Zk3m…_g"),
        (str(mirror), "config.yaml", "Qm3x…A1"),
    ]
    assert doc["findings"][1]["remote_url"] == url
    # the org scan finds the same mirror: it fetches into it, it clones nothing
    assert MirrorCache(cache).sync_one(ref).status == "updated"
    # and a second `devtoken git URL` reuses it too
    again = cli("git", url, "--cache", str(cache), "--format", "json", "--quiet")
    assert [(f["path"], f["commit"]) for f in again.json()["findings"]] == [
        ("config.yaml", doc["findings"][1]["commit"])
    ]
    assert sorted(p.name for p in cache.iterdir()) == [ref.key]


def test_a_file_url_is_a_clone_url_too(tmp_path: Path, cli: Any) -> None:
    work = _repo(tmp_path / "work", OTHER)
    cache = tmp_path / "mirrors"
    run = cli("git", f"file://{work.path}", "--cache", str(cache), "--format", "json")
    assert run.code == 1, run.err
    assert [f["path"] for f in run.json()["findings"]] == ["google-ads.yaml"]
    assert len(list(cache.iterdir())) == 1


def test_a_url_that_cannot_be_cloned_stops_before_anything_is_scanned(
    served: GitDaemon, tmp_path: Path, cli: Any
) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    store = tmp_path / "s.sqlite"
    url = served.url("acme/missing.git")
    run = cli("git", str(a.path), url, "--cache", str(tmp_path / "m"), "--store", str(store))
    assert (run.code, run.out) == (2, "")
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"devtoken: error: cannot mirror {url}: ")
    assert not store.exists()


def test_credentials_in_a_url_reach_git_as_a_header_and_are_never_shown(
    tmp_path: Path, cli: Any
) -> None:
    secret = "s3cr3t-" + "pw" * 8
    cache = tmp_path / "mirrors"
    with RecordingHttp() as server:
        url = f"http://deploy:{secret}@{server.base[len('http://') :]}/acme/x.git"
        run = cli("git", url, "--cache", str(cache))
    clean = f"{server.base}/acme/x.git"
    assert run.code == 2
    assert run.err.startswith(f"devtoken: error: cannot mirror {clean}: ")
    assert secret not in run.err + run.out
    basic = "Basic " + base64.b64encode(f"deploy:{secret}".encode()).decode()
    assert server.seen[0] == ("/acme/x.git/info/refs?service=git-upload-pack", basic)
    for path in cache.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("https://github.com/acme/x.git", True),
        ("ssh://git@github.com/acme/x.git", True),
        ("git://127.0.0.1:9418/x.git", True),
        ("file:///srv/x.git", True),
        ("git@github.com:acme/x.git", True),
        ("/srv/x.git", False),
        ("relative/dir", False),
        (".", False),
    ],
)
def test_what_is_a_clone_url(entry: str, url: bool) -> None:
    assert is_clone_url(entry) is url


def test_an_existing_directory_with_a_colon_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "host:repo").mkdir()
    assert is_clone_url("host:repo") is False
    assert is_clone_url("other:repo") is True


@pytest.mark.parametrize("several", [False, True])
def test_a_remote_with_credentials_is_never_shown_with_them(
    tmp_path: Path, cli: Any, several: bool
) -> None:
    """A clone made with a token keeps it in its remote URL: stats.remote_url printed it."""
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", OTHER)
    b.git("remote", "add", "origin", "https://deploy:hunter22@git.example/acme/b.git")
    store = str(tmp_path / "s.sqlite")
    repos = [str(a.path), str(b.path)] if several else [str(b.path)]
    run = cli("git", *repos, "--format", "json", "--store", store)
    assert run.code == 1
    assert "hunter22" not in run.out + run.err
    stats = run.json()["stats"]
    part = stats["repositories"][1] if several else stats
    assert part["remote_url"] == "https://git.example/acme/b.git"
    for fmt in ("json", "html", "csv", "md", "sarif"):
        assert "hunter22" not in cli("report", "--store", store, "--format", fmt).out


def test_a_repository_named_twice_is_read_once(tmp_path: Path, cli: Any) -> None:
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", OTHER)
    doc = cli("git", str(a.path), str(b.path), f"{a.path}/", "--format", "json").json()
    assert [f["repo"] for f in doc["findings"]] == [str(a.path), str(b.path)]
    assert len(doc["stats"]["repositories"]) == 2


def test_the_org_configs_mirror_cache_is_the_one_used(tmp_path: Path, cli: Any) -> None:
    work = _repo(tmp_path / "work", OTHER)
    config = tmp_path / "devtoken.toml"
    config.write_text(f'[org]\nmirrors = "{tmp_path / "org-mirrors"}"\nlisted = ["x"]\n')
    url = f"file://{work.path}"
    run = cli("git", url, "--config", str(config), "--format", "json")
    assert run.code == 1, run.err
    (ref,) = list_listed(ListedSource((url,)), Filters()).refs
    assert (tmp_path / "org-mirrors" / ref.key / "repo.git").is_dir()
    assert run.json()["stats"]["repo"] == str(tmp_path / "org-mirrors" / ref.key / "repo.git")


def test_a_live_report_of_several_repositories_names_each_findings_repository(
    tmp_path: Path, cli: Any
) -> None:
    """Text, CSV and HTML of one run over two repositories: each finding says which one it
    is in (not the joined "a,b" of the run), labelled org/name where a remote names it."""
    a = _repo(tmp_path / "a", TOKEN)
    b = _repo(tmp_path / "b", OTHER, "config.yaml")
    b.git("remote", "add", "origin", "https://git.example/acme/b.git")
    text = cli("git", str(a.path), str(b.path)).out
    assert f"    in repository {a.path}\n" in text
    assert "    in repository acme/b\n" in text
    csv_rows = cli("git", str(a.path), str(b.path), "--format", "csv").out.splitlines()
    header = csv_rows[0].split(",")
    column = header.index("repository")
    assert sorted(row.split(",")[column] for row in csv_rows[1:]) == sorted(["acme/b", str(a.path)])
    html = cli("git", str(a.path), str(b.path), "--format", "html").out
    assert f"{a.path},{b.path}" not in html
