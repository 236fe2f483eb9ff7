"""The at-least-once broker: per-key order, parallelism, redelivery, dead letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simpy

from orchestrator.effects import NOW, Publish, Sleep, Workflow
from orchestrator.errors import Throttled, Unavailable
from orchestrator.events import Message
from orchestrator.resilience import RetryPolicy, backoff
from sim.broker import Broker, Channel
from sim.driver import Runtime

POLICY = RetryPolicy(base=10.0, multiplier=2.0, cap=100.0, jitter="equal")
TOPIC = "order.accepted"


class Desk:
    """A broker with one consumer group whose handler follows a script.

    ``fail(message)`` says whether a delivery fails (after ``work`` seconds).
    Every delivery is logged as ``(key, n, attempt, started, ended, ok)``.
    """

    def __init__(
        self,
        consumers: int = 4,
        work: float = 5.0,
        fail: Callable[[Message], bool] = lambda m: False,
        max_deliveries: int = 4,
    ) -> None:
        self.env = simpy.Environment()
        self.runtime = Runtime(self.env, {})
        self.broker = Broker(
            self.runtime, Channel(max_deliveries=max_deliveries, redelivery=POLICY)
        )
        self.runtime.sink = self.broker
        self.work = work
        self.fail = fail
        self.log: list[tuple[str, int, int, float, float, bool]] = []
        self.tapped: list[tuple[str, str, Any, float]] = []
        self.broker.tap(
            lambda topic, key, payload, now: self.tapped.append((topic, key, payload, now))
        )
        self.sub = self.broker.subscribe(TOPIC, self.handle, consumers)

    def handle(self, message: Message) -> Workflow:
        started = yield NOW
        if self.work:
            yield Sleep(self.work)
        ended = yield NOW
        failed = self.fail(message)
        self.log.append(
            (message.key, message.payload["n"], message.attempt, started, ended, not failed)
        )
        if failed:
            raise Unavailable("billing", "createSubscription", 503, "SERVICE_UNAVAILABLE")

    def post(self, key: str, n: int, at: float = 0.0) -> None:
        def publisher() -> Workflow:
            yield Sleep(at)
            yield Publish(TOPIC, key, {"n": n})

        self.runtime.start(publisher())

    def starts(self, key: str) -> list[tuple[int, int, float]]:
        return [(n, attempt, start) for k, n, attempt, start, _, _ in self.log if k == key]


def test_messages_of_one_key_are_handled_one_at_a_time_in_order() -> None:
    desk = Desk(consumers=4, work=5.0)
    for n in range(1, 4):
        desk.post("D-1", n)
    desk.env.run()
    assert desk.starts("D-1") == [(1, 1, 0.0), (2, 1, 5.0), (3, 1, 10.0)]


def test_keys_run_in_parallel_up_to_the_consumer_count() -> None:
    desk = Desk(consumers=2, work=5.0)
    for n, key in enumerate(["A", "B", "C", "D", "E"], 1):
        desk.post(key, n)
    desk.env.run()
    starts = sorted(start for *_, start, _end, _ok in desk.log)
    assert starts == [0.0, 0.0, 5.0, 5.0, 10.0]
    assert desk.env.now == 15.0


def test_a_later_message_waits_for_the_earlier_ones_redeliveries() -> None:
    # D-1 #1 fails twice; D-1 #2 must wait until #1 finally succeeds; D-2 is not held up
    desk = Desk(
        consumers=4,
        work=1.0,
        fail=lambda m: m.key == "D-1" and m.payload["n"] == 1 and m.attempt < 3,
    )
    desk.post("D-1", 1)
    desk.post("D-1", 2, at=0.5)
    desk.post("D-2", 3, at=0.5)
    desk.env.run()
    d1 = backoff(POLICY, 1, f"{TOPIC}:D-1")
    d2 = backoff(POLICY, 2, f"{TOPIC}:D-1")
    second = 1.0 + d1
    third = second + 1.0 + d2
    assert desk.starts("D-1") == [
        (1, 1, 0.0),
        (1, 2, pytest.approx(second)),
        (1, 3, pytest.approx(third)),
        (2, 1, pytest.approx(third + 1.0)),
    ]
    assert desk.starts("D-2") == [(3, 1, 0.5)]


def test_redelivery_times_follow_the_backoff_policy() -> None:
    desk = Desk(work=0.0, fail=lambda m: True, max_deliveries=5)
    desk.post("D-7", 1, at=2.0)
    desk.env.run()
    key = f"{TOPIC}:D-7"
    expected, at = [], 2.0
    for attempt in range(1, 6):
        expected.append((1, attempt, pytest.approx(at)))
        at += backoff(POLICY, attempt, key)
    assert desk.starts("D-7") == expected
    delays = [backoff(POLICY, a, key) for a in range(1, 5)]
    # equal jitter: between half and all of the capped exponential delay
    for attempt, delay in enumerate(delays, 1):
        full = min(100.0, 10.0 * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full
    assert desk.sub.delivered == 5
    assert desk.sub.redelivered == 4


def test_dead_letter_after_max_deliveries_with_the_reason() -> None:
    desk = Desk(work=1.0, fail=lambda m: m.payload["n"] == 1, max_deliveries=3)
    desk.post("D-9", 1)
    desk.post("D-9", 2)
    desk.env.run()
    assert [attempt for _, attempt, _ in desk.starts("D-9")] == [1, 2, 3, 1]
    assert len(desk.broker.dlq) == 1
    dead = desk.broker.dlq[0]
    assert dead.message.key == "D-9"
    assert dead.message.payload == {"n": 1}
    assert dead.message.attempt == 3
    assert "billing.createSubscription" in dead.reason
    assert "503" in dead.reason
    assert "SERVICE_UNAVAILABLE" in dead.reason
    last_failure = desk.starts("D-9")[2][2] + 1.0
    assert dead.at == pytest.approx(last_failure)
    # the key is settled by the dead letter: the next message is delivered then
    assert desk.starts("D-9")[3] == (2, 1, pytest.approx(last_failure))
    # and the tap hears about it
    dlq_events = [t for t in desk.tapped if t[0] == "dlq"]
    assert dlq_events == [
        ("dlq", "D-9", {"topic": TOPIC, "reason": dead.reason}, pytest.approx(last_failure))
    ]


def test_nothing_is_lost_every_message_is_handled_or_dead_lettered() -> None:
    desk = Desk(consumers=3, work=2.0, fail=lambda m: m.payload["n"] % 4 == 0, max_deliveries=2)
    for n in range(1, 21):
        desk.post(f"D-{n % 5}", n, at=n * 0.7)
    desk.env.run()
    handled = {n for _, n, _, _, _, ok in desk.log if ok}
    dead = {d.message.payload["n"] for d in desk.broker.dlq}
    assert handled | dead == set(range(1, 21))
    assert not handled & dead
    assert dead == {4, 8, 12, 16, 20}
    # per key, first deliveries keep publication order
    for k in range(5):
        firsts = [n for n, attempt, _ in desk.starts(f"D-{k}") if attempt == 1]
        assert firsts == sorted(firsts)


def test_taps_see_every_publish_even_without_subscribers() -> None:
    desk = Desk(work=0.0)
    seen: list[tuple[str, str, Any, float]] = []
    desk.broker.tap(lambda topic, key, payload, now: seen.append((topic, key, payload, now)))

    def publisher() -> Workflow:
        yield Publish(TOPIC, "D-1", {"n": 1})
        yield Sleep(4.0)
        yield Publish("order.live", "D-1", {"orderId": "SO-1"})
        yield Publish(TOPIC, "D-2", {"n": 2})

    desk.runtime.start(publisher())
    desk.env.run()
    assert seen == [
        (TOPIC, "D-1", {"n": 1}, 0.0),
        ("order.live", "D-1", {"orderId": "SO-1"}, 4.0),
        (TOPIC, "D-2", {"n": 2}, 4.0),
    ]
    assert desk.tapped == seen  # the first tap saw the same
    assert desk.broker.published == 3
    assert [n for _, n, *_ in desk.log] == [1, 2]  # order.live has no subscriber


def test_each_subscription_gets_its_own_copy() -> None:
    desk = Desk(work=1.0)
    other: list[tuple[str, float]] = []

    def audit(message: Message) -> Workflow:
        other.append((message.key, (yield NOW)))

    desk.broker.subscribe(TOPIC, audit, consumers=1)
    desk.post("D-1", 1)
    desk.post("D-2", 2)
    desk.env.run()
    assert sorted(other) == [("D-1", 0.0), ("D-2", 0.0)]
    assert sorted(n for _, n, *_ in desk.log) == [1, 2]


def test_a_throttled_consumer_is_redelivered_no_sooner_than_retry_after() -> None:
    env = simpy.Environment()
    runtime = Runtime(env, {})
    broker = Broker(
        runtime, Channel(max_deliveries=3, redelivery=RetryPolicy(base=1.0, jitter="none"))
    )
    runtime.sink = broker
    starts: list[tuple[int, float]] = []

    def handle(message: Message) -> Workflow:
        starts.append((message.attempt, (yield NOW)))
        if message.attempt == 1:
            raise Throttled("billing", "createSubscription", 429, "", retry_after=40.0)

    broker.subscribe(TOPIC, handle, 1)

    def publisher() -> Workflow:
        yield Publish(TOPIC, "D-1", {"n": 1})

    runtime.start(publisher())
    env.run()
    # Retry-After (40 s) plus the broker's own backoff (1 s), not the backoff alone
    assert starts == [(1, 0.0), (2, 41.0)]
