"""Run deliveries concurrently under a per-run deadline, so one hanging target costs one timeout.

At most `concurrency` deliveries are in flight; each runs in a daemon thread (a target that
never answers cannot keep the process alive past the deadline). The callbacks run on the
caller's thread only, so the SQLite store is never touched from a worker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from scanner.respond.channels import DeliveryError

Send = Callable[[], object]


def run_all(
    sends: Sequence[Send],
    concurrency: int,
    deadline: float,
    on_start: Callable[[int], None],
    on_done: Callable[[int, str | None], None],
) -> list[int]:
    """Start each send (`on_start(i)` first), report each end (`on_done(i, error or None)`).

    Sends still running at the deadline end with an error; the indices of sends never started
    are returned.
    """
    results: queue.Queue[tuple[int, str | None]] = queue.Queue()
    end = time.monotonic() + deadline
    waiting = deque(range(len(sends)))
    running: set[int] = set()
    while waiting or running:
        while waiting and len(running) < concurrency and time.monotonic() < end:
            index = waiting.popleft()
            on_start(index)
            running.add(index)
            worker = threading.Thread(
                target=_work, args=(index, sends[index], results), daemon=True
            )
            worker.start()
        try:
            index, error = results.get(timeout=max(0.0, end - time.monotonic()))
        except queue.Empty:
            break
        running.discard(index)
        on_done(index, error)
    while running:  # the deadline passed: take what finished meanwhile, fail the rest
        try:
            index, error = results.get_nowait()
        except queue.Empty:
            break
        running.discard(index)
        on_done(index, error)
    for index in sorted(running):
        on_done(index, f"no answer before the run's deadline ({deadline:g}s)")
    return list(waiting)


def _work(index: int, send: Send, results: queue.Queue[tuple[int, str | None]]) -> None:
    try:
        send()
    except DeliveryError as error:
        results.put((index, str(error)))
    except Exception as error:  # never leave a slot taken; the type only (no secret in it)
        results.put((index, f"unexpected {type(error).__name__}"))
    else:
        results.put((index, None))
