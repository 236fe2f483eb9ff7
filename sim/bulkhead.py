"""A bulkhead: at most N calls in flight to one system, the rest wait their turn.

Like the rope at a busy bank counter: while a teller is free you walk straight up
(no ticket, no SimPy event); when all are busy you take a ticket and are called in
the order you came. SimPy's ``Resource`` does the same with an event for every
request and release; a bulkhead is on the hot path of every call, so this one only
makes an event when somebody actually has to wait.
"""

from __future__ import annotations

from collections import deque

import simpy

__all__ = ["Bulkhead"]


class Bulkhead:
    """A FIFO counting semaphore in simulated time.

    Args:
        env: The SimPy environment.
        capacity: Calls allowed in flight at once.

    Attributes:
        used: Slots taken now.
        waited: How many acquisitions had to wait.
    """

    __slots__ = ("capacity", "env", "queue", "used", "waited")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a bulkhead needs at least one slot, got {capacity}")
        self.env = env
        self.capacity = capacity
        self.used = 0
        self.waited = 0
        self.queue: deque[simpy.Event] = deque()

    def acquire(self) -> simpy.Event | None:
        """Take a slot: None if one was free, else an event that fires when it is yours."""
        if self.used < self.capacity:
            self.used += 1
            return None
        turn = self.env.event()
        self.queue.append(turn)
        self.waited += 1
        return turn

    def release(self) -> None:
        """Give a slot back; the longest waiter gets it."""
        if self.queue:
            self.queue.popleft().succeed()
        else:
            self.used -= 1
