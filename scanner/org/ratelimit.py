"""One allowance of rate-limit waiting per run, shared by every API source and retry.

Without a shared budget each paginated listing would wait out limits on its own, and a
large organisation could stall a run for hours; with it the run gives up listing (the
listing says so) once the waits add up to `max_wait` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class RateLimitBudgetExceeded(Exception):
    """Waiting once more would exceed the run's rate-limit budget."""


@dataclass(frozen=True)
class Wait:
    kind: str  # "primary", "secondary", "retry-after" or "backoff"
    seconds: float


class RateBudget:
    """Thread-safe; `clock` and `sleep` are injectable so tests wait for no real time."""

    def __init__(
        self,
        max_wait: float = 3600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        secondary_floor: float = 60.0,
        secondary_cap: float = 900.0,
    ) -> None:
        self.max_wait = max_wait
        self.clock = clock
        self._sleep = sleep
        self.secondary_floor = secondary_floor
        self.secondary_cap = secondary_cap
        self._lock = threading.Lock()
        self._secondary_hits = 0
        self.waits: list[Wait] = []

    @property
    def waited(self) -> float:
        with self._lock:
            return sum(wait.seconds for wait in self.waits)

    def secondary_backoff(self) -> float:
        """A secondary limit without Retry-After: 60 s, then doubling, for the whole run."""
        with self._lock:
            hits = self._secondary_hits
            self._secondary_hits += 1
        return float(min(self.secondary_cap, self.secondary_floor * 2**hits))

    def wait(self, kind: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            spent = sum(wait.seconds for wait in self.waits)
            if spent + seconds > self.max_wait:
                raise RateLimitBudgetExceeded(
                    f"rate limited: waiting {seconds:.0f}s more would exceed the run's "
                    f"budget of {self.max_wait:.0f}s ({spent:.0f}s already waited)"
                )
            self.waits.append(Wait(kind, seconds))
        self._sleep(seconds)
