"""An in-process, at-least-once broker for the live runtime.

The simulator's broker models a real one's weather; this one is the plain office
pigeonhole: an event published is put in every consumer group's box for its topic,
each group works one key's events in order, a handler that fails with a retryable
error (or a write refused as stale) gets the event again after a backoff, and one
that keeps failing, refuses it outright or finds it poison sends it to the
dead-letter queue, which the taps hear of (``DEAD_LETTERED``), as with the
simulator's broker.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from live.runtime import LiveRuntime
from orchestrator.effects import Publish
from orchestrator.errors import CallError, Conflict, PoisonMessage, Retryable
from orchestrator.events import DEAD_LETTERED, Handler, Message
from orchestrator.resilience import RetryPolicy, backoff

__all__ = ["Broker", "Tap"]

Tap = Callable[[str, str, Any, float], None]
Seal = Callable[[Mapping[str, Any], float], Mapping[str, str]]
"""A sender's signature for a delivery made at a time: ``(payload, now)`` -> headers."""
"""Sees every published event: ``(topic, key, payload, now)``."""


class Broker:
    """Delivers published events to consumer groups, at least once, in order per key.

    Args:
        runtime: Runs the handlers (and whose clock stamps the events).
        max_deliveries: Deliveries of a failing event before the dead-letter queue.
        redelivery: Backoff between deliveries.
    """

    def __init__(
        self,
        runtime: LiveRuntime,
        max_deliveries: int = 12,
        redelivery: RetryPolicy | None = None,
    ) -> None:
        self.runtime = runtime
        self.max_deliveries = max_deliveries
        self.redelivery = redelivery or RetryPolicy(base=30.0, cap=900.0, jitter="equal")
        self.groups: dict[str, list[tuple[str, Handler]]] = {}
        self.taps: list[Tap] = []
        self.dlq: list[tuple[Message, str, str]] = []
        self.published = 0
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: dict[tuple[str, str], int] = {}
        self._ids = itertools.count(1)
        runtime.publish = self.publish

    def subscribe(self, topic: str, handler: Handler, group: str) -> None:
        """Deliver every event of ``topic`` to ``handler``, as consumer group ``group``."""
        self.groups.setdefault(topic, []).append((group, handler))

    def publish(self, effect: Publish, now: float) -> None:
        """Accept one event: taps hear it now, groups get it as soon as they can."""
        self.published += 1
        self.deliver(
            Message(effect.topic, effect.key, effect.payload, 1, f"evt_{next(self._ids)}"), now
        )

    def deliver(self, message: Message, now: float, seal: Seal | None = None) -> None:
        """Hand one message, as it came (a vendor's webhook with its id and signature),
        to the taps and to every consumer group of its topic; ``seal`` signs each
        delivery made again anew, as its sender would."""
        for tap in self.taps:
            tap(message.topic, message.key, message.payload, now)
        loop = asyncio.get_running_loop()
        for group, handler in self.groups.get(message.topic, ()):
            task = loop.create_task(self._deliver(group, handler, message, seal))
            self.runtime.tasks.add(task)  # the runtime's idle() waits for deliveries too
            task.add_done_callback(self.runtime.tasks.discard)

    async def _deliver(
        self, group: str, handler: Handler, message: Message, seal: Seal | None = None
    ) -> None:
        """Deliver until handled, or dead-lettered; one key's events in order."""
        slot = (group, message.key)
        lock = self._locks.setdefault(slot, asyncio.Lock())
        self._waiting[slot] = self._waiting.get(slot, 0) + 1
        try:
            await self._deliver_in_turn(lock, group, handler, message, seal)
        finally:
            # a key's lock lives only while its events wait for each other
            self._waiting[slot] -= 1
            if not self._waiting[slot]:
                del self._waiting[slot], self._locks[slot]

    async def _deliver_in_turn(
        self,
        lock: asyncio.Lock,
        group: str,
        handler: Handler,
        message: Message,
        seal: Seal | None = None,
    ) -> None:
        async with lock:
            while True:
                try:
                    await self.runtime.run(handler(message))
                    return
                except PoisonMessage as exc:  # it can never succeed
                    self._dead_letter(group, message, f"poison: {exc}")
                    return
                except CallError as exc:
                    # As the simulator's broker: a transient failure, or a write refused
                    # as stale while a newer one is on its way, is delivered again.
                    again = isinstance(exc, Retryable) or (
                        isinstance(exc, Conflict) and exc.code == "STALE_VERSION"
                    )
                    if not again:  # a business "no": delivering again will not help
                        self._dead_letter(group, message, str(exc))
                        return
                    if message.attempt >= self.max_deliveries:
                        self._dead_letter(group, message, f"{exc} after {message.attempt} tries")
                        return
                    delay = backoff(self.redelivery, message.attempt, message.id)
                    await asyncio.sleep(delay / self.runtime.time_scale)
                    headers = message.headers
                    if seal is not None:  # its sender seals the attempt anew
                        headers = dict(seal(message.payload, self.runtime.now()))
                    message = message._replace(attempt=message.attempt + 1, headers=headers)

    def _dead_letter(self, group: str, message: Message, reason: str) -> None:
        self.dlq.append((message, reason, group))
        note: dict[str, Any] = {"topic": message.topic, "reason": reason}
        workflow = message.payload.get("workflow")
        if workflow is not None:
            note["workflow"] = workflow  # whose work it was, when not the key's
        now = self.runtime.now()
        for tap in self.taps:
            tap(DEAD_LETTERED, message.key, note, now)
