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
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import simpy

from orchestrator.effects import Publish
from orchestrator.errors import CallError, Conflict, PoisonMessage, Retryable, Throttled
from orchestrator.errors import Unavailable as BrokerDown
from orchestrator.events import DEAD_LETTERED, Handler, Message
from orchestrator.resilience import RetryPolicy, backoff
from sim.channel import Channel, DeadLetter, Envelope, TopicStats
from sim.driver import Runtime
from sim.journal import EventLog
from sim.sample import Sample

__all__ = ["DEAD_LETTERED", "Broker", "Channel", "DeadLetter", "Envelope", "Group", "TopicStats"]


Tap = Callable[[str, str, Any, float], None]
"""Sees every published event: ``(topic, key, payload, now)``."""

_tuple = tuple.__new__
"""Builds a named tuple from all its fields at C speed (see ``orchestrator.client``)."""
NO_HEADERS: Mapping[str, str] = {}
"""The headers of every unsigned delivery (shared, never written to)."""


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
        delivered: Deliveries made (redeliveries and duplicates included).
        redelivered: Deliveries that were redeliveries.
        duplicates: Deliveries of an event already applied, or of a duplicate copy.
        reordered: Events applied after a newer event of the same key.
        lags: Seconds from publish to applied, per event.
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
    duplicates: int = 0
    reordered: int = 0
    lags: Sample = field(default_factory=Sample)
    queue: deque[Envelope] = field(default_factory=deque)
    idle: list[simpy.Event] = field(default_factory=list)
    # Ordered channels: key -> what waits behind the message in flight (None: nothing).
    parked: dict[str, deque[Envelope] | None] = field(default_factory=dict)
    newest: dict[str, int] = field(default_factory=dict)
    # The operator's hand: a paused group's workers wait for ``resumed``; ``surplus``
    # workers go home after their message (scaled down).
    paused: bool = False
    resumed: simpy.Event | None = None
    surplus: int = 0


