"""Read blobs in bulk through `git cat-file --batch` pipes.

A feeder thread writes object names while the caller reads contents, so the
pipes never deadlock; a missing object (a partial mirror, a pruned LFS store)
is reported as missing and the read goes on.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from scanner.git.runner import GitError, describe_failure, popen_git


@dataclass(frozen=True)
class ObjectInfo:
    sha: bytes
    kind: bytes  # blob, tree, commit, tag, or b"missing"
    size: int


def _feed(pipe: IO[bytes] | None, names: Iterable[bytes]) -> threading.Thread:
    def write() -> None:
        assert pipe is not None
        try:
            for name in names:
                pipe.write(name + b"\n")
            pipe.close()
        except (BrokenPipeError, OSError):
            pass

    feeder = threading.Thread(target=write, name="devtoken-git-feed", daemon=True)
    feeder.start()
    return feeder


def object_infos(repo: str, names: Iterable[bytes]) -> Iterator[ObjectInfo]:
    """`cat-file --batch-check` for each name (a sha or `rev:path`)."""
    proc = popen_git(repo, ["cat-file", "--batch-check"], stdin=subprocess.PIPE)
    feeder = _feed(proc.stdin, names)
    assert proc.stdout is not None
    for line in proc.stdout:
        parts = line.split()
        if len(parts) >= 2 and parts[-1] == b"missing":
            yield ObjectInfo(parts[0], b"missing", 0)
        elif len(parts) == 3:
            yield ObjectInfo(parts[0], parts[1], int(parts[2]))
    feeder.join()
    _finish(proc, "cat-file --batch-check")


def read_blobs(
    repo: str, shas: Iterable[bytes], max_size: int = 0
) -> Iterator[tuple[bytes, bytes | None, str]]:
    """(sha, content, note) per sha; content None with note 'missing' or 'too-large'.

    Blobs over `max_size` (0: no limit) are drained from the pipe in pieces,
    never held in memory.
    """
    proc = popen_git(repo, ["cat-file", "--batch"], stdin=subprocess.PIPE)
    feeder = _feed(proc.stdin, shas)
    out = proc.stdout
    assert out is not None
    while True:
        header = out.readline()
        if not header:
            break
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
        yield parts[0], data, ""
    feeder.join()
    _finish(proc, "cat-file --batch")


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
