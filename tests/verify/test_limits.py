"""`RateLimiter`: calls spaced one interval apart, no burst after a pause, and no
limit at 0; a fake clock, so the exact sleeps are known and nothing is timed."""

from __future__ import annotations

import threading

import pytest

from scanner.verify import limits
from scanner.verify.limits import RateLimiter


class FakeClock:
    """`monotonic` and `sleep` for `limits.time`; `advance=False`: calls that all arrive at once."""

    def __init__(self, now: float, advance: bool = True) -> None:
        self.now = now
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance:
                self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(100.0)
    monkeypatch.setattr(limits, "time", fake)
    return fake


def test_interval_is_one_over_the_rate() -> None:
    assert [RateLimiter(r).interval for r in (4, 0.5, 0, -1)] == [0.25, 2.0, 0.0, 0.0]


def test_back_to_back_calls_wait_one_interval_each(clock: FakeClock) -> None:
    limiter = RateLimiter(4)
    for _ in range(4):
        limiter.wait()
    assert clock.sleeps == [0.25, 0.25, 0.25]  # the first call goes at once
    assert clock.now == 100.75


def test_calls_at_the_same_instant_queue_up(clock: FakeClock) -> None:
    clock.advance = False
    limiter = RateLimiter(4)
    for _ in range(4):
        limiter.wait()
    assert clock.sleeps == [0.25, 0.5, 0.75]


def test_a_pause_earns_no_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(2)
    limiter.wait()
    clock.now = 110.0  # idle for 10 s: the next call goes at once, the one after waits
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == [0.5]
    assert clock.now == 110.5


def test_rate_zero_never_waits(clock: FakeClock) -> None:
    limiter = RateLimiter(0)
    for _ in range(5):
        limiter.wait()
    assert clock.sleeps == []


def test_threads_share_one_schedule(clock: FakeClock) -> None:
    clock.advance = False
    limiter = RateLimiter(10)
    threads = [threading.Thread(target=limiter.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(s, 9) for s in clock.sleeps) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