class _Route:
    """Everything publishing to one topic needs, behind one lookup."""

    __slots__ = ("channel", "groups", "outages", "plain", "published")

    def __init__(self, channel: Channel) -> None:
        self.groups: list[Group] = []
        self.published = 0
        self.use(channel)

    def use(self, channel: Channel) -> None:
        """Deliver by ``channel`` from now on (its properties read once, here)."""
        self.channel = channel
        self.plain = channel.plain
        self.outages = bool(channel.outages)


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
        journal: EventLog | None = None,
    ) -> None:
        self.runtime = runtime
        self.env = runtime.env
        self.default = channel or Channel()
        self.dice = dice or (lambda: 1.0)
        self.journal = journal
        self.taps: list[Tap] = []
        self.dlq: list[DeadLetter] = []
        self.lost: list[DeadLetter] = []  # thrown away: retention, or a sender gave up
        self.published = 0
        self.refused = 0  # publishes refused while the broker was down
        self._routes: dict[str, _Route] = {}

    @property
    def redelivery(self) -> RetryPolicy:
        """The default channel's redelivery backoff."""
        return self.default.redelivery

    @property
    def max_deliveries(self) -> int:
        """The default channel's delivery budget."""
        return self.default.max_deliveries

    def _route(self, topic: str) -> _Route:
        route = self._routes.get(topic)
        if route is None:
            route = self._routes[topic] = _Route(self.default)
        return route

    def configure(self, topic: str, channel: Channel) -> None:
        """Give ``topic`` its own delivery habits; before subscribing to it.

        Raises:
            ValueError: ``topic`` already has consumer groups.
        """
        if self._route(topic).groups:
            raise ValueError(f"configure {topic!r} before subscribing to it")
        self._route(topic).use(channel)

    def channel(self, topic: str) -> Channel:
        """How ``topic`` delivers."""
        route = self._routes.get(topic)
        return route.channel if route is not None else self.default

    def tap(self, observer: Tap) -> None:
        """Let ``observer`` see every published event as it is published."""
        self.taps.append(observer)

    def subscribe(self, topic: str, handler: Handler, consumers: int = 8, name: str = "") -> Group:
        """Start a consumer group of ``consumers`` workers on ``topic``."""
        route = self._route(topic)
        group = Group(topic, name or topic, handler, consumers, route.channel)
        route.groups.append(group)
        for _ in range(consumers):
            self.env.process(self._work(group))
        return group

    def groups(self) -> Iterator[Group]:
        """Every consumer group, topic by topic in subscription order."""
        for route in self._routes.values():
            yield from route.groups

    def stats(self) -> dict[str, TopicStats]:
        """What each topic published to saw, summed over its groups, by topic name."""
        found = {}
        for topic in sorted(self._routes):
            route = self._routes[topic]
            if not route.published and not route.groups:
                continue
            stats = TopicStats(published=route.published)
            for group in route.groups:
                stats.delivered += group.delivered
                stats.duplicates += group.duplicates
                stats.redelivered += group.redelivered
                stats.reordered += group.reordered
                stats.lost += group.lost
                stats.dead_lettered += group.dead_lettered
                stats.lags.merge(group.lags)
            found[topic] = stats
        return found

    def publish(self, effect: Publish, now: float) -> None:
        """Accept one event, or refuse it while the broker is down.

        Raises:
            Unavailable: ``broker.publish`` is in an outage window.
        """
        topic = effect.topic
        route = self._routes.get(topic) or self._route(topic)
        journal = self.journal
        if route.outages and route.channel.down(now):
            self.refused += 1
            if journal is not None:
                journal.event(now, "refused", topic, effect.key, effect.correlation)
            raise BrokerDown("broker", "publish", 503, "BROKER_UNAVAILABLE")
        self.published += 1
        route.published += 1
        seq = route.published
        for observe in self.taps:
            observe(topic, effect.key, effect.payload, now)
        groups = route.groups
        if not groups and journal is None:
            return  # nobody listens: no id needed
        event_id = f"{topic}#{seq}"
        if journal is not None:
            journal.event(now, "publish", topic, effect.key, effect.correlation, event_id)
        if not groups:
            return
        if route.plain:
            # The fast path: one message shared by every group, handed out at once.
            message = _tuple(Message, (topic, effect.key, effect.payload, 1, event_id, NO_HEADERS))
            envelope = _tuple(Envelope, (message, effect.correlation, now, seq, now, False))
            key = effect.key
            for group in groups:  # what _offer does, inlined: this is the hot path
                group.accepted += 1
                group.open.add(event_id)
                parked = group.parked
                if key in parked:
                    waiting = parked[key]
                    if waiting is None:
                        waiting = parked[key] = deque()
                    waiting.append(envelope)
                else:
                    parked[key] = None
                    if group.idle:
                        group.idle.pop().succeed(envelope)
                    else:
                        group.queue.append(envelope)
            return
        for group in groups:
            self._accept(group, effect, event_id, seq, now)

    def _accept(self, group: Group, effect: Publish, event_id: str, seq: int, now: float) -> None:
        channel = group.channel
        group.accepted += 1
        group.open.add(event_id)
        delay = channel.latency() if channel.latency is not None else 0.0
        due = now + delay
        headers = channel.sign(effect.payload, due) if channel.sign is not None else NO_HEADERS
        message = Message(effect.topic, effect.key, effect.payload, 1, event_id, headers)
        self._offer(group, Envelope(message, effect.correlation, now, seq, due))
        if channel.duplicate_rate and self.dice() < channel.duplicate_rate:
            # The copy takes its own way through the network, a little later.
            extra = channel.latency() if channel.latency is not None else 0.0
            later = due + extra + channel.redelivery.base
            if channel.sign is not None:  # a sender's second attempt is sealed anew
                message = message._replace(headers=channel.sign(effect.payload, later))
            self._offer(group, Envelope(message, effect.correlation, now, seq, later, True))

    def _offer(self, group: Group, envelope: Envelope) -> None:
        if not group.channel.ordered:
            self._at_due(group, envelope)
            return
        key = envelope.message.key
        parked = group.parked
        if key in parked:  # an earlier message of this key is not settled yet
            waiting = parked[key]
            if waiting is None:
                waiting = parked[key] = deque()
            waiting.append(envelope)
            return
        parked[key] = None
        self._at_due(group, envelope)

    def _at_due(self, group: Group, envelope: Envelope) -> None:
        wait = envelope.due - self.env.now
        if wait > 0:
            self.env.timeout(wait).callbacks.append(lambda _: self._dispatch(group, envelope))
        elif group.idle:
            group.idle.pop().succeed(envelope)
        else:
            group.queue.append(envelope)

    def _dispatch(self, group: Group, envelope: Envelope) -> None:
        if group.idle:
            group.idle.pop().succeed(envelope)
        else:
            group.queue.append(envelope)

    def _release(self, group: Group, key: str) -> None:
        """The key's next message may go now (ordered channels)."""
        if not group.channel.ordered:
            return
        waiting = group.parked[key]
        if waiting:
            self._at_due(group, waiting.popleft())
        else:
            del group.parked[key]

    def _work(self, group: Group) -> Generator[simpy.Event, Any, None]:
        env = self.env
        run = self.runtime.run
        queue, idle, open_ids, lags = group.queue, group.idle, group.open, group.lags.values
        parked = group.parked
        channel = group.channel  # fixed once subscribed (see configure)
        retention, ordered = channel.retention, channel.ordered
        expires = retention != math.inf
        while True:
            if group.surplus:  # scaled down: this worker goes home
                group.surplus -= 1
                return
            if queue:
                envelope = queue.popleft()
            else:
                wake = env.event()
                idle.append(wake)
                envelope = yield wake
            while group.paused:  # held until the operator resumes the group
                assert group.resumed is not None
                yield group.resumed
            message = envelope.message
            if expires and env.now - envelope.published_at > retention:
                self._lose(group, envelope, "expired: not handled within the retention")
                self._release(group, message.key)
                continue
            group.delivered += 1
            if message.attempt > 1:
                group.redelivered += 1
            again = envelope.copy or message.id not in open_ids
            if again:
                group.duplicates += 1
            if self.journal is not None:
                self._log(group, envelope, "duplicate" if again else "deliver")
            try:
                outcome = yield from run(group.handler(message))
            except (CallError, PoisonMessage) as exc:
                self._failed(group, envelope, exc)
                continue
            if outcome.__class__ is str:
                group.outcomes[outcome] = group.outcomes.get(outcome, 0) + 1
            if message.id in open_ids:  # not applied by another copy meanwhile
                open_ids.remove(message.id)
                group.applied += 1
                lags.append(env.now - envelope.published_at)
                if not ordered:  # an ordered channel cannot overtake
                    self._note_order(group, envelope)
            if channel.crash_rate and self.dice() < channel.crash_rate:
                # Applied, but the acknowledgement never reached the broker.
                if self.journal is not None:
                    self._log(group, envelope, "crash", "applied, acknowledgement lost")
                self._again(group, envelope, None)
                continue
            if ordered:  # _release, inlined
                waiting = parked[message.key]
                if waiting:
                    self._at_due(group, waiting.popleft())
                else:
                    del parked[message.key]

    def pause(self, group: Group, paused: bool) -> None:
        """Stop ``group`` taking messages (they wait in its queue), or let it go on."""
        if paused and not group.paused:
            group.paused, group.resumed = True, self.env.event()
        elif not paused and group.paused:
            assert group.resumed is not None
            group.paused = False
            group.resumed.succeed()

    def scale(self, group: Group, consumers: int) -> int:
        """Give ``group`` this many workers; how many it had."""
        before = group.consumers
        if consumers > before:
            for _ in range(consumers - before):
                self.env.process(self._work(group))
        else:
            group.surplus += before - consumers
        group.consumers = consumers
        return before

    def replay(self, topic: str | None = None) -> int:
        """Hand the dead letters (of ``topic`` only, if given) back to their groups, as
        freshly published: what a person does once the cause is fixed. How many."""
        now = self.env.now
        kept, count = [], 0
        groups = {(g.topic, g.name): g for g in self.groups()}
        for letter in self.dlq:
            message = letter.message
            group = groups.get((message.topic, letter.group))
            if group is None or (topic is not None and message.topic != topic):
                kept.append(letter)
                continue
            count += 1
            group.dead_lettered -= 1
            group.open.add(message.id)
            seq = self._route(message.topic).published
            again = message._replace(attempt=1)
            self._offer(group, Envelope(again, message.key, now, seq, now))
        self.dlq = kept
        return count

    def _note_order(self, group: Group, envelope: Envelope) -> None:
        key = envelope.message.key
        if envelope.seq < group.newest.get(key, 0):
            group.reordered += 1
        else:
            group.newest[key] = envelope.seq

    def _failed(self, group: Group, envelope: Envelope, exc: Exception) -> None:
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
            envelope.message.attempt >= channel.max_deliveries
            or self.env.now - envelope.published_at >= channel.max_age
        )
        if hopeless or (spent and channel.give_up == "dlq"):
            self._dead_letter(group, envelope, reason)
            self._release(group, envelope.message.key)
        elif spent:
            gave_up = f"given up after {envelope.message.attempt} deliveries: {reason}"
            self._lose(group, envelope, gave_up)
            self._release(group, envelope.message.key)
        else:
            if self.journal is not None:
                self._log(group, envelope, "retry", reason)
            self._again(group, envelope, exc)

    def _again(self, group: Group, envelope: Envelope, exc: Exception | None) -> None:
        """Deliver the message again after the channel's backoff."""
        channel = group.channel
        message = envelope.message
        # A consumer throttled on its last try passes the vendor's Retry-After on:
        # redelivering sooner would only be throttled again.
        retry_after = exc.retry_after if isinstance(exc, Throttled) else None
        delay = backoff(
            channel.redelivery, message.attempt, f"{message.topic}:{message.key}", retry_after
        )
        due = self.env.now + delay
        headers = message.headers
        if channel.sign is not None:
            headers = channel.sign(message.payload, due)  # a sender re-signs each attempt
        again = message._replace(attempt=message.attempt + 1, headers=headers)
        self._at_due(group, envelope._replace(message=again, due=due))

    def _dead_letter(self, group: Group, envelope: Envelope, reason: str) -> None:
        now = self.env.now
        message = envelope.message
        if message.id in group.open:
            group.open.discard(message.id)
            group.dead_lettered += 1
            self.dlq.append(DeadLetter(message, reason, now, group.name))
            note = {"topic": message.topic, "reason": reason}
            workflow = message.payload.get("workflow")
            if workflow is not None:
                note["workflow"] = workflow  # whose work it was, when not the key's
            for observe in self.taps:
                observe(DEAD_LETTERED, message.key, note, now)
        if self.journal is not None:
            self._log(group, envelope, "dead_letter", reason)

    def _lose(self, group: Group, envelope: Envelope, reason: str) -> None:
        message = envelope.message
        if message.id in group.open:
            group.open.discard(message.id)
            group.lost += 1
            self.lost.append(DeadLetter(message, reason, self.env.now, group.name))
        if self.journal is not None:
            self._log(group, envelope, "drop", reason)

    def _log(self, group: Group, envelope: Envelope, what: str, reason: str = "") -> None:
        assert self.journal is not None
        message = envelope.message
        self.journal.event(
            self.env.now,
            what,
            message.topic,
            message.key,
            envelope.correlation,
            message.id,
            group.name,
            message.attempt,
            reason or None,
        )
