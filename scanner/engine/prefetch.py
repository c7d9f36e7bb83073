"""Run an iterator in a background thread, a few items ahead of its consumer.

Used to overlap reading/decompressing/line counting with scanning. Exceptions
raised by the producer are re-raised in the consumer; leaving the `with` block
early stops and joins the producer thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


@contextmanager
def prefetched(source: Iterator[T], depth: int = 2) -> Iterator[Iterator[T]]:
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:
            put(exc)

    def consume() -> Iterator[T]:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    worker = threading.Thread(target=produce, name="devtoken-prefetch", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
