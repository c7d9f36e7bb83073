"""`cat-file --batch` is fed names on a thread only when they might not fit in the pipe:
the hook's dozen blobs are written at once (no thread to start), a history's many by a
feeder thread (so writing never waits on git's output), with the same answers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from scanner.git.objects import INLINE_NAMES_BYTES, feed, fits_inline, read_blobs
from tests.gitrepo import Repo


def _blobs(repo: Repo, count: int) -> dict[bytes, bytes]:
    """`count` distinct blobs written to the object store: sha -> content."""
    out = {}
    for n in range(count):
        content = f"blob {n}\n".encode()
        path = repo.path / "blob.txt"
        path.write_bytes(content)
        out[repo.git("hash-object", "-w", str(path)).encode()] = content
    return out


def _feeders_started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads started from now on."""
    started: list[str] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    return started


def test_a_short_list_is_written_at_once_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "r")
    blobs = _blobs(repo, 12)
    names = sorted(blobs)
    assert fits_inline(names)
    started = _feeders_started(monkeypatch)
    read = {sha: data for sha, data, _ in read_blobs(str(repo.path), names)}
    assert (read, started) == (blobs, [])


def test_names_past_the_pipe_buffer_go_through_a_feeder_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "r")
    blobs = _blobs(repo, 3)
    missing = [os.urandom(20).hex().encode() for _ in range(INLINE_NAMES_BYTES // 41 + 10)]
    names = [*sorted(blobs), *missing]
    assert not fits_inline(names)
    started = _feeders_started(monkeypatch)
    found = {sha: (data, note) for sha, data, note in read_blobs(str(repo.path), names)}
    assert started == ["devtoken-git-feed"]
    assert {sha: found[sha][0] for sha in blobs} == blobs
    assert {found[sha] for sha in missing} == {(None, "missing")}
    read, write = os.pipe()
    with os.fdopen(read, "rb") as reader, os.fdopen(write, "wb") as writer:
        feeder = feed(writer, names)
        assert isinstance(feeder, threading.Thread)
        assert reader.read().split(b"\n")[:-1] == names
        feeder.join()
