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
from typing import Any, Self

from urllib3 import Retry


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


class SpendingRetry(Retry):
    """A urllib3 Retry whose every wait is spent from a shared RateBudget.

    `increment` in a subclass may set `planned` (kind, seconds) for a rate limit it read from
    the response; `sleep` then waits that, else Retry-After, else urllib3's backoff.
    """

    def __init__(
        self, budget: RateBudget, planned: tuple[str, float] | None = None, **kwargs: Any
    ) -> None:
        self.budget = budget
        self.planned = planned
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:
        kw.update(budget=self.budget, planned=None)
        return super().new(**kw)

    def sleep(self, response: Any = None) -> None:
        if self.planned is not None:
            self.budget.wait(*self.planned)
            return
        after = self.get_retry_after(response) if response is not None else None
        if after:
            self.budget.wait("retry-after", after)
        else:
            self.budget.wait("backoff", self.get_backoff_time())


class BudgetRetry(SpendingRetry):
    """For any REST API (GitLab): 429 waits for Retry-After, else until RateLimit-Reset,
    else the secondary backoff."""

    def __init__(
        self, budget: RateBudget, planned: tuple[str, float] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("status_forcelist", [429, 500, 502, 503, 504])
        kwargs.setdefault("respect_retry_after_header", True)
        super().__init__(budget, planned, **kwargs)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if response is not None and response.status == 429 and isinstance(retry, BudgetRetry):
            retry.planned = self._rate_limit_wait(response.headers)
        return retry

    def _rate_limit_wait(self, headers: Any) -> tuple[str, float]:
        after = str(headers.get("retry-after", ""))
        if after.isdigit():
            return ("retry-after", float(after))
        reset = str(headers.get("ratelimit-reset", ""))
        if reset.isdigit():
            return ("primary", max(0.0, int(reset) - self.budget.clock()) + 1.0)
        return ("secondary", self.budget.secondary_backoff())
