"""The client's retries, keys and breaker, driven by a scripted plan (no SimPy)."""

from __future__ import annotations

import contextlib

from orchestrator.client import OCCURRED, Client
from orchestrator.errors import (
    CircuitOpen,
    Conflict,
    Rejected,
    Throttled,
    TimeoutUnknown,
    Unavailable,
)
from orchestrator.resilience import BreakerPolicy, Policy, RetryPolicy, backoff
from tests.support import Plan

RETRY = RetryPolicy(max_attempts=4, base=1.0, cap=8.0, jitter="none")


def call(client: Client, plan: Plan, step: str = "order") -> object:
    return plan.run(client.call("D-1", step, "erp", "createSalesOrder", {"x": 1}))


def test_retries_a_transient_failure_with_the_same_key_and_backoff() -> None:
    client = Client(Policy(retry=RETRY, breaker=None))
    plan = Plan({"erp.createSalesOrder": [Unavailable("erp", "x", 503), {"id": "SO-1"}]})
    assert call(client, plan) == {"id": "SO-1"}
    keys = [c.key for c in plan.calls]
    assert keys == ["D-1:order", "D-1:order"]
    assert [c.attempt for c in plan.calls] == [1, 2]
    assert plan.slept == [1.0]


def test_gives_up_after_the_budget_and_says_the_write_may_have_happened() -> None:
    client = Client(Policy(retry=RETRY, breaker=None))
    plan = Plan(
        {"erp.createSalesOrder": [TimeoutUnknown("erp", "x"), Unavailable("erp", "x", 503)]}
    )
    try:
        call(client, plan)
    except Unavailable as exc:
        assert exc.maybe_committed  # the first attempt's outcome is unknown
    else:
        raise AssertionError("expected Unavailable")
    assert len(plan.calls) == 4
    assert plan.slept == [backoff(RETRY, n, "D-1:order") for n in (1, 2, 3)]


def test_honours_retry_after_from_a_throttling_vendor() -> None:
    client = Client(Policy(retry=RETRY, breaker=None))
    throttled = Throttled("erp", "x", 429, retry_after=20.0)
    plan = Plan({"erp.createSalesOrder": [throttled, {"id": "SO-1"}]})
    call(client, plan)
    assert plan.slept == [20.0 + 1.0]  # Retry-After, then the backoff on top


def test_business_rejection_and_key_conflict_are_not_retried() -> None:
    for error in (Rejected("erp", "x", 422, "CREDIT_HOLD"), Conflict("erp", "x", 409)):
        client = Client(Policy(retry=RETRY, breaker=None))
        plan = Plan({"erp.createSalesOrder": [error]})
        try:
            call(client, plan)
        except type(error) as exc:
            assert not exc.maybe_committed
        assert len(plan.calls) == 1 and plan.slept == []


def test_reads_and_the_no_keys_anti_pattern_send_no_key() -> None:
    plan = Plan()
    plan.run(Client(Policy()).call("D-1", "account", "crm", "getAccount", {}, write=False))
    plan.run(Client(Policy(idempotency_keys=False)).call("D-1", "order", "erp", "op", {}))
    assert [c.key for c in plan.calls] == [None, None]


def test_open_breaker_fails_fast_without_calling_and_waits_for_the_trial() -> None:
    policy = Policy(
        retry=RetryPolicy(max_attempts=2, base=0.1, jitter="none"),
        breaker=BreakerPolicy(failure_threshold=2, cool_down=30.0),
    )
    client = Client(policy)
    down = Plan({"erp.createSalesOrder": [Unavailable("erp", "x", 503)]})
    with contextlib.suppress(Unavailable):
        call(client, down)
    assert client.breakers["erp"].state == "open"
    sent = len(down.calls)
    try:
        call(client, down, step="other")
    except Unavailable as exc:
        assert not isinstance(exc, CircuitOpen)  # the trial call reached the vendor
    # attempt 1 failed fast (nothing sent), slept out the cool-down, then one trial
    assert len(down.calls) == sent + 1
    assert down.slept[-1] >= 29.0
    assert client.breakers["erp"].state == "open" and client.breakers["erp"].opens == 2
    healthy = Plan({"erp.createSalesOrder": [{"id": "SO-9"}]})
    healthy.now = down.now + 30.0
    assert call(client, healthy, step="later") == {"id": "SO-9"}
    assert client.breakers["erp"].state == "closed"


def test_circuit_open_is_raised_when_the_budget_ends_during_the_cool_down() -> None:
    policy = Policy(
        retry=RetryPolicy(max_attempts=1, base=0.1, jitter="none"),
        breaker=BreakerPolicy(failure_threshold=1, cool_down=30.0),
    )
    client = Client(policy)
    plan = Plan({"erp.createSalesOrder": [Unavailable("erp", "x", 503)]})
    with contextlib.suppress(Unavailable):
        call(client, plan)
    try:
        call(client, plan, step="next")
    except CircuitOpen as exc:
        assert exc.code == "CIRCUIT_OPEN"
    else:
        raise AssertionError("expected CircuitOpen")
    assert len(plan.calls) == 1


PUBLISH = RetryPolicy(max_attempts=3, base=10.0, cap=10.0, jitter="none")


def test_an_event_published_late_says_when_it_happened() -> None:
    client = Client(Policy(breaker=None, publish_retry=PUBLISH))
    plan = Plan({"publish.order.accepted": [Unavailable("broker", "publish", 503)] * 2})
    plan.now = 100.0
    plan.run(client.publish("order.accepted", "D-1", {"orderId": "SO-1"}))
    [event] = plan.published
    assert plan.slept == [10.0, 10.0]
    assert event.payload == {"orderId": "SO-1", OCCURRED: 100.0}  # the first try, not 120


def test_an_event_published_at_once_carries_no_stamp() -> None:
    client = Client(Policy(breaker=None, publish_retry=PUBLISH))
    plan = Plan()
    plan.run(client.publish("order.accepted", "D-1", {"orderId": "SO-1"}))
    assert plan.published[0].payload == {"orderId": "SO-1"}


def test_publishing_gives_up_after_its_budget() -> None:
    client = Client(Policy(breaker=None, publish_retry=PUBLISH))
    plan = Plan({"publish.order.accepted": [Unavailable("broker", "publish", 503)] * 3})
    with contextlib.suppress(Unavailable):
        plan.run(client.publish("order.accepted", "D-1", {"orderId": "SO-1"}))
        raise AssertionError("expected Unavailable")
    assert plan.published == []
    assert len(plan.slept) == 2
