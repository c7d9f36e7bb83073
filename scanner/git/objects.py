"""Read blobs in bulk through `git cat-file --batch` pipes.

A feeder thread writes object names while the caller reads contents, so the
pipes never deadlock; a missing object (a partial mirror, a pruned LFS store)
is reported as missing and the read goes on.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from scanner.git.runner import GitError, describe_failure, popen_git, run_git

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import IO


@dataclass(frozen=True)
class ObjectInfo:
    """What `cat-file --batch-check` says of one object."""

    sha: bytes
    kind: bytes  # blob, tree, commit, tag, or b"missing"
    size: int


# Names that fit in a pipe's buffer (Linux 64 KiB, macOS 16 KiB) are written at once:
# the write cannot wait on git, so no thread is needed (the hook's dozen blobs).
INLINE_NAMES_BYTES = 8 << 10


class _Written:
    """What `feed` returns when it wrote everything itself: nothing to wait for."""

    def join(self) -> None:
        return None


def feed(pipe: IO[bytes] | None, names: Iterable[bytes]) -> threading.Thread | _Written:
    """Write one name a line to `pipe`, then close it: on a thread, unless `names` is a
    short sequence that fits in the pipe's buffer."""

    def write() -> None:
        assert pipe is not None
        try:
            for name in names:
                pipe.write(name + b"\n")
            pipe.close()
        except (BrokenPipeError, OSError):
            pass

    if isinstance(names, Sequence) and fits_inline(names):
        write()
        return _Written()
    feeder = threading.Thread(target=write, name="devtoken-git-feed", daemon=True)
    feeder.start()
    return feeder


def fits_inline(names: Sequence[bytes]) -> bool:
    """Whether `names`, one a line, fit in a pipe's buffer (see INLINE_NAMES_BYTES)."""
    return len(names) * 2 <= INLINE_NAMES_BYTES and (
        sum(len(name) + 1 for name in names) <= INLINE_NAMES_BYTES
    )


# `cat-file --batch` reads one name per line and drops a trailing CR: a
# `rev:path` name holding either is looked up with `ls-tree` instead.
_UNLINEABLE = (b"\n", b"\r")
# More paths than this: list each commit's tree once (git resolves each
# `rev:path` by scanning its directory, quadratic in a wide directory).
TREE_LISTING = 512


def blobs_at(
    repo: str, commits: Sequence[str], paths: Sequence[bytes]
) -> dict[tuple[str, bytes], bytes]:
    """The blob id at each (commit, path) that holds a blob; any byte allowed in paths."""
    found: dict[tuple[str, bytes], bytes] = {}
    if len(paths) > TREE_LISTING:
        wanted = set(paths)
        for commit in commits:
            for path, blob in _tree_blobs(repo, commit):
                if path in wanted:
                    found[commit, path] = blob
        return found
    lineable = [p for p in paths if not any(c in p for c in _UNLINEABLE)]
    queries = [(commit, path) for commit in commits for path in lineable]
    names = [f"{commit}:".encode() + path for commit, path in queries]
    for query, info in zip(queries, object_infos(repo, names), strict=True):
        if info.kind == b"blob":
            found[query] = info.sha
    for path in paths:
        if path not in lineable:
            for commit in commits:
                for name, blob in _tree_blobs(repo, commit, path):
                    if name == path:
                        found[commit, path] = blob
    return found


def _tree_blobs(repo: str, commit: str, path: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob id) of the blobs in `commit`'s tree (under the literal `path`)."""
    args: list[str | bytes] = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", commit]
    out = run_git(repo, [*args, "--", path] if path is not None else args)
    for entry in out.split(b"\0"):
        meta, tab, name = entry.partition(b"\t")
        parts = meta.split()
        if tab and len(parts) == 3 and parts[1] == b"blob":
            yield name, parts[2]


