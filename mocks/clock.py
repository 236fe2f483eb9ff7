"""The mocks' time: a wall clock sped up by a time scale, or one a test moves by hand.

Outage windows, rate-limit refills, idempotency key lifetimes and a vendor's own
clockwork (a payment collected, a case resolved) all read the clock. Like a
rehearsal's stopwatch, it can run at ten times real speed (``time_scale=10``: a
two-hour outage passes in twelve minutes) or stand still until the test says
``advance(3600)``. Clockwork is kept in a queue and runs when the clock has passed
its moment, before the next request is answered.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable

__all__ = ["Clock", "ManualClock", "WallClock"]


class Clock:
    """Seconds since the mocks started, and the vendors' clockwork.

    Args:
        read: Where the time comes from.
    """

    def __init__(self, read: Callable[[], float]) -> None:
        self.now = read
        self._due: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = itertools.count()

    def later(self, delay: float, action: Callable[[float], None]) -> None:
        """Run ``action(now)`` once ``delay`` seconds have passed (a vendor's ``later``)."""
        heapq.heappush(self._due, (self.now() + max(delay, 0.0), next(self._order), action))

    def tick(self) -> float:
        """Run the clockwork that is due; the current time."""
        now = self.now()
        while self._due and self._due[0][0] <= now:
            at, _, action = heapq.heappop(self._due)
            action(at)
        return now


class WallClock(Clock):
    """Real time since start, times ``time_scale`` (``10``: ten times as fast).

    Args:
        time_scale: How many mock seconds pass per real second.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be above 0, got {time_scale}")
        self.time_scale = time_scale
        start = time.monotonic()
        super().__init__(lambda: (time.monotonic() - start) * time_scale)


class ManualClock(Clock):
    """Time that moves only when told: ``advance(seconds)``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        super().__init__(lambda: self._now)

    def advance(self, seconds: float) -> float:
        """Move time on by ``seconds`` and run the clockwork due; the new time."""
        self._now += seconds
        return self.tick()
