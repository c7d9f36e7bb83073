"""Progress of a long scan as plain data: what the library reports, the CLI draws.

Imported only when someone asked for progress (a bar is shown), so the pre-commit hook
and every non-terminal scan never load it. `FileMeter` is the files scan's side: it
lists the inputs first (so the total is known), then counts files and bytes as worker
threads read them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scanner.models import Skipped
from scanner.sources.files import Input

WALK, SCAN, FINISH = "walk", "scan", "finish"


@dataclass(frozen=True)
class ProgressEvent:
    """Where a scan is. `phase` WALK: still finding work, `total` (and `bytes_total`) is
    what was found so far and grows; SCAN: totals are final; FINISH: all read, the work
    after it (a history's attribution to commits) runs. `unit`: what `done` counts."""

    phase: str  # WALK, SCAN or FINISH
    unit: str  # "files" or "blobs"
    done: int
    total: int
    bytes_done: int = 0
    bytes_total: int | None = None  # None: not known (stdin, git blobs)
    commits: int | None = None  # a history scan: commits walked so far


OnProgress = Callable[[ProgressEvent], None]


class FileMeter:
    """Files and bytes done of the listed total; safe to call from the scan's threads.

    A file's bytes count up to its size on disk as its blocks are scanned (a decompressed
    stream reads more than that, so each file is capped), and exactly its size once done.
    """

    def __init__(self, emit: OnProgress, files: int = 0, size: int | None = 0) -> None:
        self.emit = emit
        self.files_total, self.bytes_total = files, size
        self.files_done = self.bytes_done = 0
        self.lock = threading.Lock()

    def listed(self, items: Iterable[Input | Skipped], every: int = 256) -> list[Input | Skipped]:
        """Every item, counting the inputs and their sizes (a WALK event per `every`)."""
        listed: list[Input | Skipped] = []
        for item in items:
            listed.append(item)
            if isinstance(item, Input):
                self.files_total += 1
                if item.size is None or self.bytes_total is None:
                    self.bytes_total = None
                else:
                    self.bytes_total += item.size
                if self.files_total % every == 0:
                    self._send(WALK)
        self._send(SCAN)
        return listed

    def file(self, item: Input) -> FileTick:
        return FileTick(self, item.size)

    def add(self, files: int, size: int) -> None:
        with self.lock:
            self.files_done += files
            self.bytes_done += size
            self._send(SCAN)

    def _send(self, phase: str) -> None:
        done, total = self.files_done, self.files_total
        self.emit(ProgressEvent(phase, "files", done, total, self.bytes_done, self.bytes_total))


class FileTick:
    """One input's share of a FileMeter: its bytes as they are read, then the file."""

    def __init__(self, meter: FileMeter, size: int | None) -> None:
        self.meter, self.size, self.counted = meter, size, 0

    def blocks(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        for block in blocks:
            yield block
            self._count(len(block))

    def _count(self, size: int) -> None:
        if self.size is not None:
            size = max(0, min(size, self.size - self.counted))
        if size:
            self.counted += size
            self.meter.add(0, size)

    def done(self) -> None:
        rest = self.size - self.counted if self.size is not None else 0
        self.counted += rest
        self.meter.add(1, rest)
