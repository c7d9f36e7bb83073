"""A local organisation for the org scan's acceptance tests.

Bare repositories made by ../shared/bench/make_repo.py (one seed each, small, built once per
session) are served by `git daemon` on 127.0.0.1 and listed by a fake GitHub organisation and
a fake GitLab group, driven through PyGithub and python-gitlab for real. Each test gets its
own copy of the repositories, so it may push, rename and force-push without touching others.
The plants make_repo labels are the expected findings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from tests.conftest import REPO, loopback_env, require
from tests.org.fake_github import FakeGitHub, Fault
from tests.org.fake_github import repo as github_repo
from tests.org.fake_gitlab import FakeGitLab, project
from tests.org.servers import GitDaemon

MAKE_REPO = REPO.parent / "shared" / "bench" / "make_repo.py"
GITHUB_TOKEN_ENV = "ACCEPT_GITHUB_TOKEN"
GITLAB_TOKEN_ENV = "ACCEPT_GITLAB_TOKEN"
GITHUB_TOKEN = "ghp_acceptance_fake_token"
GITLAB_TOKEN = "glpat-acceptance-fake-token"
OWNER = "acme"
GROUP = "grp"
FORCED_SECRET = "Fq7Lw2_Rz9TbX4kM1nVc8s"  # a developer token only on the force-pushed branch
PUSH_BASE = 1_760_000_000  # commit and pushed_at times of the tests' own pushes

# GitHub repository name -> make_repo seed; ids are 1000 + index.
GITHUB_SEEDS = {f"svc-{n:02d}": 10 + n for n in range(14)} | {
    "legacy": 40,  # archived: filtered out
    "forked": 41,  # a fork: filtered out
    "old-name": 42,  # renamed by a test to new-name
    "forced": 43,  # gets a feature branch with FORCED_SECRET, force-pushed away by a test
}
# GitLab project path -> seed; ids are 2000 + index.
GITLAB_SEEDS = {
    "grp/api": 60,
    "grp/web": 61,
    "grp/tools": 62,
    "grp/sub/infra": 63,
    "grp/sub/jobs": 64,
    "grp/sub/deep/etl": 65,
}
MISSING = "ghost"  # listed by GitHub, its clone URL names no repository


@dataclass(frozen=True)
class Plant:
    """One secret make_repo planted (or a test added): what a finding must say."""

    rule: str
    path: str
    line: int
    commit: str


@dataclass
class Template:
    """The repositories built once per session: `served/<name>.git`, and their plants."""

    root: Path
    plants: dict[str, list[Plant]]
    big: str | None = None

    @property
    def served(self) -> Path:
        return self.root / "served"


def served_name(full_name: str) -> str:
    """Where a repository is served, relative to the daemon's base path."""
    return full_name + ".git"


def _load_make_repo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_repo", MAKE_REPO)
    assert spec is not None and spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Read the standard library once for every repository (the script reads 60 MB each time).
    text = module.corpus(1 << 20)
    module.corpus = lambda _limit: text
    return cast(ModuleType, module)


def make_repo(module: ModuleType, out: Path, seed: int, *options: str) -> list[Plant]:
    argv = ["make_repo.py", "--out", str(out), "--seed", str(seed), *options]
    saved = sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module.main()
    finally:
        sys.argv = saved
    labels = json.loads(Path(f"{out}.labels.json").read_text())["planted"]
    return [Plant(p["rule"], p["path"], p["line"], p["commit"]) for p in labels]


def small(seed: int) -> tuple[str, ...]:
    """A few commits and files; 1 to 6 plants, so every plant kind shows up somewhere."""
    return ("--commits", "8", "--files", "6", "--edits", "2", "--plants", str(1 + seed % 6))


_TEMPLATES: dict[bool, Template] = {}


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The organisation's repositories, built once per session."""
    return session_template(tmp_path_factory, big=False)


