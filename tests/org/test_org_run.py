"""`devtoken org` end to end on a small local organisation: five repositories listed by
file:// URL, by local path and through `git daemon`, plus one that cannot be cloned.

Each repository's content is its own (no blob is shared), so blob counts are exact
whatever order the workers finish in.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner import api
from scanner.org.executor import TaskExecutor, make_executor
from scanner.org.listed import ListedSource
from scanner.org.run import OrgEvent, OrgOptions, OrgRun, run_org
from scanner.rules import default_rules_dir, load_rules, ruleset_key
from tests.conftest import CliRun
from tests.gitrepo import Repo
from tests.org.servers import GitDaemon

# Token-shaped test values (the brief's T and siblings), one per planted file.
TOKENS = [f"Zk3mQ9vTb2LxWc7RnP4s{suffix}" for suffix in ("_g", "Ab", "Cd", "Ef", "Gh", "Jk")]
NAMES = ("alpha", "beta", "gamma", "delta", "omega")
RECORD_EXTRAS = {"repository", "new", "status", "first_seen", "last_seen"}


@dataclass
class Org:
    """The organisation: work repositories and how the run is told of each."""

    root: Path
    repos: dict[str, Repo]
    entries: list[str]  # --repo arguments, the bad one last
    urls: dict[str, str]  # name -> the repository name findings carry (normalised URL)
    planted: set[tuple[str, str, int, str]]  # (repository, path, line, rule id)

    def args(self, *extra: str) -> list[str]:
        flags = [arg for entry in self.entries for arg in ("--repo", entry)]
        store, cache = str(self.root / "store.sqlite"), str(self.root / "cache")
        return ["org", *flags, "--store", store, "--cache", cache, "--quiet", *extra]

    def blobs(self) -> int:
        """Blobs in every repository's history (what a first run must read)."""
        return sum(len(_blob_ids(repo.path)) for repo in self.repos.values())


