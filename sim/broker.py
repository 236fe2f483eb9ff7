"""An at-least-once message broker in simulated time.

The broker is a post office with a strict rule per address: letters for one key
(one deal) are handed out in the order they were posted, one at a time. A consumer
that cannot handle a letter hands it back; the post office tries again later,
waiting longer each time, and after ``max_deliveries`` puts it in the dead-letter
box with the reason, where a person will find it.

Delivery is at-least-once: a consumer that did part of its work before failing
sees the same message again, so consumers must be idempotent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from orchestrator.effects import Publish
from orchestrator.errors import CallError, Throttled
from orchestrator.events import Handler, Message
from orchestrator.resilience import RetryPolicy, backoff
from sim.driver import Runtime

__all__ = ["DEAD_LETTERED", "Broker", "DeadLetter", "Subscription"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the broker gave up on.

    Attributes:
        message: The last delivery of the message.
        reason: The error of the last attempt.
        at: Simulated time it was dead-lettered.
    """

    message: Message
    reason: str
    at: float


DEAD_LETTERED = "dlq"
"""The topic taps see when the broker gives up on a message."""

Tap = Callable[[str, str, Any, float], None]
"""Sees every published event: ``(topic, key, payload, now)``."""


@dataclass
class Subscription:
    """A consumer group on one topic: ``consumers`` workers share its messages.

    Attributes:
        topic: The topic consumed.
        handler: The work started per message.
        consumers: Workers in the group (messages handled in parallel).
        delivered: Deliveries made (redeliveries included).
        redelivered: Deliveries that were redeliveries.
    """

    topic: str
    handler: Handler
    consumers: int
    queue: deque[Message] = field(default_factory=deque)
    idle: list[simpy.Event] = field(default_factory=list)
    parked: dict[str, deque[Message]] = field(default_factory=dict)
    delivered: int = 0
    redelivered: int = 0


class Broker:
    """Topics, per-key ordering, redelivery with backoff, and a dead-letter queue.

    Args:
        runtime: Runs consumer workflows.
        redelivery: Backoff between deliveries of a failed message.
        max_deliveries: Deliveries before a message is dead-lettered.
    """

    def __init__(
        self,
        runtime: Runtime,
        redelivery: RetryPolicy | None = None,
        max_deliveries: int = 10,
    ) -> None:
        self.runtime = runtime
        self.env = runtime.env
        self.redelivery = redelivery or RetryPolicy(base=30.0, cap=900.0, jitter="equal")
        self.max_deliveries = max_deliveries
        self.subscriptions: dict[str, list[Subscription]] = {}
        self.taps: list[Tap] = []
        self.dlq: list[DeadLetter] = []
        self.published = 0

    def tap(self, observer: Tap) -> None:
        """Let ``observer`` see every published event as it is published."""
        self.taps.append(observer)

    def subscribe(self, topic: str, handler: Handler, consumers: int = 8) -> Subscription:
        """Start a consumer group of ``consumers`` workers on ``topic``."""
        sub = Subscription(topic, handler, consumers)
        self.subscriptions.setdefault(topic, []).append(sub)
        for _ in range(consumers):
            self.env.process(self._work(sub))
        return sub

    def publish(self, effect: Publish, now: float) -> None:
        """Accept one event; deliver it to every subscription of its topic."""
        self.published += 1
        for observe in self.taps:
            observe(effect.topic, effect.key, effect.payload, now)
        for sub in self.subscriptions.get(effect.topic, ()):
            self._offer(sub, Message(effect.topic, effect.key, effect.payload))

    def _offer(self, sub: Subscription, message: Message) -> None:
        waiting = sub.parked.get(message.key)
        if waiting is not None:  # an earlier message of this key is not settled yet
            waiting.append(message)
            return
        sub.parked[message.key] = deque()
        self._dispatch(sub, message)

    def _dispatch(self, sub: Subscription, message: Message) -> None:
        if sub.idle:
            sub.idle.pop().succeed(message)
        else:
            sub.queue.append(message)

    def _settle(self, sub: Subscription, key: str) -> None:
        waiting = sub.parked[key]
        if waiting:
            self._dispatch(sub, waiting.popleft())
        else:
            del sub.parked[key]

    def _work(self, sub: Subscription) -> Generator[simpy.Event, Any, None]:
        env = self.env
        run = self.runtime.run
        while True:
            if sub.queue:
                message = sub.queue.popleft()
            else:
                wake = env.event()
                sub.idle.append(wake)
                message = yield wake
            sub.delivered += 1
            if message.attempt > 1:
                sub.redelivered += 1
            try:
                yield from run(sub.handler(message))
            except CallError as exc:
                self._retry(sub, message, exc)
                continue
            self._settle(sub, message.key)

    def _retry(self, sub: Subscription, message: Message, exc: CallError) -> None:
        if message.attempt >= self.max_deliveries:
            self.dlq.append(DeadLetter(message, str(exc), self.env.now))
            for observe in self.taps:
                observe(
                    DEAD_LETTERED,
                    message.key,
                    {"topic": message.topic, "reason": str(exc)},
                    self.env.now,
                )
            self._settle(sub, message.key)
            return
        # A consumer throttled on its last try passes the vendor's Retry-After on:
        # redelivering sooner would only be throttled again.
        retry_after = exc.retry_after if isinstance(exc, Throttled) else None
        delay = backoff(
            self.redelivery, message.attempt, f"{message.topic}:{message.key}", retry_after
        )
        again = Message(message.topic, message.key, message.payload, message.attempt + 1)
        self.env.timeout(delay).callbacks.append(lambda _: self._dispatch(sub, again))
