"""Webhook receivers: verify the seal, drop what was handled, apply only what is newer.

Driven by a scripted plan: the assertions read the calls a receiver makes.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import signatures
from orchestrator.client import Client
from orchestrator.consumers import remembered
from orchestrator.effects import Workflow
from orchestrator.errors import Conflict, PoisonMessage, Rejected
from orchestrator.events import Message
from orchestrator.receivers import NotYet, SignatureRefused, receivers
from orchestrator.resilience import Policy, RetryPolicy
from tests.support import DEFAULT, Plan

SECRET = "whsec_test"
ONCE = RetryPolicy(max_attempts=1)


def client(**policy: Any) -> Client:
    options: dict[str, Any] = {
        "retry": ONCE,
        "breaker": None,
        "webhook_secrets": {"billing": SECRET},
        "webhook_tolerance": 300.0,
    }
    options.update(policy)
    return Client(Policy(**options))


def receiver(system: str, c: Client | None = None) -> Any:
    (found,) = receivers(c or client(), (system,))
    return found.handler


def paid(version: int = 3, event: str = "evt_1") -> dict[str, Any]:
    return {
        "id": event,
        "type": "invoice.paid",
        "created": 10.0,
        "data": {
            "id": "in-1",
            "salesOrderId": "SO-1",
            "amount": 490.0,
            "paidAt": 10.0,
            "version": version,
            "dealId": "D-1",
        },
    }


def signed(payload: dict[str, Any], at: float = 100.0, secret: str = SECRET) -> Message:
    header = {signatures.HEADER: signatures.sign(secret, at, payload)}
    return Message("billing.webhook", "SO-1", payload, 1, "billing.webhook#1", header)


def run(plan: Plan, workflow: Workflow, now: float = 100.0) -> Any:
    plan.now = now
    return plan.run(workflow)


def test_a_paid_invoice_posts_the_payment_and_marks_the_receivable_paid() -> None:
    answers = {"oms.seenEvent": [{"seen": False}]}
    for operation in ("erp.recordPayment", "erp.updateReceivable", "oms.markEvent"):
        answers[operation] = [DEFAULT]
    plan = Plan(answers, strict=True)
    outcome = run(plan, receiver("billing")(signed(paid())))
    assert outcome == "applied"
    assert plan.operations() == [
        "oms.seenEvent",
        "erp.recordPayment",
        "erp.updateReceivable",
        "oms.markEvent",
    ]
    payment, receivable = plan.calls[1], plan.calls[2]
    assert payment.key == "D-1:payment:in-1"  # an entry: keyed
    assert receivable.key is None  # a versioned write is its own idempotency
    assert receivable.params["sourceVersion"] == 3 and receivable.params["ifNewer"] is True
    assert all(c.correlation == "D-1" for c in plan.calls)


def test_an_event_handled_before_is_a_duplicate_and_changes_nothing() -> None:
    plan = Plan({"oms.seenEvent": [{"seen": True}]}, strict=True)
    assert run(plan, receiver("billing")(signed(paid()))) == "duplicate"
    assert plan.operations() == ["oms.seenEvent"]


def test_without_dedupe_nothing_is_remembered() -> None:
    plan = Plan()
    run(plan, receiver("billing", client(dedupe=False))(signed(paid())))
    assert "oms.seenEvent" not in plan.operations()
    assert "oms.markEvent" not in plan.operations()


def test_an_older_version_than_the_target_holds_is_discarded_as_stale() -> None:
    stale = Conflict("erp", "updateReceivable", 409, "STALE_VERSION")
    plan = Plan({"oms.seenEvent": [{"seen": False}], "erp.updateReceivable": [stale]})
    assert run(plan, receiver("billing")(signed(paid(version=2)))) == "stale"
    assert plan.operations()[-1] == "oms.markEvent"  # handled: a copy is a duplicate


def test_without_ordering_the_last_delivery_wins() -> None:
    plan = Plan({"oms.seenEvent": [{"seen": False}]})
    run(plan, receiver("billing", client(ordering=False))(signed(paid())))
    receivable = next(c for c in plan.calls if c.operation == "updateReceivable")
    assert receivable.params["ifNewer"] is False


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (signed(paid(), secret="whsec_rotated"), "SIGNATURE_MISMATCH"),
        (signed(paid(), at=100.0 - 301.0), "SIGNATURE_STALE"),
        (Message("billing.webhook", "SO-1", paid(), 1, "e", {}), "SIGNATURE_MISSING"),
        (
            Message("billing.webhook", "SO-1", paid(), 1, "e", {"Webhook-Signature": "v1=x"}),
            "SIGNATURE_MALFORMED",
        ),
    ],
)
def test_a_seal_that_does_not_hold_is_refused_and_nothing_applied(
    message: Message, code: str
) -> None:
    plan = Plan()
    with pytest.raises(SignatureRefused) as refused:
        run(plan, receiver("billing")(message))
    assert refused.value.code == code
    assert plan.calls == []  # not even the memory was asked


def test_a_tampered_body_fails_the_seal() -> None:
    message = signed(paid())
    tampered = message._replace(payload={**paid(), "data": {**paid()["data"], "amount": 1.0}})
    with pytest.raises(SignatureRefused, match="SIGNATURE_MISMATCH"):
        run(Plan(), receiver("billing")(tampered))


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "evt_2", "type": "invoice.refunded", "data": {"id": "in-1"}},
        {"id": "evt_3", "type": "invoice.paid", "data": {"id": "in-1", "version": 1}},
        {"id": "evt_4", "type": "invoice.paid", "data": "not an object"},
    ],
)
def test_an_event_of_unknown_shape_is_poison(payload: dict[str, Any]) -> None:
    with pytest.raises(PoisonMessage):
        run(Plan(), receiver("billing")(signed(payload)))


def subscription_event(status: str, cancellation: str | None) -> Message:
    data = {"id": "sub-1", "status": status, "version": 4, "cancellation": cancellation}
    payload = {"id": "evt_9", "type": "customer.subscription.updated", "data": data}
    return signed(payload)


def test_a_cancelled_subscription_suspends_its_seats() -> None:
    plan = Plan({"oms.seenEvent": [{"seen": False}]})
    assert run(plan, receiver("billing")(subscription_event("cancelled", "requested"))) == (
        "applied"
    )
    update = next(c for c in plan.calls if c.operation == "updateEntitlement")
    assert update.params["status"] == "suspended"


def test_dunning_that_wins_the_race_against_provisioning_asks_again_later() -> None:
    missing = Rejected("provisioning", "updateEntitlement", 404, "NOT_FOUND")
    plan = Plan({"oms.seenEvent": [{"seen": False}], "provisioning.updateEntitlement": [missing]})
    with pytest.raises(NotYet):
        run(plan, receiver("billing")(subscription_event("cancelled", "payment_failed")))
    assert "oms.markEvent" not in plan.operations()  # not handled: it must come again
    requested = Plan(
        {"oms.seenEvent": [{"seen": False}], "provisioning.updateEntitlement": [missing]}
    )
    outcome = run(requested, receiver("billing")(subscription_event("cancelled", "requested")))
    assert outcome == "skipped"  # we cancelled it ourselves before provisioning


def test_a_past_due_subscription_keeps_its_seats() -> None:
    plan = Plan({"oms.seenEvent": [{"seen": False}]})
    assert run(plan, receiver("billing")(subscription_event("past_due", None))) == "skipped"
    assert "provisioning.updateEntitlement" not in plan.operations()


def test_unsigned_senders_are_not_asked_for_a_seal() -> None:
    data = {"id": "case-1", "accountId": "ACC-1", "version": 2, "type": "onboarding"}
    payload = {"id": "evt_support_1", "type": "case.resolved", "data": {**data, "dealId": "D-1"}}
    answers = {"oms.seenEvent": [{"seen": False}], "crm.recordStatus": [DEFAULT]}
    plan = Plan({**answers, "oms.markEvent": [DEFAULT]}, strict=True)
    outcome = run(plan, receiver("support")(Message("support.webhook", "case-1", payload)))
    assert outcome == "applied"
    assert plan.operations() == ["oms.seenEvent", "crm.recordStatus", "oms.markEvent"]
    assert [e.topic for e in plan.published] == ["onboarding.completed"]


def test_a_remembered_consumer_handles_each_event_once() -> None:
    handled: list[str] = []

    def handler(message: Message) -> Workflow:
        handled.append(message.id)
        return "applied"
        yield  # a workflow

    consumer = remembered(client(), "fulfilment", handler)
    message = Message("order.accepted", "D-1", {}, 1, "order.accepted#7")
    fresh = Plan({"oms.seenEvent": [{"seen": False}], "oms.markEvent": [DEFAULT]}, strict=True)
    assert run(fresh, consumer(message)) == "applied"
    assert fresh.operations() == ["oms.seenEvent", "oms.markEvent"]
    assert fresh.calls[0].params == {"source": "fulfilment", "eventId": "order.accepted#7"}
    again = Plan({"oms.seenEvent": [{"seen": True}]})
    assert run(again, consumer(message)) == "duplicate"
    assert handled == ["order.accepted#7"]
