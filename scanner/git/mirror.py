"""Bare mirrors for the org-wide scan: create, fetch, read tips, hold rewritten-away tips.

Every git call runs in its own process group under the repository's deadline, and the
group is killed when it passes (a hung `git fetch` would otherwise keep its
`git-remote-https` child).
Credentials reach git only through GIT_CONFIG_* environment variables: never argv (visible
in `ps`), never the mirror's config, never the URL.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scanner.git.runner import GitError, describe_failure, git_env

# Our own namespace: never fetched into, never pruned, never sent by a remote.
HELD_PREFIX = "refs/devtoken/rewritten/"
LOCAL_GRACE = 120.0
_FETCH_SPECS = ("+refs/*:refs/*", "^refs/devtoken/*")
# A mirror is only ever written by us; gc would drop objects a force-push orphaned before
# they are scanned, and background maintenance would race the next fetch.
_MIRROR_CONFIG = (
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("fetch.writeCommitGraph", "false"),
    ("core.logAllRefUpdates", "false"),
    ("remote.origin.mirror", "true"),
)
_UNSET_ENV = ("GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")

ChangeKind = Literal["created", "updated", "forced", "deleted"]


class GitTimeout(GitError):
    """git did not finish within its timeout; its whole process group was killed."""


class Deadline:
    """The time one repository may take over all its git calls, not per call."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()


@dataclass(frozen=True)
class HttpAuth:
    """A token for every URL under `prefix` (e.g. "https://github.com/"); repr hides it."""

    prefix: str
    username: str
    token: str = field(repr=False)

    def header(self) -> str:
        pair = f"{self.username}:{self.token}".encode()
        return "Authorization: Basic " + base64.b64encode(pair).decode()


@dataclass(frozen=True)
class RefChange:
    """One ref that moved in a fetch; `dropped` means commits of `old` are now reachable
    from no ref but our hold (history rewritten or branch deleted)."""

    ref: str
    old: str | None
    new: str | None
    kind: ChangeKind
    dropped: bool = False


@dataclass(frozen=True)
class FetchOutcome:
    before: dict[str, str]
    after: dict[str, str]
    changes: tuple[RefChange, ...]
    held: tuple[str, ...]


