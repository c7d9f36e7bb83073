"""`prefetched`: items in order, the producer's exception raised in the consumer,
and the producer thread joined however the `with` block is left."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from scanner.engine.prefetch import prefetched


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "devtoken-prefetch"]


def test_items_arrive_in_order() -> None:
    with prefetched(iter(["a", "b", "c"]), depth=1) as items:
        assert list(items) == ["a", "b", "c"]
    assert _prefetch_threads() == []


def test_an_empty_source_yields_nothing() -> None:
    empty: list[int] = []
    with prefetched(iter(empty)) as items:
        assert list(items) == []


def test_the_producers_exception_follows_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("boom")

    got: list[int] = []
    with prefetched(source()) as items, pytest.raises(ValueError, match=r"^boom$"):
        for item in items:
            got.append(item)
    assert got == [1, 2]
    assert _prefetch_threads() == []


def test_leaving_early_stops_an_endless_producer() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    with prefetched(endless(), depth=2) as items:
        got = [next(items) for _ in range(3)]
    assert got == [0, 1, 2]
    assert _prefetch_threads() == []


def test_an_error_in_the_consumer_still_joins_the_producer() -> None:
    with pytest.raises(KeyError), prefetched(iter(range(100)), depth=1) as items:
        assert next(items) == 0
        raise KeyError("consumer")
    assert _prefetch_threads() == []
