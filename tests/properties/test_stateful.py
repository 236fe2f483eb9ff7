"""Rule-based state machines: Hypothesis drives a vendor's key store and the broker
step by step, in orders no scripted test would think of, and checks each against a
model of what it promised after every step.

- The key store (Stripe's rules): within the key's lifetime, the same key and
  parameters get the stored reply and change nothing; the same key with other
  parameters gets 409; once the key has expired, the operation runs again.
- The broker: each key's messages are applied in publishing order, each once,
  however deliveries fail and are redelivered; once the clock has run out, every
  message was applied or dead-lettered.
"""

from __future__ import annotations

from typing import Any

import pytest
import simpy
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from orchestrator.effects import Publish, Sleep, Workflow
from orchestrator.errors import Unavailable
from orchestrator.events import Message
from orchestrator.resilience import RetryPolicy
from sim.broker import Broker, Channel
from sim.driver import Runtime
from sim.systems import Support
from sim.systems.base import Vendor

TTL = 100.0
MACHINE = settings(max_examples=60, stateful_step_count=40, derandomize=True, deadline=None)


class KeyStore(RuleBasedStateMachine):
    """A support desk's key store against a model of Stripe's rules."""

    def __init__(self) -> None:
        super().__init__()
        self.vendor = Support(idempotency_ttl=TTL)
        self.now = 0.0
        self.model: dict[str, tuple[dict[str, Any], Any, float]] = {}
        self.executed = self.replays = self.conflicts = 0

    @rule(key=st.sampled_from(["k1", "k2", "k3"]), subject=st.sampled_from(["a", "b"]))
    def create(self, key: str, subject: str) -> None:
        params = {"accountId": "ACC-1", "type": "question", "subject": subject}
        reply = self.vendor("createCase", params, key, self.now)
        held = self.model.get(key)
        if held is not None and self.now - held[2] < TTL:
            if held[0] == params:
                assert reply == held[1], "a live key must get the stored reply"
                self.replays += 1
            else:
                assert reply[0] == 409, "a live key with other parameters must get 409"
                self.conflicts += 1
            return
        assert reply[0] == 201, "a new or expired key runs the operation"
        self.model[key] = (params, reply, self.now)
        self.executed += 1

    @rule(seconds=st.sampled_from([1.0, TTL / 2, TTL - 1.0, TTL, 2 * TTL + 1.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @invariant()
    def books_balance(self) -> None:
        vendor = self.vendor
        assert len(vendor.cases) == self.executed
        assert vendor.replays == self.replays and vendor.key_conflicts == self.conflicts


TestKeyStore = KeyStore.TestCase
TestKeyStore.settings = MACHINE


def test_a_key_store_that_forgets_its_older_generation_breaks_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def newest_only(self: Vendor, key: str, now: float) -> Any:
        if now - self._rotated_at >= self.idempotency_ttl:
            self._older, self.keys = self.keys, {}
            self._rotated_at = now
        stored = self.keys.get(key)  # the planted bug: the older generation is not read
        return stored if stored is not None and now - stored[2] < self.idempotency_ttl else None

    monkeypatch.setattr(Vendor, "_stored", newest_only)
    search = settings(MACHINE, phases=[Phase.generate], report_multiple_bugs=False)
    with pytest.raises(AssertionError, match="a live key must get the stored reply"):
        run_state_machine_as_test(KeyStore, settings=search)


POLICY = RetryPolicy(base=5.0, multiplier=2.0, cap=40.0, jitter="equal")


class Deliveries(RuleBasedStateMachine):
    """The broker's books against a model: per key, in order, once each."""

    ordered = True

    def __init__(self) -> None:
        super().__init__()
        self.env = simpy.Environment()
        self.runtime = Runtime(self.env, {})
        channel = Channel(max_deliveries=4, redelivery=POLICY, ordered=self.ordered)
        self.broker = Broker(self.runtime, channel)
        self.runtime.sink = self.broker
        self.published: dict[str, list[int]] = {}
        self.failing: dict[int, int] = {}  # message n -> deliveries that fail first
        self.applied: dict[str, list[int]] = {}
        self.count = 0
        self.broker.subscribe("order.accepted", self.handle, 3)

    def handle(self, message: Message) -> Workflow:
        yield Sleep(1.0)
        n = message.payload["n"]
        if self.failing.get(n, 0) >= message.attempt:
            raise Unavailable("billing", "createSubscription", 503)
        self.applied.setdefault(message.key, []).append(n)

    @rule(key=st.sampled_from(["D-1", "D-2"]), fails=st.integers(0, 5))
    def publish(self, key: str, fails: int) -> None:
        self.count += 1
        self.failing[self.count] = fails
        self.published.setdefault(key, []).append(self.count)
        self.broker.publish(Publish("order.accepted", key, {"n": self.count}), self.env.now)

    @rule(seconds=st.sampled_from([0.5, 3.0, 30.0, 300.0]))
    def run(self, seconds: float) -> None:
        self.env.run(until=self.env.now + seconds)

    @invariant()
    def in_order_and_once(self) -> None:
        for key, applied in self.applied.items():
            assert len(applied) == len(set(applied)), f"{key}: a message applied twice"
            order = [n for n in self.published[key] if n in set(applied)]
            assert applied == order, f"{key}: applied {applied}, published {self.published[key]}"

    @precondition(lambda self: self.count > 0)
    @rule()
    def drain(self) -> None:
        self.env.run(until=self.env.now + 10_000.0)
        dead = {letter.message.payload["n"] for letter in self.broker.dlq}
        applied = {n for ns in self.applied.values() for n in ns}
        for ns in self.published.values():
            for n in ns:
                assert (n in applied) != (n in dead), f"message {n}: applied xor dead-lettered"
                assert (n in dead) == (self.failing[n] >= 4)  # four deliveries, then the DLQ


TestDeliveries = Deliveries.TestCase
TestDeliveries.settings = MACHINE


class Unordered(Deliveries):
    """The same books on a broker that does not hold a key's later messages back."""

    ordered = False


def test_a_broker_that_does_not_hold_a_keys_later_messages_breaks_the_order() -> None:
    search = settings(MACHINE, phases=[Phase.generate], report_multiple_bugs=False)
    with pytest.raises(AssertionError, match=r"applied .* published"):
        run_state_machine_as_test(Unordered, settings=search)
