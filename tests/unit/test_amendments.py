"""Amendments, driven by a scripted plan (no SimPy), and the vendor operations they use."""

from __future__ import annotations

import pytest

from orchestrator.client import Client
from orchestrator.errors import Conflict, Rejected, Unavailable
from orchestrator.events import AMENDMENT, AMENDMENT_ACCEPTED, AMENDMENT_APPLIED, Message
from orchestrator.resilience import Policy, RetryPolicy
from orchestrator.workflows.amendment import (
    WAIT_STEP,
    Amendment,
    accept_amendment,
    amend,
    post_accepted,
)
from sim.systems.base import VendorError
from sim.systems.billing import Billing
from sim.systems.erp import Erp
from sim.systems.provisioning import Provisioning
from tests.support import DEFAULT, Plan

FAST = RetryPolicy(max_attempts=2, base=0.1, jitter="none")
SUB = {
    "id": "sub_1",
    "salesOrderId": "SO-1",
    "currency": "EUR",
    "quantity": 10,
    "plan": "pro",
    "status": "active",
    "version": 1,
}
CHANGED = {
    "amendmentId": "amend:D-1:2",
    "subscription": {**SUB, "quantity": 15, "version": 2},
    "adjustment": {"id": "in_2", "amount": 122.5},
}
SEATS = Amendment("D-1", 2, "seats", seats=15, wait=1800.0)


def client(**policy: object) -> Client:
    return Client(Policy(retry=FAST, compensation_retry=FAST, breaker=None, **policy))  # type: ignore[arg-type]


def plan(**answers: list[object]) -> Plan:
    base: dict[str, list[object]] = {
        "billing.findSubscription": [SUB],
        "billing.amendSubscription": [CHANGED],
    }
    return Plan({**base, **{name.replace("__", "."): a for name, a in answers.items()}})


def test_an_amendment_runs_as_its_own_saga_with_its_own_keys() -> None:
    steps = ["erp.createChangeOrder", "erp.createInvoice", "provisioning.setSeats"]
    answers = {"billing.findSubscription": [SUB], "billing.amendSubscription": [CHANGED]}
    answers.update({op: [DEFAULT] for op in [*steps, "crm.recordAmendment"]})
    p = Plan(answers, strict=True)
    p.run(amend(client(), SEATS))
    assert p.operations() == [
        "billing.findSubscription",
        "billing.amendSubscription",
        *steps,
        "crm.recordAmendment",
    ]
    assert p.leftover() == {}
    keys = {c.operation: c.key for c in p.calls}
    assert keys["amendSubscription"] == "amend:D-1:2:billing"
    assert keys["createChangeOrder"] == "amend:D-1:2:change"
    assert keys["findSubscription"] is None and keys["setSeats"] is None  # read, conditional
    assert {(c.workflow, c.correlation) for c in p.calls} == {("amend:D-1:2", "D-1")}
    seats = next(c for c in p.calls if c.operation == "setSeats").params
    assert seats == {
        "subscriptionId": "sub_1",
        "seats": 15,
        "plan": "pro",
        "sourceVersion": 2,
        "ifNewer": True,
    }
    [applied] = p.published
    assert applied.topic == AMENDMENT_APPLIED and applied.key == "D-1"
    assert applied.payload["workflow"] == "amend:D-1:2"


def test_a_downgrade_posts_a_credit_memo() -> None:
    credit = {**CHANGED, "adjustment": {"id": "in_2", "amount": -40.0}}
    p = plan(billing__amendSubscription=[credit])
    p.run(amend(client(), SEATS))
    memo = next(c for c in p.calls if c.operation == "createCreditMemo")
    assert memo.params["amount"] == -40.0 and memo.params["amendmentId"] == "amend:D-1:2"
    assert "erp.createInvoice" not in p.operations()


def test_the_erp_refusing_the_change_undoes_billing_and_resets_the_seats() -> None:
    refused = Rejected("erp", "createChangeOrder", 422, "ORDER_CANCELLED")
    p = plan(erp__createChangeOrder=[refused], billing__findSubscription=[SUB])
    p.run(amend(client(), SEATS))
    ops = p.operations()
    assert ops[ops.index("erp.createChangeOrder") + 1] == "billing.revertAmendment"
    revert = next(c for c in p.calls if c.operation == "revertAmendment")
    assert revert.params == {"id": "sub_1", "amendmentId": "amend:D-1:2"}
    assert ops[-3:] == ["billing.findSubscription", "provisioning.setSeats", "crm.recordAmendment"]
    [ending] = p.published
    assert ending.topic == AMENDMENT.compensated
    assert ending.payload["workflow"] == "amend:D-1:2"