def object_infos(repo: str, names: Iterable[bytes]) -> Iterator[ObjectInfo]:
    """`cat-file --batch-check` for each name (a sha or `rev:path` without CR or LF)."""
    proc = popen_git(repo, ["cat-file", "--batch-check"], stdin=subprocess.PIPE)
    feeder = feed(proc.stdin, names)
    assert proc.stdout is not None
    for line in proc.stdout:
        parts = line.split()
        if len(parts) >= 2 and parts[-1] == b"missing":
            yield ObjectInfo(parts[0], b"missing", 0)
        elif len(parts) == 3:
            yield ObjectInfo(parts[0], parts[1], int(parts[2]))
    feeder.join()
    _finish(proc, "cat-file --batch-check")


def store_objects(repo: str) -> Iterator[tuple[bytes, bytes]]:
    """(id, type) of every object in the store: packs, loose objects and alternates."""
    args = [
        "cat-file",
        "--batch-all-objects",
        "--unordered",
        "--batch-check=%(objectname) %(objecttype)",
    ]
    proc = popen_git(repo, args, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    for line in proc.stdout:
        sha, _, kind = line.rstrip(b"\n").partition(b" ")
        yield sha, kind
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise GitError(describe_failure(["cat-file"], stderr))


def read_blobs(
    repo: str, shas: Iterable[bytes], max_size: int = 0
) -> Iterator[tuple[bytes, bytes | None, str]]:
    """(sha, content, note) per sha; content None with note 'missing', 'too-large' or 'corrupt'.

    The note of a commit object (read for its message) is 'commit', of a tag object 'tag'.

    Blobs over `max_size` (0: no limit) are drained from the pipe in pieces,
    never held in memory. When git dies on a corrupt object, that object is
    reported as corrupt and a new `cat-file` carries on with the rest.
    """
    short = isinstance(shas, Sequence) and fits_inline(shas)
    pending = iter(shas)
    retry: list[bytes] = []
    while True:
        outstanding: deque[bytes] = deque()

        proc = popen_git(repo, ["cat-file", "--batch"], stdin=subprocess.PIPE)
        names: Iterable[bytes] = _tracked(itertools.chain(retry, pending), outstanding)
        feeder = feed(proc.stdin, list(names) if short else names)
        try:
            for item in _batch_output(proc, max_size):
                outstanding.popleft()
                yield item
        except GitError:
            pass
        else:
            if not outstanding:
                feeder.join()
                _finish(proc, "cat-file --batch")
                return
        proc.kill()
        feeder.join()
        stderr = proc.stderr.read() if proc.stderr else b""
        proc.wait()
        if not outstanding:
            raise GitError(describe_failure(["cat-file --batch"], stderr))
        yield outstanding.popleft(), None, "corrupt"
        retry = list(outstanding)


def _tracked(names: Iterator[bytes], outstanding: deque[bytes]) -> Iterator[bytes]:
    """Remember what was asked and not yet answered, to resume after a crash."""
    for name in names:
        outstanding.append(name)
        yield name


def _batch_output(
    proc: subprocess.Popen[bytes], max_size: int
) -> Iterator[tuple[bytes, bytes | None, str]]:
    out = proc.stdout
    assert out is not None
    while True:
        header = out.readline()
        if not header:
            return
        parts = header.split()
        if len(parts) >= 2 and parts[-1] == b"missing":
            yield parts[0], None, "missing"
            continue
        if len(parts) != 3:
            raise GitError(f"unexpected cat-file output: {header[:80]!r}")
        size = int(parts[2])
        if max_size and size > max_size:
            _drain(out, size + 1)
            yield parts[0], None, f"too-large:{size}"
            continue
        data = out.read(size)
        out.read(1)  # the newline after each object
        if len(data) != size:
            raise GitError("git cat-file ended in the middle of an object (corrupt repository?)")
        yield parts[0], data, _NOTES.get(parts[1], "")


_NOTES = {b"commit": "commit", b"tag": "tag"}  # objects read for their messages


def _drain(out: IO[bytes], size: int) -> None:
    while size > 0:
        piece = out.read(min(size, 1 << 20))
        if not piece:
            raise GitError("git cat-file ended in the middle of an object (corrupt repository?)")
        size -= len(piece)


def _finish(proc: subprocess.Popen[bytes], what: str) -> None:
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise GitError(describe_failure([what], stderr))