def mirror_env(
    auths: Sequence[HttpAuth] = (),
    protocols: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a mirror's git: no prompts, no inherited helpers or config
    overrides, each token as an http.<prefix>.extraHeader scoped to its own prefix."""
    env = dict(base) if base is not None else git_env()
    for name in [*_UNSET_ENV, *(k for k in env if k.startswith("GIT_CONFIG_KEY_"))]:
        env.pop(name, None)
    for name in [k for k in env if k.startswith("GIT_CONFIG_VALUE_")]:
        env.pop(name, None)
    pairs = [("credential.helper", ""), ("core.askPass", "")]
    pairs += [(f"http.{auth.prefix}.extraHeader", auth.header()) for auth in auths]
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    if protocols:
        env["GIT_ALLOW_PROTOCOL"] = protocols
    return env


def run_bounded(
    git_dir: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    deadline: Deadline,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`git --git-dir=git_dir args` in a new process group, killed whole at the deadline."""
    left = deadline.remaining()
    if left <= 0:
        raise GitTimeout(f"git {args[0]} not started: {deadline.seconds:g}s were used up")
    try:
        proc = subprocess.Popen(
            ["git", f"--git-dir={git_dir}", *args],
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    try:
        out, err = proc.communicate(input, timeout=left)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise GitTimeout(f"git {args[0]} timed out after {deadline.seconds:g}s") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _git(git_dir: Path, args: Sequence[str], env: Mapping[str, str], deadline: Deadline) -> bytes:
    done = run_bounded(git_dir, args, env, deadline)
    if done.returncode != 0:
        raise GitError(describe_failure(args, done.stderr))
    return done.stdout


def create_mirror(
    git_dir: Path, url: str, env: Mapping[str, str], deadline: Deadline, head: str | None = None
) -> FetchOutcome:
    """A new bare mirror of `url` at `git_dir`, built beside it and moved in only when the
    first fetch succeeded, so a failed or killed clone leaves nothing half-made."""
    partial = git_dir.with_name(git_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        _git(partial, ["init", "--quiet", "--bare", str(partial)], env, deadline)
        for key, value in (*_MIRROR_CONFIG, ("remote.origin.url", url)):
            _git(partial, ["config", key, value], env, deadline)
        for spec in _FETCH_SPECS:
            _git(partial, ["config", "--add", "remote.origin.fetch", spec], env, deadline)
        if head:
            _git(partial, ["symbolic-ref", "HEAD", f"refs/heads/{head}"], env, deadline)
        outcome = fetch_mirror(partial, env, deadline)
        os.replace(partial, git_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return outcome


def fetch_mirror(git_dir: Path, env: Mapping[str, str], deadline: Deadline) -> FetchOutcome:
    """Fetch with --prune; tips before and after, and every tip whose history dropped out
    held under refs/devtoken/rewritten/<sha> until `release_held` (objects stay: no gc,
    only the repack of `consolidate`, which drops nothing)."""
    before = read_tips(git_dir, env, deadline)
    _git(git_dir, ["fetch", "--prune", "--quiet", "--no-write-fetch-head", "origin"], env, deadline)
    # Once fetched, the refs have moved: the local steps that hold what dropped out must
    # not be cut short by a deadline the network used up.
    local = Deadline(max(deadline.remaining(), LOCAL_GRACE))
    after = read_tips(git_dir, env, local)
    changes = tuple(_classify(git_dir, before, after, env, local))
    held = sorted({c.old for c in changes if c.dropped and c.old})
    hold(git_dir, held, env, local)
    if changes:
        consolidate(git_dir, env, local)
    return FetchOutcome(before, after, changes, tuple(held))


def consolidate(git_dir: Path, env: Mapping[str, str], deadline: Deadline) -> None:
    """Roll the small packs and loose objects fetches left into bigger packs, dropping none.

    With gc off, each fetch adds a pack (or loose objects, under fetch.unpackLimit): a
    nightly scan would pile up hundreds and slow every git call on the mirror. A
    geometric repack keeps their count logarithmic and includes every object of what it
    rolls up, reachable or not, so what a force-push orphaned is still there to scan.
    A git too old for it (before 2.32) leaves the mirror as it was: only slower.
    """
    with contextlib.suppress(GitError):
        _git(git_dir, ["repack", "-d", "-q", "--geometric=2"], env, deadline)


def read_tips(git_dir: Path, env: Mapping[str, str], deadline: Deadline) -> dict[str, str]:
    out = _git(git_dir, ["for-each-ref", "--format=%(objectname) %(refname)"], env, deadline)
    tips: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition(" ")
        if not ref.startswith(HELD_PREFIX):
            tips[ref] = sha
    return tips


def _classify(
    git_dir: Path,
    before: Mapping[str, str],
    after: Mapping[str, str],
    env: Mapping[str, str],
    deadline: Deadline,
) -> list[RefChange]:
    changes: list[RefChange] = []
    for ref in sorted(set(before) | set(after)):
        old, new = before.get(ref), after.get(ref)
        if old == new:
            continue
        if old is None:
            changes.append(RefChange(ref, None, new, "created"))
            continue
        kind: ChangeKind = "deleted"
        if new is not None:
            kind = "updated" if _is_ancestor(git_dir, old, new, env, deadline) else "forced"
        dropped = kind != "updated" and _dropped_out(git_dir, old, env, deadline)
        changes.append(RefChange(ref, old, new, kind, dropped))
    return changes


def _is_ancestor(
    git_dir: Path, old: str, new: str, env: Mapping[str, str], deadline: Deadline
) -> bool:
    done = run_bounded(git_dir, ["merge-base", "--is-ancestor", old, new], env, deadline)
    return done.returncode == 0


def _dropped_out(git_dir: Path, old: str, env: Mapping[str, str], deadline: Deadline) -> bool:
    """Whether some commit of `old` is reachable from no ref (ours excluded)."""
    args = ["rev-list", "-n1", old, "--not", "--exclude=refs/devtoken/*", "--all"]
    done = run_bounded(git_dir, args, env, deadline)
    # Not a commit (a moved tag on a blob, say): hold it to be safe.
    return done.returncode != 0 or bool(done.stdout.strip())


def hold(git_dir: Path, shas: Sequence[str], env: Mapping[str, str], deadline: Deadline) -> None:
    _update_refs(git_dir, [f"update {HELD_PREFIX}{sha} {sha}" for sha in shas], env, deadline)


def release_held(
    git_dir: Path, shas: Sequence[str], env: Mapping[str, str], deadline: Deadline
) -> None:
    """Once scanned, a held tip may go (a later gc may then drop its objects)."""
    _update_refs(git_dir, [f"delete {HELD_PREFIX}{sha}" for sha in shas], env, deadline)


def held_tips(git_dir: Path, env: Mapping[str, str], deadline: Deadline) -> list[str]:
    out = _git(git_dir, ["for-each-ref", "--format=%(refname)", HELD_PREFIX], env, deadline)
    return [line[len(HELD_PREFIX) :] for line in out.decode().splitlines()]


def _update_refs(
    git_dir: Path, commands: Sequence[str], env: Mapping[str, str], deadline: Deadline
) -> None:
    if not commands:
        return
    text = "".join(f"{line}\n" for line in commands).encode()
    proc = run_bounded(git_dir, ["update-ref", "--stdin"], env, deadline, input=text)
    if proc.returncode != 0:
        raise GitError(describe_failure(["update-ref"], proc.stderr))


def set_origin(git_dir: Path, url: str, env: Mapping[str, str], deadline: Deadline) -> None:
    _git(git_dir, ["config", "remote.origin.url", url], env, deadline)