def test_an_amendment_waits_for_a_subscription_still_being_fulfilled() -> None:
    missing = Rejected("billing", "findSubscription", 404, "resource_missing")
    p = plan(billing__findSubscription=[missing, missing, SUB])
    p.run(amend(client(), SEATS))
    assert p.slept[:2] == [WAIT_STEP, WAIT_STEP]
    assert p.published[0].topic == AMENDMENT_APPLIED


def test_an_amendment_of_an_order_that_never_went_live_is_rejected_after_its_wait() -> None:
    missing = Rejected("billing", "findSubscription", 404, "resource_missing")
    p = plan(billing__findSubscription=[missing])
    p.run(amend(client(), SEATS))
    assert p.slept == [WAIT_STEP] * int(SEATS.wait / WAIT_STEP)
    assert [e.topic for e in p.published] == [AMENDMENT.rejected]
    assert "billing.amendSubscription" not in p.operations()


def test_seats_a_newer_amendment_already_set_are_no_failure() -> None:
    stale = Conflict("provisioning", "setSeats", 409, "STALE_VERSION")
    p = plan(provisioning__setSeats=[stale])
    p.run(amend(client(), SEATS))
    assert p.published[0].topic == AMENDMENT_APPLIED
    assert "billing.revertAmendment" not in p.operations()


def test_without_ordering_the_seats_write_is_unconditional() -> None:
    p = plan()
    p.run(amend(client(ordering=False), SEATS))
    assert next(c for c in p.calls if c.operation == "setSeats").params["ifNewer"] is False


def test_the_event_way_commits_at_once_and_posts_the_books_from_the_event() -> None:
    p = plan()
    p.run(accept_amendment(client(), SEATS))
    assert not [op for op in p.operations() if op.startswith("erp.")]  # the ERP can be down
    [accepted] = p.published
    assert accepted.topic == AMENDMENT_ACCEPTED
    books = Plan()
    books.run(post_accepted(client(), Message(AMENDMENT_ACCEPTED, "D-1", accepted.payload)))
    assert books.operations()[:2] == ["erp.createChangeOrder", "erp.createInvoice"]
    assert books.calls[0].key == "amend:D-1:2:change"  # the same keys as the saga's
    assert books.published[0].topic == AMENDMENT_APPLIED


def test_the_erp_down_hands_the_posting_back_to_the_broker() -> None:
    p = plan()
    p.run(accept_amendment(client(), SEATS))
    down = Unavailable("erp", "createChangeOrder", 503)
    books = Plan({"erp.createChangeOrder": [down]})
    with pytest.raises(Unavailable):
        books.run(
            post_accepted(client(), Message(AMENDMENT_ACCEPTED, "D-1", p.published[0].payload))
        )
    assert "billing.revertAmendment" not in books.operations()  # the customer keeps it


# --- the vendors -------------------------------------------------------------------------

DAY = 86400.0
TERM = 30 * DAY


def subscribed(quantity: int = 10, price: float = 49.0) -> tuple[Billing, str]:
    billing = Billing(term=TERM)
    _, sub = billing.createSubscription(
        {
            "customer": {"externalId": "ACC-1", "name": "A", "email": "a@x", "erpCustomerId": "C"},
            "plan": "pro",
            "quantity": quantity,
            "unitPrice": price,
            "currency": "EUR",
            "amount": quantity * price,
            "salesOrderId": "SO-1",
            "dealId": "D-1",
        },
        0.0,
    )
    return billing, sub["id"]


def test_billing_prorates_a_seat_change_for_the_rest_of_the_term() -> None:
    billing, sub = subscribed()
    _, body = billing.amendSubscription(
        {"id": sub, "amendmentId": "amend:D-1:1", "kind": "seats", "quantity": 16}, 10 * DAY
    )
    assert body["adjustment"]["amount"] == round(6 * 49.0 * 20 / 30, 2)
    assert body["subscription"]["quantity"] == 16 and body["subscription"]["version"] == 2


def test_billing_credits_a_cancellation_and_bills_a_renewal_in_full() -> None:
    billing, sub = subscribed()
    _, renewed = billing.amendSubscription(
        {"id": sub, "amendmentId": "amend:D-1:1", "kind": "renewal"}, TERM
    )
    assert renewed["adjustment"]["amount"] == 490.0
    assert renewed["subscription"]["periodEnd"] == 2 * TERM
    _, cancelled = billing.amendSubscription(
        {"id": sub, "amendmentId": "amend:D-1:2", "kind": "cancel"}, 1.5 * TERM
    )
    assert cancelled["adjustment"]["amount"] == -245.0
    with pytest.raises(VendorError) as refused:
        billing.amendSubscription({"id": sub, "amendmentId": "amend:D-1:3", "kind": "renewal"}, 0)
    assert refused.value.code == "SUBSCRIPTION_CANCELLED"


