"""Blob reading and scanning on worker processes fed while history is walked.

Each worker owns one `git cat-file --batch` pipe and a BlobScanner; the parent
parses `git log` and hands newly discovered blobs to the workers in batches,
so reading starts before the history walk ends and both cores stay busy. The
GIL never limits it: workers are processes (forked, so the compiled engine is
shared copy-on-write, not rebuilt).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from scanner.engine import Engine
from scanner.git.blobscan import BlobScanner, BlobScanResult
from scanner.git.objects import read_blobs
from scanner.git.runner import GitError

BATCH = 512  # blob names per message to a worker


def scan_blobs(
    repo: str,
    engine: Engine,
    batches: Iterable[list[bytes]],
    jobs: int,
    scan_binary: bool = False,
    max_size: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> BlobScanResult:
    """Scan every blob named in `batches`; `jobs` processes (1: in this process)."""
    if jobs <= 1:
        names = (name for batch in batches for name in batch)
        return BlobScanner(engine, scan_binary).feed_all(read_blobs(repo, names, max_size))
    options = (scan_binary, max_size)
    return _parallel(repo, engine, batches, jobs, options, on_progress)


def _parallel(
    repo: str,
    engine: Engine,
    batches: Iterable[list[bytes]],
    jobs: int,
    options: tuple[bool, int],
    on_progress: Callable[[int], None] | None,
) -> BlobScanResult:
    context = multiprocessing.get_context("fork")
    tasks: Any = context.Queue(maxsize=jobs * 8)
    results: Any = context.Queue()
    done_blobs: Synchronized[int] = context.Value("q", 0)
    workers = [
        context.Process(
            target=_work,
            args=(repo, engine, tasks, results, options, done_blobs),
            name=f"devtoken-blobs-{i}",
            daemon=True,
        )
        for i in range(jobs)
    ]
    for worker in workers:
        worker.start()
    try:
        for batch in batches:
            _put(tasks, batch, workers, results)
            if on_progress:
                on_progress(done_blobs.value)
        for _ in workers:
            _put(tasks, None, workers, results)
        merged = BlobScanResult()
        for _ in workers:
            status, payload = _get(results, workers, on_progress, done_blobs)
            if status == "error":
                raise GitError(payload)
            merged.merge(payload)
        return merged
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


def _put(tasks: Any, item: list[bytes] | None, workers: list[Any], results: Any) -> None:
    while True:
        try:
            tasks.put(item, timeout=0.5)
            return
        except queue.Full:
            _check_alive(workers, results)


def _get(results: Any, workers: list[Any], on_progress: Any, done: Synchronized[int]) -> Any:
    while True:
        try:
            return results.get(timeout=0.2)
        except queue.Empty:
            if on_progress:
                on_progress(done.value)
            _check_alive(workers, results)


def _check_alive(workers: list[Any], results: Any) -> None:
    """A worker that stopped early failed: raise its error instead of waiting forever."""
    if all(worker.is_alive() for worker in workers):
        return
    try:
        status, payload = results.get(timeout=1.0)
    except queue.Empty:
        codes = [w.exitcode for w in workers if not w.is_alive()]
        raise GitError(f"a blob reader died (exit code {codes[0]})") from None
    if status == "error":
        raise GitError(payload)
    results.put((status, payload))  # a worker that finished normally; keep its result


def _work(
    repo: str,
    engine: Engine,
    tasks: Any,
    results: Any,
    options: tuple[bool, int],
    done_blobs: Synchronized[int],
) -> None:
    scan_binary, max_size = options

    def names() -> Iterator[bytes]:
        while (batch := tasks.get()) is not None:
            yield from batch
            with done_blobs.get_lock():
                done_blobs.value += len(batch)

    try:
        result = BlobScanner(engine, scan_binary).feed_all(read_blobs(repo, names(), max_size))
        results.put(("ok", result))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