@pytest.fixture(scope="session")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The same, plus one big repository whose scan is slow enough to kill a run in."""
    return session_template(tmp_path_factory, big=True)


def session_template(factory: pytest.TempPathFactory, big: bool) -> Template:
    require(MAKE_REPO.is_file(), f"{MAKE_REPO} (the shared benchmark repository maker)")
    if False not in _TEMPLATES:
        _TEMPLATES[False] = build_template(factory.mktemp("org"))
    if big and True not in _TEMPLATES:
        _TEMPLATES[True] = with_big(_TEMPLATES[False], factory.mktemp("org-big"))
    return _TEMPLATES[big]


def build_template(root: Path) -> Template:
    module = _load_make_repo()
    work, served = root / "work", root / "served"
    work.mkdir(parents=True)
    served.mkdir()
    plants: dict[str, list[Plant]] = {}
    wanted = {f"{OWNER}/{name}": seed for name, seed in GITHUB_SEEDS.items()} | GITLAB_SEEDS
    for full_name, seed in wanted.items():
        checkout = work / full_name
        checkout.parent.mkdir(parents=True, exist_ok=True)
        plants[full_name] = make_repo(module, checkout, seed, *small(seed))
        if full_name == f"{OWNER}/forced":
            plants[full_name].append(_feature_branch(checkout))
        _bare(checkout, served / served_name(full_name))
    shutil.rmtree(work)
    return Template(root, plants)


def with_big(base: Template, root: Path) -> Template:
    """`base` and one repository big enough that its scan takes a while: a window to kill a
    run or a worker in."""
    shutil.copytree(base.served, root / "served", symlinks=True)
    name, checkout = f"{OWNER}/big", root / "work" / "big"
    checkout.parent.mkdir(parents=True)
    opts = ("--commits", "150", "--files", "200", "--edits", "4", "--plants", "30")
    plants = {**base.plants, name: make_repo(_load_make_repo(), checkout, 7, *opts)}
    _bare(checkout, root / "served" / served_name(name))
    shutil.rmtree(root / "work")
    return Template(root, plants, big=name)


def _bare(checkout: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(checkout), str(target))


def _feature_branch(checkout: Path) -> Plant:
    main = git("-C", str(checkout), "rev-parse", "main")
    sha = commit_files(
        checkout / ".git",
        "feature",
        {"feature/ads.yaml": f"developer_token: {FORCED_SECRET}\n"},
        "feature: try the ads client",
        parent=main,
        when=PUSH_BASE - 100,
    )
    return Plant("google-ads-developer-token", "feature/ads.yaml", 1, sha)


def git(*args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], capture_output=True, env=env, input=input, check=False)
    if done.returncode:
        raise AssertionError(f"git {args}: {done.stderr.decode()}")
    return done.stdout.decode().strip()


def commit_files(
    git_dir: Path,
    branch: str,
    files: dict[str, str],
    message: str,
    parent: str | None = None,
    when: int = PUSH_BASE,
) -> str:
    """Commit `files` on top of `parent` (default: the branch's tip) straight into a (bare)
    repository and point `refs/heads/<branch>` at it: a push, without a working tree."""
    base = ["-C", str(git_dir)]
    parent = parent or git(*base, "rev-parse", f"refs/heads/{branch}")
    index = git_dir / "accept.index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    stamp = f"{when} +0000"
    env.update(
        GIT_INDEX_FILE=str(index),
        GIT_AUTHOR_NAME="Pusher",
        GIT_AUTHOR_EMAIL="pusher@example.com",
        GIT_COMMITTER_NAME="Pusher",
        GIT_COMMITTER_EMAIL="pusher@example.com",
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
    )
    try:
        git(*base, "read-tree", parent, env=env)
        for path, text in files.items():
            blob = git(*base, "hash-object", "-w", "--stdin", input=text.encode())
            git(*base, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(*base, "write-tree", env=env)
        sha = git(*base, "commit-tree", tree, "-p", parent, "-m", message, env=env)
    finally:
        index.unlink(missing_ok=True)
    git(*base, "update-ref", f"refs/heads/{branch}", sha)
    return sha


def new_blobs(git_dir: Path, new: Sequence[str], old: Sequence[str]) -> set[str]:
    """Blob ids in commits reachable from `new` and not from `old`: what an incremental run
    must scan (`git rev-list --objects new --not old`, blobs only)."""
    revisions = [*new, "--not", *old] if old else list(new)
    listed = git("-C", str(git_dir), "rev-list", "--objects", *revisions)
    shas = "\n".join(line.split()[0] for line in listed.splitlines() if line)
    checked = git("-C", str(git_dir), "cat-file", "--batch-check", input=shas.encode() + b"\n")
    return {line.split()[0] for line in checked.splitlines() if line.split()[1] == "blob"}


@dataclass
class RunResult:
    code: int
    doc: dict[str, Any]
    err: str
    seconds: float

    def repository(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [
            r for r in self.doc["repositories"] if name in (r["name"], r["url"])
        ]
        assert len(found) == 1, (name, self.doc["repositories"])
        return found[0]

    def statuses(self) -> dict[str, str]:
        return {r["name"]: r["status"] for r in self.doc["repositories"]}

    def found(self) -> set[tuple[str, str, int, str, str]]:
        """(repository by full name, path, line, rule, commit) of every finding."""
        names = {r.get("repository", r["url"]): r["name"] for r in self.doc["repositories"]}
        names.update({r["url"]: r["name"] for r in self.doc["repositories"]})
        return {
            (
                names.get(f["repository"], f["repository"]),
                f["path"],
                f["line"],
                f["rule_id"],
                f["commit"],
            )
            for f in self.doc["findings"]
        }

    def findings_of(self, name: str) -> list[dict[str, Any]]:
        repository = self.repository(name)
        aliases = {name, repository["url"], repository.get("repository", name)}
        return [f for f in self.doc["findings"] if f["repository"] in aliases]


@dataclass
class Org:
    """One test's organisation: its own copy of the repositories, daemon, fakes and paths."""

    template: Template
    home: Path
    daemon: GitDaemon
    github: FakeGitHub
    gitlab: FakeGitLab
    names: dict[str, str] = field(default_factory=dict)  # full name now -> as built
    per_page: int = 100
    listed: tuple[str, ...] = ()
    state: str = "state"  # the folder of the store and mirror cache runs use
    _pushes: int = 0

    @property
    def served(self) -> Path:
        return self.home / "served"

    @property
    def store(self) -> Path:
        return self.home / self.state / "store.sqlite"

    @property
    def cache(self) -> Path:
        return self.home / self.state / "mirrors"

    @property
    def config(self) -> Path:
        return self.home / "org.toml"

    def git_dir(self, full_name: str) -> Path:
        return self.served / served_name(full_name)

    def plants(self, full_name: str) -> list[Plant]:
        return self.template.plants[self.names.get(full_name, full_name)]

    def expected(self, names: Sequence[str] | None = None) -> set[tuple[str, str, int, str, str]]:
        """(repository, path, line, rule, commit) of every planted secret in `names`."""
        return {
            (name, p.path, p.line, p.rule, p.commit)
            for name in (names if names is not None else self.scanned_names())
            for p in self.plants(name)
        }

    def scanned_names(self) -> list[str]:
        """Every repository the config admits that can be cloned."""
        skip = {f"{OWNER}/legacy", f"{OWNER}/forked"}
        names = [n for n in self.names if n not in skip]
        if self.template.big is None:
            return names
        return [*names, self.template.big] if self.template.big not in names else names

    def write_config(self, per_page: int | None = None, extra: str = "") -> None:
        per_page = per_page or self.per_page
        listed = ", ".join(json.dumps(url) for url in self.listed)
        self.config.write_text(
            f"""
[[github]]
org = "{OWNER}"
api_url = "{self.github.base}"
token_env = "{GITHUB_TOKEN_ENV}"
per_page = {per_page}

[[gitlab]]
group = "{GROUP}"
url = "{self.gitlab.base}"
token_env = "{GITLAB_TOKEN_ENV}"
include_subgroups = true
per_page = {per_page}

{"listed = [" + listed + "]" if listed else ""}

[filters]
forks = false
archived = false
{extra}
"""
        )

    def args(self, *extra: str, jobs: int = 2) -> list[str]:
        return [
            sys.executable,
            "-m",
            "scanner",
            "org",
            "--config",
            str(self.config),
            "--store",
            str(self.store),
            "--cache",
            str(self.cache),
            "--jobs",
            str(jobs),
            "--format",
            "json",
            *extra,
        ]

    def set_clone_url(self, full_name: str, url: str) -> None:
        for data in self.github.repos[OWNER]:
            if data["full_name"] == full_name:
                data["clone_url"] = url

    def env(self, **extra: str) -> dict[str, str]:
        return loopback_env(
            **{GITHUB_TOKEN_ENV: GITHUB_TOKEN, GITLAB_TOKEN_ENV: GITLAB_TOKEN}, **extra
        )

    def run(
        self,
        *extra: str,
        jobs: int = 2,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> RunResult:
        (self.home / self.state).mkdir(exist_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            self.args(*extra, jobs=jobs),
            capture_output=True,
            text=True,
            env=self.env(**(env or {})),
            timeout=timeout,
            check=False,
        )
        seconds = time.monotonic() - started
        try:
            doc = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(
                f"devtoken org exited {done.returncode} without JSON:\n"
                f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-4000:]}"
            ) from None
        return RunResult(done.returncode, doc, done.stderr, seconds)

    def start(
        self, *extra: str, jobs: int = 2, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """The run as a child in its own process group, to be killed with `kill_run`."""
        (self.home / self.state).mkdir(exist_ok=True)
        return subprocess.Popen(
            self.args(*extra, jobs=jobs),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env(**(env or {})),
            start_new_session=True,
        )

    # --- changes between runs -------------------------------------------------------------

    def push(self, full_name: str, files: dict[str, str], message: str) -> tuple[str, str]:
        """A new commit on main, and the API's `pushed_at` moves: (old tip, new tip)."""
        git_dir = self.git_dir(full_name)
        old = git("-C", str(git_dir), "rev-parse", "refs/heads/main")
        self._pushes += 1
        new = commit_files(git_dir, "main", files, message, when=PUSH_BASE + self._pushes * 60)
        self._touch(full_name)
        return old, new

    def force_push_feature(self) -> tuple[str, str]:
        """Rewrite `feature` of acme/forced without its secret commit: (old tip, new tip)."""
        git_dir = self.git_dir(f"{OWNER}/forced")
        old = git("-C", str(git_dir), "rev-parse", "refs/heads/feature")
        main = git("-C", str(git_dir), "rev-parse", "refs/heads/main")
        self._pushes += 1
        new = commit_files(
            git_dir,
            "feature",
            {"feature/ads.yaml": "developer_token: ${GOOGLE_ADS_DEVELOPER_TOKEN}\n"},
            "feature: read the token from the environment",
            parent=main,
            when=PUSH_BASE + self._pushes * 60,
        )
        self._touch(f"{OWNER}/forced")
        return old, new

    def rename(self, old: str, new: str) -> None:
        """GitHub renames a repository: same id, new name and clone URL (pushed_at kept)."""
        target = self.git_dir(new)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.git_dir(old).rename(target)
        for data in self.github.repos[OWNER]:
            if data["full_name"] == old:
                short = new.split("/", 1)[1]
                data.update(
                    name=short,
                    full_name=new,
                    clone_url=self.daemon.url(served_name(new)),
                    html_url=f"https://github.example/{new}",
                )
        self.names[new] = self.names.pop(old)

    def _touch(self, full_name: str) -> None:
        stamp = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(PUSH_BASE + 86_400 + self._pushes * 60)
        )
        for data in self.github.repos[OWNER]:
            if data["full_name"] == full_name:
                data["pushed_at"] = stamp
        for data in self.gitlab.projects:
            if data["path_with_namespace"] == full_name:
                data["last_activity_at"] = stamp.replace("Z", ".000Z")


