"""Quote-to-cash as a saga, wired as a synchronous chain and as the hybrid pattern.

Driven by a scripted plan: no SimPy, no vendor models; the assertions read the
sequence of calls and events the workflow produced.
"""

from __future__ import annotations

import pytest

from orchestrator.client import Client
from orchestrator.deal import Deal, Line
from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Conflict, Rejected, TimeoutUnknown, Unavailable
from orchestrator.events import ORDER_ACCEPTED, Message
from orchestrator.patterns import UnknownPattern, make
from orchestrator.patterns.hybrid import Hybrid
from orchestrator.resilience import Policy, RetryPolicy
from orchestrator.saga import Escalated, Saga
from orchestrator.workflows.quote_to_cash import cancel_order
from orchestrator.workflows.quote_to_cash import cancel_subscription as cancel_sub
from tests.support import DEFAULT, Plan

DEAL = Deal("D-7", "ACC-1", "USD", "pro", (Line("PRO-SEAT", 5, 49.0),))
FAST = RetryPolicy(max_attempts=3, base=0.1, jitter="none")
FORWARD = [
    "crm.getAccount",
    "erp.upsertCustomer",
    "erp.createSalesOrder",
    "billing.createSubscription",
    "provisioning.createEntitlement",
    "support.createCase",
    "erp.createInvoice",
    "crm.updateAccount",
]


def client(**policy: object) -> Client:
    options: dict[str, object] = {"retry": FAST, "compensation_retry": FAST, "breaker": None}
    options.update(policy)
    return Client(Policy(**options))  # type: ignore[arg-type]


def topics(plan: Plan) -> list[str]:
    return [event.topic for event in plan.published]


def scripted(operations: list[str]) -> Plan:
    """A strict plan expecting each of ``operations`` once, answered generically."""
    return Plan({operation: [DEFAULT] for operation in operations}, strict=True)


def test_sync_chain_commits_every_step_then_announces() -> None:
    plan = scripted(FORWARD)
    plan.run(make("sync_chain", client()).close(DEAL))
    assert plan.operations() == FORWARD and plan.leftover() == {}
    assert topics(plan) == ["order.accepted", "order.live"]
    keys = {c.operation: c.key for c in plan.calls}
    assert keys["createSalesOrder"] == "q2c:D-7:order" and keys["getAccount"] is None
    # keys are the workflow's; every call still names the deal it serves
    assert {(c.workflow, c.correlation) for c in plan.calls} == {("q2c:D-7", "D-7")}
    order = next(c for c in plan.calls if c.operation == "createSalesOrder")
    assert order.params["lines"] == [{"sku": "PRO-SEAT", "quantity": 5, "unitPrice": 49.0}]


@pytest.mark.parametrize(
    ("failing", "undo"),
    [
        ("billing.createSubscription", ["erp.cancelSalesOrder"]),
        (
            "support.createCase",
            [
                "provisioning.revokeEntitlement",
                "billing.cancelSubscription",
                "erp.cancelSalesOrder",
            ],
        ),
        (
            "erp.createInvoice",
            [
                "support.closeCase",
                "provisioning.revokeEntitlement",
                "billing.cancelSubscription",
                "erp.cancelSalesOrder",
            ],
        ),
    ],
)
def test_a_rejection_compensates_the_committed_prefix_in_reverse(
    failing: str, undo: list[str]
) -> None:
    plan = Plan({failing: [Rejected(*failing.split("."), 422)]})
    plan.run(make("sync_chain", client()).close(DEAL))
    done = plan.operations()
    assert done[done.index(failing) + 1 :] == undo
    assert all(c.key and c.key.endswith(":undo") for c in plan.calls[done.index(failing) + 1 :])
    assert topics(plan) == ["order.compensated"]


def test_an_exhausted_retry_budget_compensates_too() -> None:
    plan = Plan({"provisioning.createEntitlement": [Unavailable("provisioning", "x", 503)]})
    plan.run(make("sync_chain", client()).close(DEAL))
    assert plan.operations().count("provisioning.createEntitlement") == FAST.max_attempts
    assert plan.operations()[-2:] == ["billing.cancelSubscription", "erp.cancelSalesOrder"]
    assert topics(plan) == ["order.compensated"]


def test_an_unknown_outcome_is_learnt_by_replaying_the_create_and_then_undone() -> None:
    lost = TimeoutUnknown("billing", "createSubscription")
    down = Unavailable("billing", "createSubscription", 503)
    plan = Plan({"billing.createSubscription": [lost, down, down, {"id": "sub-9"}]})
    plan.run(make("sync_chain", client()).close(DEAL))
    tail = [(c.operation, c.key, dict(c.params).get("id")) for c in plan.calls[-3:]]
    assert tail == [
        ("createSubscription", "q2c:D-7:subscription", None),  # same key: learn the outcome
        ("cancelSubscription", "q2c:D-7:subscription:undo", "sub-9"),
        ("cancelSalesOrder", "q2c:D-7:order:undo", "createSalesOrder-1"),
    ]
    assert topics(plan) == ["order.compensated"]


def test_rejection_before_any_commit_is_a_business_no_and_an_outage_a_failure() -> None:
    credit = Plan({"erp.createSalesOrder": [Rejected("erp", "createSalesOrder", 422)]})
    credit.run(make("sync_chain", client()).close(DEAL))
    assert topics(credit) == ["order.rejected"]
    crm_down = Plan({"crm.getAccount": [Unavailable("crm", "getAccount", 503)]})
    crm_down.run(make("hybrid", client()).close(DEAL))
    assert topics(crm_down) == ["order.failed"]
    assert "erp.cancelSalesOrder" not in credit.operations() + crm_down.operations()


