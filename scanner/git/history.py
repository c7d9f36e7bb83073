"""Parse `git log --raw -z` into what each commit added and removed.

One pass over the selected history: for every blob a commit added at a path
(status A/M/T against the first parent; root commits add everything) we keep
the earliest such commit, so each unique blob is scanned once and a finding is
attributed to the commit that introduced it. Paths are kept as raw bytes
(non-UTF-8 names survive) and interned, commits as indexes, so a 160k-commit
history fits in tens of MB.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from scanner.git.objects import feed
from scanner.git.runner import GitError, describe_failure, popen_git

COMMIT_MARK = b"\x01"
NULL_SHA = b"0" * 40
GITLINK_MODE = b"160000"
MANY_PLACES = 16  # paths per blob kept as a list; more are kept by path
LOG_FORMAT = "%x01%H %ct"
RAW_ARGS = ("--raw", "--no-abbrev", "--no-renames", "--diff-merges=first-parent", "-z")


@dataclass(frozen=True)
class Change:
    """One path changed by one commit."""

    commit: int  # index into History.commits
    path: bytes
    old_blob: bytes  # hex; NULL_SHA when added
    new_blob: bytes  # hex; NULL_SHA when deleted
    status: bytes  # A, M, D, T
    submodule: bool = False


@dataclass
class History:
    """Commits in log order and, per blob, every path it was added at (earliest commit each).

    Compact on purpose (a 230k-blob history in ~30 MB): blob ids are kept as
    20 raw bytes, paths are interned once, and a place is one int packing
    (commit index, path index). Most blobs live at one path; a renamed or
    copied blob keeps a short list, so a secret that moved is still known to
    be present at its new path. A blob at very many paths (the empty
    `__init__.py`) gets a dict by path, so adding stays O(1).
    """

    commits: list[tuple[bytes, int]] = field(default_factory=list)  # (sha hex, committer time)
    paths: list[bytes] = field(default_factory=list)
    _path_ids: dict[bytes, int] = field(default_factory=dict)
    _places: dict[bytes, int | list[int] | dict[int, int]] = field(default_factory=dict)
    submodules: int = 0

    def __len__(self) -> int:
        """Unique blobs seen."""
        return len(self._places)

    def __contains__(self, blob: bytes) -> bool:
        return _raw(blob) in self._places

    def places(self, blob: bytes) -> list[tuple[int, bytes]]:
        """(commit index, path) for each path `blob` (hex) was added at, earliest commit first."""
        entry = self._places.get(_raw(blob))
        if entry is None:
            return []
        packed = _packed(entry)
        found = [(p >> 32, self.paths[p & 0xFFFFFFFF]) for p in packed]
        return sorted(found, key=lambda place: self.commits[place[0]][1])

    def first_seen(self, blob: bytes) -> tuple[int, bytes] | None:
        """(commit index, path) of the earliest commit that added `blob` (hex)."""
        found = self.places(blob)
        return found[0] if found else None

    def add(self, change: Change) -> bool:
        """Record a change; True when it adds a blob never seen before."""
        if change.submodule:
            self.submodules += 1
            return False
        if change.new_blob == NULL_SHA:
            return False
        key = _raw(change.new_blob)
        path_id = self._path_ids.get(change.path)
        if path_id is None:
            path_id = self._path_ids[change.path] = len(self.paths)
            self.paths.append(change.path)
        place = change.commit << 32 | path_id
        entry = self._places.get(key)
        if entry is None:
            self._places[key] = place
            return True
        if isinstance(entry, dict):
            known = entry.get(path_id)
            if known is None or self._earlier(place, known):
                entry[path_id] = place
            return False
        packed = [entry] if isinstance(entry, int) else entry
        for n, known in enumerate(packed):
            if known & 0xFFFFFFFF == path_id:
                if self._earlier(place, known):
                    packed[n] = place
                break
        else:
            packed.append(place)
        if len(packed) > MANY_PLACES:
            self._places[key] = {p & 0xFFFFFFFF: p for p in packed}
        else:
            self._places[key] = packed[0] if len(packed) == 1 else packed
        return False

    def _earlier(self, place: int, known: int) -> bool:
        return self.commits[place >> 32][1] < self.commits[known >> 32][1]


def _packed(entry: int | list[int] | dict[int, int]) -> list[int]:
    if isinstance(entry, int):
        return [entry]
    return list(entry.values()) if isinstance(entry, dict) else entry


def _raw(blob: bytes) -> bytes:
    return bytes.fromhex(blob.decode()) if len(blob) == 40 else blob


def log_args(revisions: Sequence[str], max_commits: int | None = None) -> list[str]:
    args = ["log", *RAW_ARGS, f"--format={LOG_FORMAT}"]
    if max_commits:
        args.append(f"--max-count={max_commits}")
    return [*args, *revisions, "--"]


def walk_log(
    repo: str,
    revisions: Sequence[str],
    history: History,
    max_commits: int | None = None,
    paths: Sequence[bytes] = (),
    stdin: Iterable[bytes] | None = None,
) -> Iterator[Change]:
    """Run `git log --raw` over `revisions` (limited to literal `paths`) and yield its changes.

    `stdin`: more revisions, one a line (with `--stdin` among `revisions`).
    Raises GitError with git's own message when the walk fails.
    """
    args: list[str | bytes] = ["--literal-pathspecs", *log_args(revisions, max_commits), *paths]
    proc = popen_git(repo, args, stdin=subprocess.PIPE if stdin is not None else None)
    feeder = feed(proc.stdin, stdin) if stdin is not None else None
    stdout = proc.stdout
    assert stdout is not None
    yield from parse_log(iter(lambda: stdout.read(1 << 20), b""), history)
    if feeder:
        feeder.join()
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise GitError(describe_failure(["log"], stderr))


def parse_log(stream: Iterable[bytes], history: History) -> Iterator[Change]:
    """Yield every Change in a `git log --raw -z` byte stream, filling history.commits."""
    carry = b""
    meta: bytes | None = None
    for block in stream:
        tokens = (carry + block).split(b"\0")
        carry = tokens.pop()
        for token in tokens:
            if meta is not None:
                change = _change(meta, token, len(history.commits) - 1)
                meta = None
                if change is not None:
                    yield change
                continue
            token = token.lstrip(b"\n")
            if token.startswith(COMMIT_MARK):
                sha, _, when = token[1:].partition(b" ")
                history.commits.append((sha, int(when or 0)))
            elif token.startswith(b":"):
                meta = token
    if carry.strip():
        token = carry.lstrip(b"\n")
        if token.startswith(COMMIT_MARK):
            sha, _, when = token[1:].partition(b" ")
            history.commits.append((sha, int(when or 0)))


def _change(meta: bytes, path: bytes, commit: int) -> Change | None:
    parts = meta[1:].split(b" ")
    if len(parts) < 5 or commit < 0:
        return None
    old_mode, new_mode, old_blob, new_blob, status = parts[:5]
    submodule = GITLINK_MODE in (old_mode, new_mode)
    return Change(commit, path, old_blob, new_blob, status[:1], submodule)
