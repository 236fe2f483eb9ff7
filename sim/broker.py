"""An at-least-once message broker in simulated time, with the faults real ones have.

The broker is a post office. Each topic is a counter with its own habits
(:class:`Channel`): how long letters take, whether letters for one address (one
key) are handed out in the order they were posted or may overtake each other,
whether the odd letter is delivered twice, how long an unclaimed letter is kept
before it is thrown away, and whether the post office is closed for a while (then
nobody can post). A consumer that cannot handle a letter hands it back; the post
office tries again later, waiting longer each time, and in the end puts it in the
dead-letter box with the reason, or (a vendor's webhook sender) gives up and drops
it. A letter that can never be handled (a business "no", a payload that fails its
schema) goes to the dead-letter box at once.

Delivery is at-least-once: a consumer that crashed after doing its work but before
saying so sees the same letter again, so consumers must be idempotent. Every
group of consumers keeps books: accepted, applied, dead-lettered, lost, still open
(``nothing lost`` is checked on them), and the broker counts per topic what was
published, delivered, duplicated, redelivered, reordered, lost and dead-lettered,
and how long events took from publish to applied.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import simpy

from orchestrator.effects import Publish
from orchestrator.errors import CallError, Conflict, PoisonMessage, Retryable, Throttled
from orchestrator.errors import Unavailable as BrokerDown
from orchestrator.events import Handler, Message
from orchestrator.resilience import RetryPolicy, backoff
from sim.driver import Runtime
from sim.journal import Journal

__all__ = ["DEAD_LETTERED", "Broker", "Channel", "DeadLetter", "Envelope", "Group"]

DEAD_LETTERED = "dlq"
"""The topic taps see when the broker gives up on a message into the dead-letter queue."""

Tap = Callable[[str, str, Any, float], None]
"""Sees every published event: ``(topic, key, payload, now)``."""
Signer = Callable[["Envelope", float], Mapping[str, str]]
"""Signs one delivery (a vendor's webhook sender): headers for the message."""


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
        """Whether deliveries are instant, single, ordered and never expire."""
        return (
            self.latency is None
            and not self.duplicate_rate
            and self.ordered
            and self.retention == math.inf
            and not self.crash_rate
        )


@dataclass(slots=True)
class Envelope:
    """One copy of one event on its way to one consumer group.

    Attributes:
        id: The event's id (copies share it).
        topic: Its topic.
        key: Its partition key.
        payload: Its body.
        correlation: The deal it belongs to.
        published_at: When it was published.
        seq: Its place among the topic's events, for detecting reordering.
        due: When this copy may be delivered (publish time plus its delay).
        attempt: Deliveries so far, this one included.
        copy: Whether it is a duplicate copy.
        headers: Transport headers of this delivery.
    """

    id: str
    topic: str
    key: str
    payload: Mapping[str, Any]
    correlation: str | None
    published_at: float
    seq: int
    due: float
    attempt: int = 1
    copy: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)

    def message(self) -> Message:
        """The message a handler sees."""
        return Message(self.topic, self.key, self.payload, self.attempt, self.id, self.headers)


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
    """What one topic saw.

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
    lags: array[float] = field(default_factory=lambda: array("d"))


@dataclass
class Group:
    """A consumer group on one topic: ``consumers`` workers share its messages.

    Attributes:
        topic: The topic consumed.
        name: The group's name.
        handler: The work started per message.
        consumers: Workers in the group.
        channel: The topic's delivery habits.
        accepted: Distinct events offered to the group.
        applied: Distinct events the group handled successfully.
        dead_lettered: Distinct events it gave up on into the DLQ.
        lost: Distinct events lost before it could handle them.
        open: Ids accepted and not yet settled one of those three ways.
        outcomes: The handler's own word on each successful delivery
            (``applied``, ``duplicate``, ``stale``, ``skipped``), counted.
        failures: Failed deliveries by error code (``SIGNATURE_MISMATCH``, ...).
        delivered: Deliveries made (redeliveries included).
        redelivered: Deliveries that were redeliveries.
    """

    topic: str
    name: str
    handler: Handler
    consumers: int
    channel: Channel
    accepted: int = 0
    applied: int = 0
    dead_lettered: int = 0
    lost: int = 0
    open: set[str] = field(default_factory=set)
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    redelivered: int = 0
    queue: deque[Envelope] = field(default_factory=deque)
    idle: list[simpy.Event] = field(default_factory=list)
    parked: dict[str, deque[Envelope]] = field(default_factory=dict)
    newest: dict[str, int] = field(default_factory=dict)


class Broker:
    """Topics, consumer groups, delivery faults, redelivery and a dead-letter queue.

    Args:
        runtime: Runs consumer workflows.
        channel: How topics deliver unless :meth:`configure` says otherwise.
        dice: Uniform draws in [0, 1) for duplicates and crashes.
        journal: Where deliveries are logged, or None.
    """

    def __init__(
        self,
        runtime: Runtime,
        channel: Channel | None = None,
        dice: Callable[[], float] | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.runtime = runtime
        self.env = runtime.env
        self.default = channel or Channel()
        self.channels: dict[str, Channel] = {}
        self.dice = dice or (lambda: 1.0)
        self.journal = journal
        self.groups: dict[str, list[Group]] = {}
        self.taps: list[Tap] = []
        self.dlq: list[DeadLetter] = []
        self.stats: dict[str, TopicStats] = {}
        self.published = 0

    @property
    def redelivery(self) -> RetryPolicy:
        """The default channel's redelivery backoff."""
        return self.default.redelivery

    @property
    def max_deliveries(self) -> int:
        """The default channel's delivery budget."""
        return self.default.max_deliveries

    def configure(self, topic: str, channel: Channel) -> None:
        """Give ``topic`` its own delivery habits."""
        self.channels[topic] = channel

    def channel(self, topic: str) -> Channel:
        """How ``topic`` delivers."""
        return self.channels.get(topic, self.default)

    def tap(self, observer: Tap) -> None:
        """Let ``observer`` see every published event as it is published."""
        self.taps.append(observer)

    def subscribe(self, topic: str, handler: Handler, consumers: int = 8, name: str = "") -> Group:
        """Start a consumer group of ``consumers`` workers on ``topic``."""
        group = Group(topic, name or topic, handler, consumers, self.channel(topic))
        self.groups.setdefault(topic, []).append(group)
        for _ in range(consumers):
            self.env.process(self._work(group))
        return group

    def publish(self, effect: Publish, now: float) -> None:
        """Accept one event, or refuse it while the broker is down.

        Raises:
            Unavailable: ``broker.publish`` is in an outage window.
        """
        channel = self.channels.get(effect.topic, self.default)
        for start, end in channel.outages:
            if start <= now < end:
                if self.journal is not None:
                    self.journal.event(now, "refused", effect.topic, effect.key, effect.correlation)
                raise BrokerDown("broker", "publish", 503, "BROKER_UNAVAILABLE")
        self.published += 1
        stats = self.stats.get(effect.topic)
        if stats is None:
            stats = self.stats[effect.topic] = TopicStats()
        stats.published += 1
        for observe in self.taps:
            observe(effect.topic, effect.key, effect.payload, now)
        groups = self.groups.get(effect.topic)
        if not groups:
            if self.journal is not None:
                self.journal.event(now, "publish", effect.topic, effect.key, effect.correlation)
            return
        event_id = f"{effect.topic}#{stats.published}"
        if self.journal is not None:
            self.journal.event(
                now, "publish", effect.topic, effect.key, effect.correlation, event_id
            )
        for group in groups:
            self._accept(group, effect, event_id, stats.published, now)

    def _accept(self, group: Group, effect: Publish, event_id: str, seq: int, now: float) -> None:
        channel = group.channel
        group.accepted += 1
        group.open.add(event_id)
        delay = channel.latency() if channel.latency is not None else 0.0
        envelope = Envelope(
            event_id,
            effect.topic,
            effect.key,
            effect.payload,
            effect.correlation,
            now,
            seq,
            now + delay,
        )
        if channel.sign is not None:
            envelope.headers = channel.sign(envelope, now)
        self._offer(group, envelope)
        if channel.duplicate_rate and self.dice() < channel.duplicate_rate:
            # The copy takes its own way through the network, a little later.
            extra = channel.latency() if channel.latency is not None else 0.0
            twin = Envelope(
                event_id,
                effect.topic,
                effect.key,
                effect.payload,
                effect.correlation,
                now,
                seq,
                now + delay + extra + channel.redelivery.base,
                copy=True,
                headers=envelope.headers,
            )
            self._offer(group, twin)

    def _offer(self, group: Group, envelope: Envelope) -> None:
        if not group.channel.ordered:
            self._at_due(group, envelope)
            return
        waiting = group.parked.get(envelope.key)
        if waiting is not None:  # an earlier message of this key is not settled yet
            waiting.append(envelope)
            return
        group.parked[envelope.key] = deque()
        self._at_due(group, envelope)

    def _at_due(self, group: Group, envelope: Envelope) -> None:
        wait = envelope.due - self.env.now
        if wait <= 0:
            self._dispatch(group, envelope)
        else:
            self.env.timeout(wait).callbacks.append(lambda _: self._dispatch(group, envelope))

    def _dispatch(self, group: Group, envelope: Envelope) -> None:
        if group.idle:
            group.idle.pop().succeed(envelope)
        else:
            group.queue.append(envelope)

    def _release(self, group: Group, envelope: Envelope) -> None:
        """The key's next message may go now (ordered channels)."""
        if not group.channel.ordered:
            return
        waiting = group.parked[envelope.key]
        if waiting:
            self._at_due(group, waiting.popleft())
        else:
            del group.parked[envelope.key]

    def _work(self, group: Group) -> Generator[simpy.Event, Any, None]:
        env = self.env
        run = self.runtime.run
        channel = group.channel
        stats: TopicStats | None = None
        while True:
            if group.queue:
                envelope = group.queue.popleft()
            else:
                wake = env.event()
                group.idle.append(wake)
                envelope = yield wake
            if stats is None:
                stats = self.stats[group.topic]
            now = env.now
            if now - envelope.published_at > channel.retention:
                self._lose(group, envelope, "expired: not handled within the retention", stats)
                self._release(group, envelope)
                continue
            group.delivered += 1
            stats.delivered += 1
            if envelope.attempt > 1:
                group.redelivered += 1
                stats.redelivered += 1
            first = envelope.id in group.open
            if not first or envelope.copy:
                stats.duplicates += 1
            if self.journal is not None:
                self.journal.event(
                    now,
                    "duplicate" if not first or envelope.copy else "deliver",
                    envelope.topic,
                    envelope.key,
                    envelope.correlation,
                    envelope.id,
                    group.name,
                    envelope.attempt,
                )
            try:
                outcome = yield from run(group.handler(envelope.message()))
            except (CallError, PoisonMessage) as exc:
                self._failed(group, envelope, exc, stats)
                continue
            if isinstance(outcome, str):
                group.outcomes[outcome] = group.outcomes.get(outcome, 0) + 1
            if envelope.id in group.open:
                group.open.discard(envelope.id)
                group.applied += 1
                stats.lags.append(env.now - envelope.published_at)
                newest = group.newest.get(envelope.key, 0)
                if envelope.seq < newest:
                    stats.reordered += 1
                else:
                    group.newest[envelope.key] = envelope.seq
            if channel.crash_rate and self.dice() < channel.crash_rate:
                # Applied, but the acknowledgement never reached the broker.
                self._again(group, envelope, None)
                continue
            self._release(group, envelope)

    def _failed(self, group: Group, envelope: Envelope, exc: Exception, stats: TopicStats) -> None:
        channel = group.channel
        reason = str(exc) if not isinstance(exc, PoisonMessage) else f"poison: {exc}"
        code = getattr(exc, "code", "") or type(exc).__name__
        group.failures[code] = group.failures.get(code, 0) + 1
        # A vendor's sender retries whatever our receiver refused (it keeps no DLQ for
        # us); a broker gives up at once on what can never succeed.
        hopeless = isinstance(exc, PoisonMessage) or (
            channel.give_up == "dlq"
            and not isinstance(exc, Retryable)
            and not (isinstance(exc, Conflict) and exc.code == "STALE_VERSION")
        )
        spent = (
            envelope.attempt >= channel.max_deliveries
            or self.env.now - envelope.published_at >= channel.max_age
        )
        if hopeless or (spent and channel.give_up == "dlq"):
            self._dead_letter(group, envelope, reason, stats)
            self._release(group, envelope)
        elif spent:
            gave_up = f"given up after {envelope.attempt} deliveries: {reason}"
            self._lose(group, envelope, gave_up, stats)
            self._release(group, envelope)
        else:
            self._again(group, envelope, exc)

    def _again(self, group: Group, envelope: Envelope, exc: Exception | None) -> None:
        """Deliver the message again after the channel's backoff."""
        channel = group.channel
        # A consumer throttled on its last try passes the vendor's Retry-After on:
        # redelivering sooner would only be throttled again.
        retry_after = exc.retry_after if isinstance(exc, Throttled) else None
        delay = backoff(
            channel.redelivery, envelope.attempt, f"{envelope.topic}:{envelope.key}", retry_after
        )
        again = Envelope(
            envelope.id,
            envelope.topic,
            envelope.key,
            envelope.payload,
            envelope.correlation,
            envelope.published_at,
            envelope.seq,
            self.env.now + delay,
            envelope.attempt + 1,
            envelope.copy,
            envelope.headers,
        )
        if channel.sign is not None:
            again.headers = channel.sign(again, again.due)  # a sender re-signs each attempt
        self._at_due(group, again)

    def _dead_letter(
        self, group: Group, envelope: Envelope, reason: str, stats: TopicStats
    ) -> None:
        now = self.env.now
        if envelope.id in group.open:
            group.open.discard(envelope.id)
            group.dead_lettered += 1
            stats.dead_lettered += 1
            self.dlq.append(DeadLetter(envelope.message(), reason, now, group.name))
            note = {"topic": envelope.topic, "reason": reason}
            for observe in self.taps:
                observe(DEAD_LETTERED, envelope.key, note, now)
        if self.journal is not None:
            self.journal.event(
                now,
                "dead_letter",
                envelope.topic,
                envelope.key,
                envelope.correlation,
                envelope.id,
                group.name,
                envelope.attempt,
                reason,
            )

    def _lose(self, group: Group, envelope: Envelope, reason: str, stats: TopicStats) -> None:
        if envelope.id in group.open:
            group.open.discard(envelope.id)
            group.lost += 1
            stats.lost += 1
        if self.journal is not None:
            self.journal.event(
                self.env.now,
                "drop",
                envelope.topic,
                envelope.key,
                envelope.correlation,
                envelope.id,
                group.name,
                envelope.attempt,
                reason,
            )