def test_inactive_account_is_rejected_without_touching_the_erp() -> None:
    plan = Plan({"crm.getAccount": [{"id": "ACC-1", "status": "inactive"}]}, strict=True)
    plan.run(make("sync_chain", client()).close(DEAL))
    assert plan.operations() == ["crm.getAccount"]
    assert topics(plan) == ["order.rejected"]


def test_compensation_switched_off_abandons_partial_state() -> None:
    plan = Plan({"support.createCase": [Rejected("support", "createCase", 422)]})
    plan.run(make("sync_chain", client(compensation=False)).close(DEAL))
    assert not any(
        op.endswith(("cancelSalesOrder", "revokeEntitlement")) for op in plan.operations()
    )
    assert topics(plan) == ["order.abandoned"]


def test_an_undo_that_keeps_failing_escalates() -> None:
    plan = Plan(
        {
            "billing.createSubscription": [Rejected("billing", "x", 402)],
            "erp.cancelSalesOrder": [Unavailable("erp", "cancelSalesOrder", 503)],
        }
    )
    plan.run(make("sync_chain", client()).close(DEAL))
    assert plan.operations().count("erp.cancelSalesOrder") == FAST.max_attempts
    assert topics(plan) == ["order.escalated"]
    assert "cancelSalesOrder" in plan.published[0].payload["reason"]


def test_a_vendor_that_refuses_an_undo_escalates_at_once_naming_what_is_left() -> None:
    lost = TimeoutUnknown("billing", "createSubscription")
    refused = Conflict("billing", "cancelSubscription", 409, "ALREADY_INVOICED")
    plan = Plan(
        {
            "billing.createSubscription": [lost] * FAST.max_attempts + [{"id": "sub-9"}],
            "billing.cancelSubscription": [refused],
        }
    )
    saga = Saga("D-7", client())

    def story() -> Workflow:
        yield from saga.step("order", "erp", "createSalesOrder", {}, cancel_order)
        try:
            yield from saga.step("subscription", "billing", "createSubscription", {}, cancel_sub)
        except CallError:
            yield from saga.compensate()

    with pytest.raises(Escalated) as escalated:
        plan.run(story())
    assert plan.operations().count("billing.cancelSubscription") == 1  # a 409 is not retried
    pending = escalated.value.pending
    assert [undo.step for undo in pending] == ["subscription", "order"]
    # The replay of the lost create told the saga which subscription to undo.
    assert pending[0].call() == ("billing", "cancelSubscription", {"id": "sub-9"})
    assert pending[1].call() == ("erp", "cancelSalesOrder", {"id": "createSalesOrder-1"})


def test_a_failed_cross_reference_write_back_keeps_the_order_live() -> None:
    plan = Plan({"crm.updateAccount": [Rejected("crm", "updateAccount", 422)]})
    plan.run(make("sync_chain", client()).close(DEAL))
    assert topics(plan) == ["account.xref_stale", "order.accepted", "order.live"]
    assert "erp.cancelSalesOrder" not in plan.operations()


def test_hybrid_commits_synchronously_and_fulfils_on_the_event() -> None:
    hybrid = make("hybrid", client())
    plan = scripted(FORWARD[:3])
    plan.run(hybrid.close(DEAL))
    assert plan.operations() == FORWARD[:3] and plan.leftover() == {}
    (accepted,) = plan.published
    assert accepted.topic == ORDER_ACCEPTED and accepted.key == "D-7"
    handler = next(s.handler for s in hybrid.subscriptions() if s.topic == ORDER_ACCEPTED)
    fulfil = scripted(FORWARD[3:])
    fulfil.run(handler(Message(accepted.topic, accepted.key, accepted.payload)))
    assert fulfil.operations() == FORWARD[3:] and fulfil.leftover() == {}
    assert topics(fulfil) == ["order.live"]


def test_hybrid_hands_transient_failures_back_to_the_broker_and_compensates_rejections() -> None:
    hybrid = Hybrid(client())
    accepted = Plan()
    accepted.run(hybrid.close(DEAL))
    message = Message(ORDER_ACCEPTED, "D-7", accepted.published[0].payload)
    down = Plan({"provisioning.createEntitlement": [Unavailable("provisioning", "x", 503)]})
    with pytest.raises(Unavailable):
        down.run(hybrid.fulfil(message))
    assert "erp.cancelSalesOrder" not in down.operations()  # wait for redelivery instead
    refused = Plan({"provisioning.createEntitlement": [Rejected("provisioning", "x", 422)]})
    refused.run(hybrid.fulfil(message))
    assert refused.operations()[-2:] == ["billing.cancelSubscription", "erp.cancelSalesOrder"]
    order_id = message.payload["orderId"]
    assert refused.calls[-1].params == {"id": order_id}  # the order the event names
    assert refused.calls[-1].key == "q2c:D-7:order:undo"
    assert topics(refused) == ["order.compensated"]


def test_unknown_pattern_names_the_known_ones() -> None:
    with pytest.raises(UnknownPattern, match="expected one of: sync_chain, hybrid"):
        make("event_sourcing", client())


def test_a_rejection_after_a_lost_attempt_that_never_committed_is_a_rejection() -> None:
    lost = TimeoutUnknown("erp", "createSalesOrder")
    hold = Rejected("erp", "createSalesOrder", 422, "CREDIT_HOLD")
    plan = Plan({"erp.createSalesOrder": [lost, hold]})
    plan.run(make("sync_chain", client()).close(DEAL))
    # the saga replays the create to learn its outcome: still a "no", nothing to undo
    assert plan.operations()[-1] == "erp.createSalesOrder"
    assert "erp.cancelSalesOrder" not in plan.operations()
    assert topics(plan) == ["order.rejected"]
