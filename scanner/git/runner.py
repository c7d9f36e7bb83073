"""Run git safely: a clean environment, clear errors, streaming pipes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence

from scanner.errors import SourceError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T", str, bytes)

# Set by hooks and parent git processes; inherited they would point our git
# calls at another repository or index than the one we were asked to scan.
_LEAKY = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)


# Bound how much of a pack git maps at once: without it a history walk maps the
# whole pack (rails: 420 MiB RSS per git process) for no speed gain (measured).
BULK_CONFIG = ("-c", "core.packedGitLimit=256m", "-c", "core.packedGitWindowSize=32m")


# Arguments per git call: far under Linux's ARG_MAX (2 MiB with the environment).
ARGS_BYTES = 256 << 10


class GitError(SourceError):
    """git failed or the repository is unusable; the message says what git said."""


def git_env(keep_index: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    if keep_index and "GIT_INDEX_FILE" in os.environ:
        env["GIT_INDEX_FILE"] = os.environ["GIT_INDEX_FILE"]
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def run_git(
    repo: str,
    args: Sequence[str | bytes],
    env: Mapping[str, str] | None = None,
    check: bool = True,
    on_error: Callable[[str, bytes], GitError] | None = None,
    input: bytes | None = None,
) -> bytes:
    """Run `git -C repo args` (fed `input`) and return stdout; GitError with git's message
    on failure.

    `on_error(repo, stderr)` may turn a failure into a more precise GitError.
    """
    try:
        done = subprocess.run(
            ["git", "-C", repo, *args],
            input=input,
            capture_output=True,
            env=dict(env) if env is not None else git_env(),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if done.returncode != 0 and (check or on_error):
        raise (
            on_error(repo, done.stderr)
            if on_error
            else GitError(describe_failure(args, done.stderr))
        )
    return done.stdout


def popen_git(
    repo: str,
    args: Sequence[str | bytes],
    stdin: int | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", "-C", repo, *BULK_CONFIG, *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else git_env(),
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None


def argument_groups(items: Sequence[T], limit: int = ARGS_BYTES) -> Iterator[list[T]]:
    """Split command-line arguments into groups that each fit in one git call."""
    group: list[T] = []
    size = 0
    for item in items:
        if group and size + len(item) + 1 > limit:
            yield group
            group, size = [], 0
        group.append(item)
        size += len(item) + 1
    if group:
        yield group


def describe_failure(args: Sequence[str | bytes], stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    said = "; ".join(lines[:3]) or "no message"
    command = next((a for a in args if isinstance(a, str) and not a.startswith("-")), "")
    return f"git {command} failed: {said}"
