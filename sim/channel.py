"""How a topic delivers, and what travels on it.

A :class:`Channel` is the habits of one counter of the post office (see
``sim.broker``): how long letters take, whether one address's letters keep their
order, how often one comes twice, how long an unclaimed letter is kept, when the
counter is closed. An :class:`Envelope` is one copy of one letter on its way to
one consumer group; a :class:`DeadLetter` is a letter the post office gave up on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from orchestrator.events import Message
from orchestrator.resilience import RetryPolicy
from sim.sample import Sample

__all__ = ["Channel", "DeadLetter", "Envelope", "Signer", "TopicStats"]

Signer = Callable[[Mapping[str, Any], float], Mapping[str, str]]
"""Signs one delivery of a payload at a time (a vendor's webhook sender): its headers."""


@dataclass(frozen=True)
class Channel:
    """How one topic delivers.

    Attributes:
        max_deliveries: Deliveries of a failing message before giving up.
        redelivery: Backoff between deliveries of a failed message.
        latency: Draws the delay from publish to delivery; None delivers at once.
        duplicate_rate: Share of messages delivered twice (a producer retry, or a
            consumer's acknowledgement lost after it applied the message).
        ordered: Messages of one key are delivered in publish order, one at a time;
            otherwise each is delivered when its own delay is over.
        retention: A message not handled within this long of publish is lost.
        max_age: Give up on a failing message this long after publish (a vendor
            retrying its webhooks for three days).
        give_up: ``dlq`` (dead-letter queue, with the reason) or ``drop`` (lost).
        crash_rate: Share of successful deliveries whose acknowledgement is lost:
            the consumer crashed after applying, and the message comes again.
        outages: ``(start, end)`` windows in which publishing fails.
        sign: Signs each delivery (webhook signatures), or None.
    """

    max_deliveries: int = 12
    redelivery: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(base=30.0, cap=900.0, jitter="equal")
    )
    latency: Callable[[], float] | None = None
    duplicate_rate: float = 0.0
    ordered: bool = True
    retention: float = math.inf
    max_age: float = math.inf
    give_up: Literal["dlq", "drop"] = "dlq"
    crash_rate: float = 0.0
    outages: tuple[tuple[float, float], ...] = ()
    sign: Signer | None = None

    @property
    def plain(self) -> bool:
        """Whether deliveries are instant, single, ordered, unsigned and never expire:
        the broker's fast path, as cheap as a broker with no faults at all."""
        return (
            self.latency is None
            and not self.duplicate_rate
            and self.ordered
            and self.retention == math.inf
            and not self.crash_rate
            and self.sign is None
        )

    def down(self, now: float) -> bool:
        """Whether publishing is refused at ``now`` (an outage window is open)."""
        return any(start <= now < end for start, end in self.outages)


class Envelope(NamedTuple):
    """One copy of one event on its way to one consumer group.

    Attributes:
        message: What the consumer is handed (its attempt counts deliveries).
        correlation: The deal it belongs to.
        published_at: When it was published.
        seq: Its place among the topic's events, for detecting reordering.
        due: When this copy may be delivered (publish time plus its delay).
        copy: Whether it is a duplicate copy.
    """

    message: Message
    correlation: str | None
    published_at: float
    seq: int
    due: float
    copy: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the broker gave up on into the dead-letter queue.

    Attributes:
        message: The last delivery of the message.
        reason: The error of the last attempt.
        at: Simulated time it was dead-lettered.
        group: The consumer group that could not handle it.
    """

    message: Message
    reason: str
    at: float
    group: str = ""


@dataclass
class TopicStats:
    """What one topic saw, summed over its consumer groups.

    Attributes:
        published: Events published on it.
        delivered: Deliveries made (redeliveries and duplicates included).
        duplicates: Extra copies of an event delivered (never a first delivery).
        redelivered: Deliveries that were redeliveries after a failure or a crash.
        reordered: Events applied after a newer event of the same key.
        lost: Events thrown away (retention, or a sender that gave up).
        dead_lettered: Events put in the dead-letter queue.
        lags: Seconds from publish to first applied, per event and group.
    """

    published: int = 0
    delivered: int = 0
    duplicates: int = 0
    redelivered: int = 0
    reordered: int = 0
    lost: int = 0
    dead_lettered: int = 0
    lags: Sample = field(default_factory=Sample)