def _blob_ids(path: Path) -> set[str]:
    out = subprocess.run(
        ["git", "-C", str(path), "rev-list", "--objects", "--all"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    objects = [line.split()[0] for line in out.splitlines()]
    kinds = subprocess.run(
        ["git", "-C", str(path), "cat-file", "--batch-check=%(objecttype) %(objectname)"],
        input="".join(f"{sha}\n" for sha in objects),
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return {line.split()[1] for line in kinds.splitlines() if line.startswith("blob ")}


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    base = tmp_path / "repos"
    base.mkdir()
    with GitDaemon(base) as daemon:
        repos: dict[str, Repo] = {}
        planted: set[tuple[str, str, int, str]] = set()
        entries, urls = [], {}
        for index, name in enumerate(NAMES):
            repo = Repo(base / name)
            repo.commit("start", {"README.md": f"# {name}\n", "src/app.py": f"NAME = '{name}'\n"})
            repo.commit(
                "configure",
                {"config/google-ads.yaml": f"# {name}\ndeveloper_token: {TOKENS[index]}\n"},
            )
            repos[name] = repo
            # two by file:// URL, two by local path, one through git daemon
            entry = (
                f"file://{repo.path}"
                if index < 2
                else str(repo.path)
                if index < 4
                else daemon.url(name)
            )
            entries.append(entry)
            urls[name] = daemon.url(name) if index == 4 else f"file://{repo.path}"
            planted.add((urls[name], "config/google-ads.yaml", 2, "google-ads-developer-token"))
        entries.append(f"file://{tmp_path / 'missing.git'}")
        yield Org(tmp_path, repos, entries, urls, planted)


def found(doc: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    return {(f["repository"], f["path"], f["line"], f["rule_id"]) for f in doc["findings"]}


def by_status(doc: dict[str, Any]) -> dict[str, str]:
    return {r["url"]: r["status"] for r in doc["repositories"]}


def run_json(cli: Callable[..., CliRun], org: Org, *extra: str) -> tuple[int, dict[str, Any]]:
    done = cli(*org.args("--format", "json", *extra))
    return done.code, json.loads(done.out)


def test_first_run_finds_the_planted_secrets_and_a_second_run_scans_nothing(
    cli: Callable[..., CliRun], org: Org
) -> None:
    code, first = run_json(cli, org, "--jobs", "2")
    assert code == 1
    assert found(first) == org.planted
    assert all(f["new"] for f in first["findings"])
    assert first["stats"]["blobs_scanned"] == org.blobs()
    assert first["stats"]["repositories_scanned"] == 5
    assert first["stats"]["repositories_failed"] == 1
    failed = [r for r in first["repositories"] if r["status"] == "failed"]
    assert [r["url"] for r in failed] == [org.entries[-1]]
    assert "does not appear to be a git repository" in failed[0]["error"]

    code, second = run_json(cli, org, "--jobs", "2")
    assert code == 1  # the findings are still open: the nightly report is complete
    assert found(second) == org.planted
    assert not any(f["new"] for f in second["findings"])
    assert second["stats"]["blobs_scanned"] == 0
    assert second["stats"]["repositories_unchanged"] == 5
    assert set(by_status(second).values()) == {"unchanged", "failed"}
    assert cli(*org.args("--fail-on", "new")).code == 0
    assert cli(*org.args("--fail-on-error")).code == 4


def test_new_commits_in_two_repositories_scan_exactly_their_new_blobs(
    cli: Callable[..., CliRun], org: Org
) -> None:
    run_json(cli, org)
    added = set()
    for name, token in (("beta", "Zk3mQ9vTb2LxWc7RnP4sQr"), ("omega", "Zk3mQ9vTb2LxWc7RnP4sSt")):
        org.repos[name].commit(
            "more", {"deploy/.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={token}\n", "n.txt": name}
        )
        added.add((org.urls[name], "deploy/.env", 1, "google-ads-developer-token"))
    code, doc = run_json(cli, org, "--fail-on", "new")
    assert code == 1
    assert doc["stats"]["blobs_scanned"] == 4
    assert {k for k in found(doc) if k[1] == "deploy/.env"} == added
    assert {(f["repository"], f["path"]) for f in doc["findings"] if f["new"]} == {
        (k[0], k[1]) for k in added
    }
    statuses = by_status(doc)
    assert [statuses[org.urls[name]] for name in NAMES] == [
        "unchanged",
        "scanned",
        "unchanged",
        "unchanged",
        "scanned",
    ]
    assert found(doc) == org.planted | added
    code, again = run_json(cli, org, "--fail-on", "new")
    assert (code, again["stats"]["blobs_scanned"]) == (0, 0)


def test_a_rules_change_rescans_everything_once_then_is_incremental(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    assert run_json(cli, org, "--rules", str(rules))[1]["stats"]["blobs_scanned"] == org.blobs()
    assert run_json(cli, org, "--rules", str(rules))[1]["stats"]["blobs_scanned"] == 0
    rule = rules / "google-ads-developer-token.toml"
    rule.write_text(rule.read_text().replace('severity = "high"', 'severity = "critical"'))
    code, changed = run_json(cli, org, "--rules", str(rules))
    assert changed["stats"]["blobs_scanned"] == org.blobs()
    assert (code, found(changed)) == (1, org.planted)
    assert {f["severity"] for f in changed["findings"]} == {"critical"}  # what the rule says now
    assert run_json(cli, org, "--rules", str(rules))[1]["stats"]["blobs_scanned"] == 0


def test_json_records_are_devtoken_git_records_plus_repository_and_new(
    cli: Callable[..., CliRun], org: Org
) -> None:
    _, doc = run_json(cli, org)
    git = cli("git", str(org.repos["alpha"].path), "--format", "json")
    expected = [dict(r, repository=org.urls["alpha"]) for r in git.json()["findings"]]
    mine = [f for f in doc["findings"] if f["repository"] == org.urls["alpha"]]
    assert [set(f) for f in mine] == [set(r) | RECORD_EXTRAS for r in expected]
    for record, want in zip(mine, expected, strict=True):
        assert {k: record[k] for k in want if k != "verification"} == {
            k: v for k, v in want.items() if k != "verification"
        }
    repository = next(r for r in doc["repositories"] if r["url"] == org.urls["alpha"])
    assert {k: repository[k] for k in ("name", "status", "error", "findings")} == {
        "name": "repos/alpha",
        "status": "scanned",
        "error": None,
        "findings": 1,
    }
    assert repository["blobs_scanned"] == len(_blob_ids(org.repos["alpha"].path))
    assert {
        "blobs_scanned",
        "repositories_scanned",
        "repositories_unchanged",
        "repositories_failed",
        "duration_seconds",
    } <= set(doc["stats"])


def _options(org: Org, **changes: Any) -> OrgOptions:
    rules = load_rules()
    options = OrgOptions(
        sources=(ListedSource(tuple(org.entries)),),
        config=api.Config(),
        rules=rules,
        ruleset=ruleset_key(rules),
        cache=org.root / "cache",
        timeout=60.0,
    )
    return dataclasses.replace(options, **changes)


def _stable(run: OrgRun, store: Any) -> list[dict[str, Any]]:
    from scanner.org.output import build_report

    report = build_report(run, store, load_rules())
    return [{k: v for k, v in f.items() if not k.endswith("_seen")} for f in report.findings]


def test_a_process_pool_and_one_job_give_identical_findings(org: Org) -> None:
    results = []
    for jobs in (1, 3):
        with (
            api.open_store(str(org.root / f"store{jobs}.sqlite"), create=True) as store,
            make_executor(jobs) as executor,
        ):
            options = _options(org, cache=org.root / f"cache{jobs}")
            run = run_org(options, store, executor)
            results.append((_stable(run, store), run.stats()["blobs_scanned"]))
    assert results[0] == results[1]
    assert results[0][1] == org.blobs()
    assert {(f["repository"], f["path"]) for f in results[0][0]} == {
        (p[0], p[1]) for p in org.planted
    }


class Killed(Exception):
    """Stands for the driver being killed after some repositories were recorded."""


@contextmanager
def _killed_after_two(org: Org) -> Iterator[tuple[Any, TaskExecutor, list[str]]]:
    """A store and an executor on which a run was killed once two repositories were
    recorded (named in the list, in order), for the test to resume."""
    recorded: list[str] = []

    def on_event(event: OrgEvent) -> None:
        if event.phase == "recorded":
            recorded.append(event.repository)
            if len(recorded) == 2:
                raise Killed

    path = str(org.root / "store.sqlite")
    with api.open_store(path, create=True) as store, make_executor(1) as executor:
        with pytest.raises(Killed):
            run_org(_options(org), store, executor, on_event)
        yield store, executor, recorded


def test_a_killed_run_resumes_without_redoing_recorded_repositories(org: Org) -> None:
    with _killed_after_two(org) as (store, executor, recorded):
        events: list[OrgEvent] = []
        run = run_org(_options(org), store, executor, events.append)
        stable = _stable(run, store)
        rows = store.rows("SELECT target, COUNT(*) AS n FROM scans GROUP BY target")
    assert run.resumed
    resumed = {e.repository for e in events if e.message == "recorded by the interrupted run"}
    assert resumed == set(recorded)
    # what the killed run recorded was recorded once; nothing of it was scanned again
    assert {r["target"]: r["n"] for r in rows} == {url: 1 for url in org.urls.values()}
    blobs = {org.urls[name]: len(_blob_ids(repo.path)) for name, repo in org.repos.items()}
    assert {r.repository: r.blobs_scanned for r in run.repositories if r.status != "failed"} == (
        blobs
    )
    # every repository is fetched again; one recorded before with nothing new is not re-recorded
    fetched = {e.repository for e in events if e.phase == "fetched"}
    assert fetched == set(org.urls.values())
    assert {(f["repository"], f["path"]) for f in stable} == {(p[0], p[1]) for p in org.planted}
    assert all(f["new"] for f in stable)  # first seen in this (resumed) run


def test_a_resumed_run_scans_what_was_pushed_since_the_interrupted_run_recorded(
    org: Org,
) -> None:
    with _killed_after_two(org) as (store, executor, recorded):
        # hours later, before the run is resumed, a secret is pushed to a recorded repository
        pushed, quiet = recorded
        name = next(n for n, url in org.urls.items() if url == pushed)
        late = org.repos[name].commit("late", {"deploy/ads.env": f"DEVELOPER_TOKEN={TOKENS[5]}\n"})
        events: list[OrgEvent] = []
        run = run_org(_options(org), store, executor, events.append)
        stable = _stable(run, store)
        scans = store.rows("SELECT target, COUNT(*) AS n FROM scans GROUP BY target")
    assert run.resumed
    messages = {e.repository: e.message for e in events if e.phase == "recorded"}
    assert messages[quiet] == "recorded by the interrupted run"
    assert messages[pushed] == "recorded by the interrupted run, then what was pushed since"
    new = [
        (f["repository"], f["path"], f["commit"]) for f in stable if f["path"] == "deploy/ads.env"
    ]
    assert new == [(pushed, "deploy/ads.env", late)]
    # the pushed repository was recorded twice in the one run, every other one once
    assert {r["target"]: r["n"] for r in scans} == {
        url: 2 if url == pushed else 1 for url in org.urls.values()
    }
    report = {r.repository: r for r in run.repositories}
    assert report[pushed].status == "scanned"
    assert report[pushed].blobs_scanned == len(_blob_ids(org.repos[name].path))
    assert run.new_fingerprints == {f["fingerprint"] for f in stable}
    assert len(run.new_fingerprints) == len(org.planted) + 1


def test_org_sources_from_a_config_file_and_the_user_config(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = json.dumps(org.entries[:2])
    config = tmp_path / "org.toml"
    config.write_text(f"listed = {listed}\n[filters]\nexclude = ['*beta*']\n")
    store, cache = str(tmp_path / "s.sqlite"), str(tmp_path / "c")
    done = cli("org", "--config", str(config), "--store", store, "--cache", cache, "--quiet")
    assert done.code == 1
    assert "1 repositories: 1 scanned" in done.out
    home = tmp_path / "xdg"
    (home / "devtoken").mkdir(parents=True)
    (home / "devtoken" / "config.toml").write_text(f"[org]\nlisted = {listed}\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    done = cli("org", "--store", store, "--cache", cache, "--format", "json", "--quiet")
    assert {r["status"] for r in json.loads(done.out)["repositories"]} == {"unchanged", "scanned"}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((), "no repositories to scan"),
        (("--repo", ".", "--format", "csv"), "unknown format 'csv'"),
        (("--repo", ".", "--jobs", "0"), "--jobs must be at least 1"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    cli: Callable[..., CliRun], tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    done = cli("org", "--store", str(tmp_path / "s.sqlite"), *args)
    assert done.code == 2
    assert said in done.err
    assert len(done.err.strip().splitlines()) == 1


def test_missing_extras_name_the_extra(
    cli: Callable[..., CliRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    store = str(tmp_path / "s.sqlite")
    done = cli("org", "--repo", ".", "--scheduler", "tcp://127.0.0.1:1", "--store", store)
    assert (done.code, done.err.strip()) == (
        2,
        "devtoken: error: --scheduler needs the Dask client: pip install 'devtoken[dask]'",
    )
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "github" else real(name, *a)
    )
    done = cli("org", "--github-org", "acme", "--store", store)
    assert done.code == 2
    assert "pip install 'devtoken[org]'" in done.err


def test_sarif_and_html_name_each_repository(cli: Callable[..., CliRun], org: Org) -> None:
    code, doc = run_json(cli, org)
    sarif = cli(*org.args("--format", "sarif"))
    assert (code, sarif.code) == (1, 1)
    results = sarif.json()["runs"][0]["results"]
    assert sorted(
        (
            r["properties"]["repository"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ) == sorted((f["repository"], f["line"]) for f in doc["findings"])
    assert {r["properties"]["new"] for r in results} == {False}
    html = org.root / "leaks.html"
    assert cli(*org.args("--format", "html", "-o", str(html))).code == 1
    page = html.read_text()
    assert all(url in page for url in org.urls.values())
    assert TOKENS[0] not in page and TOKENS[0] not in json.dumps(doc)


def test_progress_says_done_total_phase_and_eta() -> None:
    from io import StringIO

    from scanner.cli.org import OrgProgress

    event = OrgEvent("recorded", 2, 8, "acme/api")
    assert OrgProgress.status(event, 10.0) == "2/8 repositories, recorded acme/api, ETA 30s"
    assert OrgProgress.status(OrgEvent("listing", 0, 0), 1.0) == (
        "0/0 repositories, listing, ETA ?"
    )
    log = StringIO()
    progress = OrgProgress(stream=log)  # not a terminal: one plain line per repository
    progress(event)
    progress(OrgEvent("fetched", 2, 8, "acme/web"))
    assert log.getvalue() == "devtoken: org: [2/8] recorded acme/api\n"
    quiet = StringIO()
    OrgProgress(enabled=False, stream=quiet)(event)
    assert quiet.getvalue() == ""


def test_a_force_push_reports_the_dropped_secret_as_rewritten_away_history(
    cli: Callable[..., CliRun], org: Org
) -> None:
    alpha = org.repos["alpha"]
    base = alpha.git("rev-parse", "HEAD")
    alpha.commit("oops", {"deploy/.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKENS[5]}\n"})
    _, first = run_json(cli, org)
    (leak,) = [f for f in first["findings"] if f["path"] == "deploy/.env"]
    assert (leak["exposure"]["rewritten"], leak["exposure"]["still_present_in"]) == (
        False,
        ["refs/heads/main"],
    )
    alpha.git("reset", "-q", "--hard", base)
    alpha.commit("clean", {"n.txt": "fixed\n"})  # main no longer holds the leak
    _, second = run_json(cli, org)
    (leak,) = [f for f in second["findings"] if f["path"] == "deploy/.env"]
    assert (leak["exposure"]["rewritten"], leak["exposure"]["still_present_in"]) == (True, [])
    assert by_status(second)[org.urls["alpha"]] == "scanned"
    said = cli(*org.args()).out
    assert f"{org.urls['alpha']}: deploy/.env:1:28: HIGH google-ads-developer-token" in said
    assert "    in rewritten-away history: only commits a force-push dropped hold it\n" in said
    mirror = next((org.root / "cache").glob("*/repo.git"))
    held = subprocess.run(
        ["git", f"--git-dir={mirror}", "for-each-ref", "refs/devtoken/"],
        capture_output=True,
        text=True,
        check=True,
    )
    _, third = run_json(cli, org)
    assert (third["stats"]["blobs_scanned"], by_status(third)[org.urls["alpha"]]) == (
        0,
        "unchanged",
    )
    assert held.stdout == ""  # released once scanned and recorded


def test_the_current_directorys_ignore_file_is_no_scanned_repositorys(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path
) -> None:
    from scanner.secret import fingerprint

    here = Repo(tmp_path / "here")  # devtoken runs inside some other checkout
    here.write(".devtokenignore", fingerprint("google-ads-developer-token", TOKENS[0]) + "\n")
    done = cli(*org.args("--format", "json"), cwd=here.path)
    assert found(json.loads(done.out)) == org.planted
    ignore = tmp_path / "ignore.txt"  # the user's own ignore file does apply
    ignore.write_text(fingerprint("google-ads-developer-token", TOKENS[0]) + "\n")
    args = org.args("--format", "json", "--ignore-file", str(ignore))
    fresh = [str(tmp_path / "s2.sqlite") if a.endswith("store.sqlite") else a for a in args]
    doc = json.loads(cli(*fresh, cwd=here.path).out)
    assert found(doc) == org.planted - {
        (org.urls["alpha"], "config/google-ads.yaml", 2, "google-ads-developer-token")
    }


def test_the_current_directorys_config_is_no_scanned_repositorys(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path
) -> None:
    here = Repo(tmp_path / "here")
    here.write("config/google-ads.yaml", f"developer_token: {TOKENS[0]}\n")  # as alpha has it
    assert cli("baseline", "create", "--quiet", cwd=here.path).code == 0
    here.write(".devtoken.toml", 'baseline = ".devtoken-baseline.json"\n')
    done = cli(*org.args("--format", "json"), cwd=here.path)
    assert found(json.loads(done.out)) == org.planted
    # the same baseline given with --baseline applies (its entries hash clear secrets, which
    # only the scan tasks see)
    args = org.args("--format", "json", "--baseline", str(here.path / ".devtoken-baseline.json"))
    fresh = [str(tmp_path / "s2.sqlite") if a.endswith("store.sqlite") else a for a in args]
    assert found(json.loads(cli(*fresh).out)) == org.planted - {
        (org.urls["alpha"], "config/google-ads.yaml", 2, "google-ads-developer-token")
    }


def test_per_repository_json_and_sarif_hold_each_repositorys_own_findings(
    cli: Callable[..., CliRun], org: Org
) -> None:
    out = org.root / "per-repo"
    code, doc = run_json(cli, org, "--per-repository", str(out))
    assert code == 1
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 * len(doc["repositories"])  # the failed one too: empty
    by_repository: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(out.glob("*.json")):
        own = json.loads(path.read_text())
        log = json.loads(path.with_suffix(".sarif").read_text())
        name = own["repository"]["repository"]
        results = log["runs"][0]["results"]
        assert [r["properties"]["repository"] for r in results] == [name] * len(results)
        assert len(results) == len(own["findings"]) == own["stats"]["findings"]
        by_repository[name] = [(f["path"], f["line"]) for f in own["findings"]]
    expected: dict[str, list[tuple[str, int]]] = {r["repository"]: [] for r in doc["repositories"]}
    for f in doc["findings"]:
        expected[f["repository"]].append((f["path"], f["line"]))
    assert by_repository == expected
    assert sum(len(v) for v in by_repository.values()) == len(org.planted)


def test_a_config_of_plain_repositories_needs_no_org_extra_and_a_github_source_names_it(
    tmp_path: Path, org: Org
) -> None:
    """PyGithub and python-gitlab are imported only to list their sources."""
    import os

    from tests.conftest import loopback_env, run_subprocess

    blocker = tmp_path / "blocker"
    for name in ("github", "gitlab"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = loopback_env()
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env["PYTHONPATH"]])
    listed = tmp_path / "listed.toml"
    listed.write_text(f"[org]\nlisted = [{json.dumps(org.entries[0])}]\n")
    store, cache = str(tmp_path / "s.sqlite"), str(tmp_path / "cache")
    args = ["org", "--store", store, "--cache", cache, "--format", "json", "--quiet"]
    done = run_subprocess([*args, "--config", str(listed)], env=env, text=True)
    assert done.returncode == 1, done.stderr
    assert found(json.loads(done.stdout)) == {p for p in org.planted if p[0] == org.urls["alpha"]}
    hosted = tmp_path / "hosted.toml"
    hosted.write_text('[org]\n[[org.github]]\norg = "acme"\n')
    done = run_subprocess([*args, "--config", str(hosted)], env=env, text=True)
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "devtoken: error: github:github.com/acme needs PyGithub: pip install 'devtoken[org]'",
    )


def test_a_second_driver_on_the_same_store_is_refused_while_the_first_runs(
    cli: Callable[..., CliRun], org: Org
) -> None:
    import fcntl

    store = org.root / "store.sqlite"
    with open(f"{store}.org-lock", "w") as held:  # as a running driver holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        done = cli(*org.args())
        assert (done.code, done.err.strip()) == (
            2,
            f"devtoken: error: another devtoken org run is using the store {store}: "
            "wait for it to finish (it resumes where a killed run stopped)",
        )
    assert not list((org.root / "cache").glob("*/meta.json"))  # nothing was fetched
    assert cli(*org.args()).code == 1  # the lock is gone with its holder


def test_the_html_headline_counts_new_since_the_previous_org_run(
    cli: Callable[..., CliRun], org: Org
) -> None:
    """The first run has nothing to compare with (never "N new since the previous scan");
    the second says how many are new since the first run began."""
    first, second = org.root / "first.html", org.root / "second.html"
    assert cli(*org.args("--format", "html", "-o", str(first))).code == 1
    assert "first scan: no previous scan to compare" in first.read_text()
    assert cli(*org.args("--format", "html", "-o", str(second))).code == 1
    counted = re.search(r'id="new-count">([^<]*)<', second.read_text())
    assert counted is not None
    assert re.fullmatch(r"0 new since the previous scan \(\d{4}-\d\d-\d\d\)", counted.group(1))
