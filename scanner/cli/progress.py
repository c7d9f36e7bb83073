"""A one-line progress display on a terminal; silent anywhere else.

`Progress` draws a line of text (the org scan's status); `ProgressBar` turns the library's
ProgressEvents into one: done of the total, a smoothed rate and an ETA. The CLI imports
this module only when stderr is a terminal and --quiet was not given.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

from scanner.progress import FINISH, SCAN, ProgressEvent
from scanner.render.escape import visible

Clock = Callable[[], float]
REDRAW = 0.1  # seconds between redraws at most
WINDOW = 3.0  # seconds of samples the rate is measured over


class Progress:
    """`update(text)` redraws at most 10 times a second; `close()` clears the line.

    The line is cut to the terminal's width, so it never wraps (a wrapped line cannot be
    redrawn with `\\r`).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)()
        self.enabled = isatty if enabled is None else enabled
        self.clock = clock
        self._last = -math.inf
        self._width = 0

    def due(self) -> bool:
        """Whether a redraw now would be shown (enabled, and not within REDRAW of the last)."""
        return self.enabled and self.clock() - self._last >= REDRAW

    def update(self, text: str) -> None:
        if self.due():
            self.draw(text)

    def draw(self, text: str) -> None:
        self._last = self.clock()
        line = f"devtoken: {visible(text)}"
        room = columns(self.stream) - 1  # the last column would wrap on some terminals
        if len(line) > room:
            line = line[: max(room - 1, 0)] + "…"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def columns(stream: TextIO) -> int:
    """The width of the terminal `stream` writes to ($COLUMNS, else 80 when unknown)."""
    if "COLUMNS" not in os.environ:
        try:
            return os.get_terminal_size(stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            pass
    return shutil.get_terminal_size().columns


class Rate:
    """Units per second over the last WINDOW seconds of samples: steady enough for an ETA,
    and it forgets a slow start (the engine compiling, a cold cache) within the window."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, done: int) -> float | None:
        """Record (now, done); the rate, or None until two samples are apart in time."""
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.popleft()
        then, before = self.samples[0]
        return (done - before) / (now - then) if now > then else None


class ProgressBar:
    """Draws ProgressEvents on one line: `12/40 files, 3.1/10.0 MB, 2.0 MB/s, ETA 0:04`;
    a history walk as `walking history: 1,200 commits, 3,000 blobs found, 512 scanned`,
    then `512/3,000 blobs (17%), 1,200 commits, 400 blobs/s, ETA 0:07`."""

    def __init__(
        self,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.line = Progress(stream, enabled, clock)
        self.clock = clock
        self.rate = Rate()
        self.phase = ""

    def __call__(self, event: ProgressEvent) -> None:
        """Redraw at most 10 times a second, and whenever the phase changes."""
        if self.line.enabled and (self.line.due() or event.phase != self.phase):
            self.phase = event.phase
            self.line.draw(self.text(event))

    def text(self, event: ProgressEvent) -> str:
        by_bytes = event.unit == "files"
        rate = self.rate.sample(self.clock(), event.bytes_done if by_bytes else event.done)
        if event.phase == FINISH:
            then = "attributing findings to commits" if event.commits is not None else "finishing"
            return f"{event.done:,} {event.unit} scanned, {then}"
        if event.phase != SCAN:
            return _walking(event)
        parts = [f"{event.done:,}/{event.total:,} {event.unit}"]
        if by_bytes:
            parts.append(_bytes(event.bytes_done, event.bytes_total))
        elif event.total:
            parts[0] += f" ({event.done * 100 // event.total}%)"
        if event.commits is not None:
            parts.append(f"{event.commits:,} commits")
        if rate is not None:
            parts.append(
                f"{_bytes(round(rate), None)}/s" if by_bytes else f"{rate:,.0f} {event.unit}/s"
            )
            left = _left(event, by_bytes)
            if left is not None and rate > 0:
                parts.append(f"ETA {_duration(left / rate)}")
        return ", ".join(parts)

    def close(self) -> None:
        self.line.close()


def _left(event: ProgressEvent, by_bytes: bool) -> int | None:
    """What is left to do, in the rate's unit (None: not known, as on stdin)."""
    if not by_bytes:
        return event.total - event.done
    return None if event.bytes_total is None else event.bytes_total - event.bytes_done


def _walking(event: ProgressEvent) -> str:
    if event.commits is not None:
        return (
            f"walking history: {event.commits:,} commits, {event.total:,} {event.unit} found, "
            f"{event.done:,} scanned"
        )
    found = f", {_bytes(event.bytes_total, None)}" if event.bytes_total is not None else ""
    return f"listing: {event.total:,} {event.unit}{found} so far"


_UNITS = ("B", "kB", "MB", "GB", "TB")


def _bytes(done: int, total: int | None) -> str:
    """`3.1/10.0 MB` (both in the total's unit, decimal) or `3.1 MB` without a total."""
    scale = total if total is not None else done
    power = 0
    while power < len(_UNITS) - 1 and scale >= 1000 ** (power + 1):
        power += 1
    unit = _UNITS[power]

    def shown(n: int) -> str:
        return f"{n:,}" if power == 0 else f"{n / 1000**power:.1f}"

    return f"{shown(done)}/{shown(total)} {unit}" if total is not None else f"{shown(done)} {unit}"


def _duration(seconds: float) -> str:
    """`0:04`, `12:30`, `1:02:03` (rounded up: an ETA errs on the long side)."""
    minutes, secs = divmod(math.ceil(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
