"""Blob reading and scanning on worker processes fed while history is walked.

Each worker owns one `git cat-file --batch` pipe and a BlobScanner; the parent
parses `git log` and hands newly discovered objects to the workers in batches,
so reading starts before the history walk ends and both cores stay busy. The
GIL never limits it: workers are processes (forked, so the compiled engine is
shared copy-on-write, not rebuilt).

A worker's life is judged by what it sent, not by whether it still runs: every
worker reports exactly once, tagged with its index, and a worker counts as
dead only when it has stopped *without* having reported (after draining what
is already in the result pipe). A worker that finished early and exited 0 is
done, never dead.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from scanner.engine import Engine
from scanner.git.blobscan import BlobScanner, BlobScanResult
from scanner.git.objects import read_blobs
from scanner.git.runner import GitError

POLL = 0.2  # seconds between liveness checks while waiting


def scan_blobs(
    repo: str,
    engine: Engine,
    batches: Iterable[list[bytes]],
    jobs: int,
    scan_binary: bool = False,
    max_size: int = 0,
    on_progress: Callable[[int], None] | None = None,
    tail: Callable[[], Iterable[bytes]] = tuple,
) -> BlobScanResult:
    """Scan every object named in `batches`, then those `tail()` names once they are known.

    `jobs` processes (1: all in this process). The tail (the commits, for their
    messages) is read by this process while the workers finish their batches:
    it would otherwise sit idle then.
    """
    scanner = BlobScanner(engine, scan_binary)
    if jobs <= 1:
        if on_progress:
            batches = _reporting(batches, on_progress)
        names = itertools.chain(itertools.chain.from_iterable(batches), _later(tail))
        return scanner.feed_all(read_blobs(repo, names, max_size))
    pool = _Pool(repo, engine, jobs, (scan_binary, max_size))
    try:
        for batch in batches:
            pool.put(batch)
            if on_progress:
                on_progress(pool.done.value)
        pool.end_input()
        messages: Iterable[bytes] = tail()
        if on_progress:  # the walk is over; the workers go on while this reads the messages
            on_progress(pool.done.value)
            messages = _ticking(messages, lambda: on_progress(pool.done.value))
        mine = scanner.feed_all(read_blobs(repo, messages, max_size))
        merged = pool.collect(on_progress)
        merged.merge(mine)
        return merged
    finally:
        pool.stop()


def _later(names: Callable[[], Iterable[bytes]]) -> Iterator[bytes]:
    yield from names()


def _reporting(
    batches: Iterable[list[bytes]], on_progress: Callable[[int], None]
) -> Iterator[list[bytes]]:
    """The batches, reporting how many names were taken before each next one (one process)."""
    taken = 0
    for batch in batches:
        on_progress(taken)
        yield batch
        taken += len(batch)
    on_progress(taken)


def _ticking(names: Iterable[bytes], tick: Callable[[], None], every: int = 256) -> Iterator[bytes]:
    for count, name in enumerate(names, 1):
        yield name
        if count % every == 0:
            tick()


class _Pool:
    """Worker processes, the task queue that feeds them and what each has reported."""

    def __init__(self, repo: str, engine: Engine, jobs: int, options: tuple[bool, int]) -> None:
        context = multiprocessing.get_context("fork")
        self.tasks: Any = context.Queue(maxsize=jobs * 8)
        self.results: Any = context.Queue()
        self.done: Synchronized[int] = context.Value("q", 0)
        self.reported: dict[int, BlobScanResult] = {}
        parent = os.getpid()
        self.workers = [
            context.Process(
                target=_work,
                args=(i, parent, repo, engine, self.tasks, self.results, options, self.done),
                name=f"devtoken-blobs-{i}",
                daemon=True,
            )
            for i in range(jobs)
        ]
        for worker in self.workers:
            worker.start()

    def put(self, item: list[bytes] | None) -> None:
        """Queue a batch (None: a worker's end of input); raise if a worker failed meanwhile."""
        while True:
            self._collect(block=False)
            try:
                self.tasks.put(item, timeout=POLL * 2)
                return
            except queue.Full:
                self._check_workers()

    def end_input(self) -> None:
        for _ in self.workers:
            self.put(None)

    def collect(self, on_progress: Callable[[int], None] | None) -> BlobScanResult:
        """Merge the results every worker sends once its input ended."""
        while len(self.reported) < len(self.workers):
            if not self._collect(block=True):
                if on_progress:
                    on_progress(self.done.value)
                self._check_workers()
        merged = BlobScanResult()
        for index in sorted(self.reported):
            merged.merge(self.reported[index])
        return merged

    def stop(self) -> None:
        """End every worker; batches still queued are dropped, not flushed at exit.

        Without `cancel_join_thread` a scan that failed with batches still
        queued would hang at interpreter exit, its feeder thread blocked on a
        pipe no worker reads any more.
        """
        self.tasks.cancel_join_thread()
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        self.tasks.close()
        self.results.close()

    def _collect(self, block: bool) -> bool:
        """Take the reports waiting in the result pipe; True when at least one came."""
        got = False
        while True:
            try:
                index, status, payload = (
                    self.results.get(timeout=POLL)
                    if block and not got
                    else self.results.get_nowait()
                )
            except queue.Empty:
                return got
            if status == "error":
                raise GitError(payload)
            self.reported[index] = payload
            got = True

    def _check_workers(self) -> None:
        """Raise for a worker that stopped without reporting (crashed, killed, out of memory)."""
        stopped = [
            i for i, w in enumerate(self.workers) if i not in self.reported and not w.is_alive()
        ]
        if not stopped:
            return
        # A worker's report is fully in the pipe once it has exited: read it before judging.
        self._collect(block=False)
        for index in stopped:
            if index not in self.reported:
                raise GitError(_death(self.workers[index].exitcode))


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"a blob reader was killed by signal {-code} before it reported"
    return f"a blob reader stopped (exit code {code}) before it reported"


def _work(
    index: int,
    parent: int,
    repo: str,
    engine: Engine,
    tasks: Any,
    results: Any,
    options: tuple[bool, int],
    done_blobs: Synchronized[int],
) -> None:
    scan_binary, max_size = options

    def names() -> Iterator[bytes]:
        while (batch := _next_task(tasks, parent)) is not None:
            yield from batch
            with done_blobs.get_lock():
                done_blobs.value += len(batch)

    try:
        result = BlobScanner(engine, scan_binary).feed_all(read_blobs(repo, names(), max_size))
        results.put((index, "ok", result))
    except BaseException as exc:
        results.put((index, "error", f"{type(exc).__name__}: {exc}"))


def _next_task(tasks: Any, parent: int) -> list[bytes] | None:
    """The next batch, or None at the end of input.

    A parent that was killed never sends the end: the worker then ends its
    input itself (its `cat-file` sees EOF), so no worker outlives the scan.
    """
    while True:
        try:
            batch: list[bytes] | None = tasks.get(timeout=1.0)
            return batch
        except queue.Empty:
            if os.getppid() != parent:
                return None
