"""The broker's faults: latency, duplicates, overtaking, retention, crashes, outages,
poison and business rejections, and the books every consumer group keeps."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import simpy

from orchestrator.effects import NOW, Publish, Sleep, Workflow
from orchestrator.errors import PoisonMessage, Rejected, Unavailable
from orchestrator.events import Message
from orchestrator.resilience import RetryPolicy
from sim.broker import Broker, Channel, Group
from sim.driver import Runtime
from sim.journal import Journal

TOPIC = "order.accepted"
QUICK = RetryPolicy(base=10.0, cap=10.0, jitter="none")


def draws(values: Iterable[float]) -> Callable[[], float]:
    """A stand-in for a random draw: the given values in turn, the last one forever."""
    items: Iterator[float] = iter(values)
    last = 0.0

    def draw() -> float:
        nonlocal last
        last = next(items, last)
        return last

    return draw


class Post:
    """A broker on one channel, one consumer group whose handler logs what it sees."""

    def __init__(
        self,
        channel: Channel,
        work: float = 0.0,
        fail: Callable[[Message], Exception | None] = lambda m: None,
        dice: Callable[[], float] | None = None,
        journal: Journal | None = None,
        consumers: int = 4,
    ) -> None:
        self.env = simpy.Environment()
        self.runtime = Runtime(self.env, {})
        self.broker = Broker(self.runtime, Channel(), dice, journal)
        self.broker.configure(TOPIC, channel)
        self.runtime.sink = self.broker
        self.work, self.fail = work, fail
        self.seen: list[tuple[int, int, bool, float]] = []  # (n, attempt, ok, when)
        self.group: Group = self.broker.subscribe(TOPIC, self.handle, consumers, "g")

    def handle(self, message: Message) -> Workflow:
        if self.work:
            yield Sleep(self.work)
        now = yield NOW
        error = self.fail(message)
        self.seen.append((message.payload["n"], message.attempt, error is None, now))
        if error is not None:
            raise error
        return "applied"

    def post(self, n: int, key: str = "D-1", at: float = 0.0) -> None:
        def publisher() -> Workflow:
            yield Sleep(at)
            yield Publish(TOPIC, key, {"n": n}, key)

        self.runtime.start(publisher())

    def books_balance(self) -> bool:
        g = self.group
        return g.accepted == g.applied + g.dead_lettered + g.lost + len(g.open)


def test_latency_delays_each_delivery_by_its_own_draw() -> None:
    post = Post(Channel(latency=draws([5.0, 1.0]), ordered=False))
    post.post(1)
    post.post(2)
    post.env.run()
    assert post.seen == [(2, 1, True, 1.0), (1, 1, True, 5.0)]
    assert post.group.reordered == 1  # the second overtook the first
    assert list(post.group.lags.values) == [1.0, 5.0]


def test_an_ordered_channel_holds_a_key_until_the_earlier_message_is_settled() -> None:
    post = Post(Channel(latency=draws([5.0, 1.0])))
    post.post(1)
    post.post(2)
    post.env.run()
    assert [(n, when) for n, _, _, when in post.seen] == [(1, 5.0), (2, 5.0)]
    assert post.group.reordered == 0


def test_duplicates_come_again_later_and_are_counted_never_applied_twice() -> None:
    post = Post(Channel(duplicate_rate=0.5, redelivery=QUICK), dice=draws([0.1, 0.9]))
    post.post(1, key="A")
    post.post(2, key="B")
    post.env.run()
    assert sorted((n, when) for n, _, _, when in post.seen) == [(1, 0.0), (1, 10.0), (2, 0.0)]
    g = post.group
    assert (g.delivered, g.duplicates, g.applied, g.accepted) == (3, 1, 2, 2)
    assert post.books_balance() and not g.open


def test_retention_throws_away_what_waits_too_long_and_counts_it() -> None:
    post = Post(Channel(retention=30.0), work=20.0, consumers=1)
    for n, key in enumerate("ABC", 1):
        post.post(n, key=key)
    post.env.run()
    assert [n for n, *_ in post.seen] == [1, 2]  # the third waited 40 s for the consumer
    assert post.group.lost == 1 and post.books_balance()
    (lost,) = post.broker.lost
    assert lost.message.key == "C" and "retention" in lost.reason


def test_a_consumer_crash_after_applying_brings_the_message_again() -> None:
    post = Post(Channel(crash_rate=0.5, redelivery=QUICK), dice=draws([0.1, 0.9]))
    post.post(1)
    post.env.run()
    assert post.seen == [(1, 1, True, 0.0), (1, 2, True, 10.0)]
    g = post.group
    assert (g.applied, g.redelivered, g.duplicates) == (1, 1, 1)


def test_publishing_fails_while_the_broker_is_down() -> None:
    out = io.StringIO()
    post = Post(Channel(outages=((100.0, 200.0),)), journal=Journal(out))
    outcomes: list[str] = []

    def producer(at: float) -> Workflow:
        yield Sleep(at)
        try:
            yield Publish(TOPIC, "D-1", {"n": int(at)}, "D-1")
        except Unavailable as exc:
            outcomes.append(exc.code)
        else:
            outcomes.append("ok")

    for at in (50.0, 150.0, 250.0):
        post.runtime.start(producer(at))
    post.env.run()
    post.broker.journal.flush()  # type: ignore[union-attr]
    assert outcomes == ["ok", "BROKER_UNAVAILABLE", "ok"]
    assert post.broker.published == 2
    kinds = [json.loads(line)["kind"] for line in out.getvalue().splitlines()]
    assert kinds == ["publish", "deliver", "refused", "publish", "deliver"]


@pytest.mark.parametrize(
    "error",
    [PoisonMessage("order.accepted lacks orderId"), Rejected("erp", "x", 422, "CREDIT_HOLD")],
)
def test_what_can_never_succeed_goes_to_the_dead_letter_queue_at_once(error: Exception) -> None:
    post = Post(Channel(max_deliveries=5, redelivery=QUICK), fail=lambda m: error)
    post.post(1)
    post.post(2, at=1.0)
    post.env.run()
    assert [(n, attempt) for n, attempt, *_ in post.seen] == [(1, 1), (2, 1)]
    assert len(post.broker.dlq) == 2 and post.group.dead_lettered == 2
    reason = post.broker.dlq[0].reason
    assert reason.startswith("poison: ") == isinstance(error, PoisonMessage)
    assert post.group.failures == {getattr(error, "code", "") or "PoisonMessage": 2}


def test_a_transient_failure_is_redelivered_until_it_succeeds() -> None:
    post = Post(
        Channel(max_deliveries=5, redelivery=QUICK),
        fail=lambda m: Unavailable("erp", "x", 503) if m.attempt < 3 else None,
    )
    post.post(1)
    post.env.run()
    assert [(attempt, ok, when) for _, attempt, ok, when in post.seen] == [
        (1, False, 0.0),
        (2, False, 10.0),
        (3, True, 20.0),
    ]
    assert post.group.applied == 1 and not post.broker.dlq


def test_a_sender_that_gives_up_drops_the_event_and_counts_it_lost() -> None:
    post = Post(
        Channel(max_age=25.0, give_up="drop", redelivery=QUICK, max_deliveries=100),
        fail=lambda m: Unavailable("erp", "x", 503),
    )
    post.post(1)
    post.env.run()
    assert [attempt for _, attempt, *_ in post.seen] == [1, 2, 3, 4]  # at 0, 10, 20, 30 s
    assert post.group.lost == 1 and not post.broker.dlq
    assert "given up after 4 deliveries" in post.broker.lost[0].reason


def test_a_signed_channel_signs_every_delivery_afresh() -> None:
    stamps: list[float] = []

    def sign(payload: Any, now: float) -> dict[str, str]:
        stamps.append(now)
        return {"sig": f"{payload['n']}@{now}"}

    headers: list[str] = []

    def first_refused(message: Message) -> Exception | None:
        headers.append(message.headers["sig"])
        return Unavailable("erp", "x", 503) if message.attempt == 1 else None

    post = Post(Channel(sign=sign, redelivery=QUICK, latency=draws([2.0])), fail=first_refused)
    post.post(7)
    post.env.run()
    assert headers == ["7@2.0", "7@12.0"]  # signed when sent, and again on redelivery
    assert stamps == [2.0, 12.0]


def test_topic_figures_sum_the_groups_books() -> None:
    post = Post(Channel(duplicate_rate=1.0, redelivery=QUICK), dice=draws([0.0]))
    other: list[int] = []

    def audit(message: Message) -> Workflow:
        other.append(message.payload["n"])
        yield NOW

    post.broker.subscribe(TOPIC, audit, 1, "audit")
    post.post(1)
    post.env.run()
    stats = post.broker.stats()[TOPIC]
    assert (stats.published, stats.delivered, stats.duplicates) == (1, 4, 2)
    assert len(stats.lags) == 2  # one first application per group


def test_configuring_a_topic_after_subscribing_is_refused() -> None:
    post = Post(Channel())
    with pytest.raises(ValueError, match="before subscribing"):
        post.broker.configure(TOPIC, Channel(duplicate_rate=0.5))
