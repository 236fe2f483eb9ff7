"""The live runtime's broker: per-key order, redelivery, dead letters the taps hear."""

from __future__ import annotations

import asyncio
from typing import Any

from live.broker import Broker
from live.runtime import LiveRuntime
from orchestrator.effects import Publish, Workflow
from orchestrator.errors import Conflict, PoisonMessage, Rejected, Unavailable
from orchestrator.events import DEAD_LETTERED, Message
from orchestrator.resilience import RetryPolicy

FAST = RetryPolicy(base=0.001, cap=0.001, jitter="none")


def run(failures: dict[str, list[Exception]], events: list[str]) -> tuple[list[Any], list[str]]:
    """Publish ``events`` (one key) to a handler that fails as scripted per event."""
    heard: list[Any] = []
    handled: list[str] = []

    async def go() -> None:
        runtime = LiveRuntime({}, {}, 1.0)
        broker = Broker(runtime, max_deliveries=3, redelivery=FAST)
        broker.taps.append(lambda topic, key, payload, now: heard.append((topic, payload)))

        def handler(message: Message) -> Workflow:
            name = message.payload["name"]
            queue = failures.get(name, [])
            if queue:
                raise queue.pop(0)
            handled.append(name)
            return
            yield  # a workflow that calls nothing

        broker.subscribe("t", handler, "g")
        for name in events:
            broker.publish(Publish("t", "K", {"name": name}), 0.0)
        await runtime.idle()
        assert broker._locks == {} and broker._waiting == {}  # nothing kept per key
        await runtime.close()

    asyncio.run(go())
    return heard, handled


def test_one_keys_events_are_handled_in_order_and_a_retryable_one_again() -> None:
    heard, handled = run({"a": [Unavailable("erp", "x", 503)]}, ["a", "b", "c"])
    assert handled == ["a", "b", "c"]
    assert [topic for topic, _ in heard] == ["t", "t", "t"]


def test_a_stale_write_is_delivered_again_as_in_the_simulator() -> None:
    stale = Conflict("provisioning", "setSeats", 409, "STALE_VERSION")
    _, handled = run({"a": [stale]}, ["a"])
    assert handled == ["a"]


def test_poison_a_business_no_and_spent_retries_go_to_the_dead_letter_queue() -> None:
    poison = PoisonMessage("no such field")
    no = Rejected("erp", "x", 422, "CREDIT_HOLD")
    down = [Unavailable("erp", "x", 503) for _ in range(3)]
    heard, handled = run({"p": [poison], "n": [no], "d": down}, ["p", "n", "d", "ok"])
    assert handled == ["ok"]
    dead = [payload for topic, payload in heard if topic == DEAD_LETTERED]
    assert [d["reason"].split(":")[0] for d in dead] == ["poison", "erp.x", "erp.x"]
    assert "after 3 tries" in dead[2]["reason"]