def github_listing(org: Org) -> list[dict[str, Any]]:
    repos = []
    for index, (name, _seed) in enumerate(GITHUB_SEEDS.items()):
        full_name = f"{OWNER}/{name}"
        repos.append(
            github_repo(
                OWNER,
                name,
                1000 + index,
                f"2025-01-{1 + index:02d}T08:00:00Z",
                clone_url=org.daemon.url(served_name(full_name)),
                archived=name == "legacy",
                fork=name == "forked",
            )
        )
    repos.append(
        github_repo(
            OWNER,
            MISSING,
            1999,
            "2025-02-01T08:00:00Z",
            clone_url=org.daemon.url(served_name(f"{OWNER}/{MISSING}-was-deleted")),
        )
    )
    if org.template.big is not None:
        short = org.template.big.split("/", 1)[1]
        repos.append(
            github_repo(
                OWNER,
                short,
                1500,
                "2025-02-02T08:00:00Z",
                clone_url=org.daemon.url(served_name(org.template.big)),
            )
        )
    return repos


def gitlab_listing(org: Org) -> list[dict[str, Any]]:
    projects = []
    for index, full_name in enumerate(GITLAB_SEEDS):
        namespace, name = full_name.rsplit("/", 1)
        projects.append(
            project(
                namespace,
                name,
                2000 + index,
                f"2025-03-{1 + index:02d}T08:00:00.000Z",
                clone_url=org.daemon.url(served_name(full_name)),
            )
        )
    return projects