def test_billing_reverts_an_amendment_once() -> None:
    billing, sub = subscribed()
    _, body = billing.amendSubscription(
        {"id": sub, "amendmentId": "amend:D-1:1", "kind": "seats", "quantity": 20}, 0.0
    )
    billing.revertAmendment({"id": sub, "amendmentId": "amend:D-1:1"}, 1.0)
    again = billing.revertAmendment({"id": sub, "amendmentId": "amend:D-1:1"}, 2.0)
    assert again["quantity"] == 10 and again["version"] == 3  # reverted once, not twice
    assert billing.invoices[body["adjustment"]["id"]].status == "void"
    [row] = billing.exportSubscriptions({}, 3.0)["subscriptions"]
    assert row["amendments"] == [] and row["billed"] == 490.0


def erp_with_order() -> tuple[Erp, str]:
    erp = Erp()
    customer = erp.upsertCustomer(
        {
            "externalId": "ACC-1",
            "companyName": "A",
            "email": "a@x",
            "currency": "EUR",
            "crmAccountId": "ACC-1",
        },
        0.0,
    )
    lines = [{"sku": "PRO", "quantity": 10, "unitPrice": 49.0}]
    _, order = erp.createSalesOrder(
        {"customerId": customer["id"], "externalId": "D-1", "currency": "EUR", "lines": lines}, 0.0
    )
    return erp, order["id"]


def test_the_erp_holds_one_change_order_per_amendment_whoever_posts_it() -> None:
    erp, order = erp_with_order()
    change = {"salesOrderId": order, "amendmentId": "amend:D-1:1", "amount": 5.0}
    status, first = erp.createChangeOrder(change, 0.0)
    again, second = erp.createChangeOrder(change, 1.0)
    assert (status, again) == (201, 200) and first["id"] == second["id"]
    listed = erp.addList(
        {
            "records": [
                {
                    "kind": "amendment",
                    "externalId": "amend:D-1:1",
                    "salesOrderId": order,
                    "amount": 5.0,
                    "currency": "EUR",
                }
            ]
        },
        2.0,
    )
    assert listed["results"][0]["ok"] and len(erp.change_orders) == 1
    [row] = erp.exportOrders({}, 3.0)["orders"]
    assert row["amendments"] == ["amend:D-1:1"]


def test_a_list_answers_each_record_and_adds_each_once() -> None:
    erp = Erp(refuse=iter([False, True, False]).__next__)
    record = {
        "kind": "order",
        "customer": {
            "externalId": "ACC-1",
            "companyName": "A",
            "email": "a@x",
            "currency": "EUR",
            "crmAccountId": "ACC-1",
        },
        "order": {
            "externalId": "",
            "currency": "EUR",
            "lines": [{"sku": "PRO", "quantity": 1, "unitPrice": 9.0}],
        },
    }
    records = [
        {**record, "externalId": deal, "order": {**record["order"], "externalId": deal}}
        for deal in ("D-1", "D-2")
    ]
    results = erp.addList({"records": records}, 0.0)["results"]
    assert [r["ok"] for r in results] == [True, False]
    assert results[1]["code"] == "CREDIT_HOLD"
    again = erp.addList({"records": records[:1]}, 1.0)["results"]
    assert again[0]["orderId"] == results[0]["orderId"] and len(erp.orders) == 1
    with pytest.raises(VendorError) as big:
        erp.addList({"records": records * 101}, 2.0)
    assert big.value.code == "BATCH_TOO_LARGE"


def test_provisioning_takes_seats_only_from_a_newer_billing_version() -> None:
    prov = Provisioning()
    prov.createEntitlement(
        {"accountId": "ACC-1", "subscriptionId": "sub_1", "plan": "pro", "seats": 10}, 0.0
    )
    prov.setSeats({"subscriptionId": "sub_1", "seats": 20, "sourceVersion": 3}, 1.0)
    with pytest.raises(VendorError) as stale:
        prov.setSeats({"subscriptionId": "sub_1", "seats": 15, "sourceVersion": 2}, 2.0)
    assert stale.value.code == "STALE_VERSION"
    assert prov.exportSeats({}, 3.0)["seats"] == {"sub_1": 20}
    prov.setSeats(
        {"subscriptionId": "sub_1", "seats": 15, "sourceVersion": 2, "ifNewer": False}, 4.0
    )
    assert prov.exportSeats({}, 5.0)["seats"] == {"sub_1": 15}  # last writer wins


def test_the_erp_refuses_an_order_for_a_retired_sku() -> None:
    erp, _ = erp_with_order()
    erp.retireProduct({"sku": "PRO"}, 1.0)
    customer = next(iter(erp.customers.values()))
    lines = [{"sku": "PRO", "quantity": 1, "unitPrice": 49.0}]
    with pytest.raises(VendorError) as refused:
        erp.createSalesOrder(
            {"customerId": customer.id, "externalId": "D-2", "currency": "EUR", "lines": lines}, 2.0
        )
    assert refused.value.code == "ITEM_INACTIVE" and erp.refused_retired == 1