@contextlib.contextmanager
def open_org(template: Template, home: Path, per_page: int = 100) -> Iterator[Org]:
    """Copy the template's repositories into `home`, serve them and list them."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template.served, home / "served", symlinks=True)
    with (
        GitDaemon(home / "served") as daemon,
        FakeGitHub() as github,
        FakeGitLab() as gitlab,
    ):
        org = Org(template, home, daemon, github, gitlab, per_page=per_page)
        github.repos[OWNER] = github_listing(org)
        gitlab.projects = gitlab_listing(org)
        names = [f"{OWNER}/{n}" for n in GITHUB_SEEDS] + list(GITLAB_SEEDS)
        org.names = {n: n for n in names}
        org.write_config()
        yield org


def primary_limit(page: int) -> Fault:
    """A spent primary limit that resets within the next second."""
    body = {"message": "API rate limit exceeded for user ID 1."}
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000"}
    return Fault(page, 403, headers, body, reset_in=0)


def secondary_limit(page: int) -> Fault:
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    return Fault(page, 403, {"retry-after": "1"}, body)


def kill_run(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run and everything it started (its workers, their git), as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def wait_for(
    what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes] | None, limit: float = 60
) -> None:
    """Poll `check` every few milliseconds until it holds; fail if the run ended first."""
    deadline = time.monotonic() + limit
    while not check():
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the run exited {proc.returncode} before {what}:\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.003)


def read_rows(store: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    """Rows of the store, read-only, while a run may be writing it ([] before it exists)."""
    if not store.exists():
        return []
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        ) as db:
            db.row_factory = sqlite3.Row
            return list(db.execute(sql, params))
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc) or "locked" in str(exc):
            return []
        raise


def journal(store: Path) -> dict[str, str]:
    """Repository full name -> phase in the newest org run's journal."""
    rows = read_rows(
        store,
        "SELECT r.full_name AS name, j.phase AS phase FROM org_journal j "
        "JOIN repositories r ON r.key = j.repo_key "
        "WHERE j.run_id = (SELECT max(id) FROM org_runs)",
    )
    return {str(row["name"]): str(row["phase"]) for row in rows}


def stored_occurrences(store: Path) -> list[tuple[str, str, int, str, str, str]]:
    """Every occurrence in the store: (repository, path, line, rule, commit, fingerprint)."""
    rows = read_rows(
        store,
        "SELECT o.repo, o.path, o.line, f.rule_id, o.commit_sha, o.fingerprint "
        "FROM occurrences o JOIN findings f ON f.fingerprint = o.fingerprint",
    )
    return [(r[0], r[1], int(r[2]), r[3], r[4], r[5]) for r in rows]


def scans_per_repository(store: Path) -> dict[str, int]:
    """How many times each repository was recorded (a `scans` row per record)."""
    rows = read_rows(store, "SELECT target, count(*) FROM scans GROUP BY target")
    return {str(r[0]): int(r[1]) for r in rows}
