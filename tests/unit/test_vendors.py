"""The vendor models through their callable face: ``vendor(operation, params, key, now)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.systems import Billing, Crm, Erp, Ledger, Provisioning, Support, Vendor
from sim.systems.crm import Account
from sim.vendors import REGISTRY
from tests.support import customer_params, erp_with_customer

DAY = 86400.0


def _account(account_id: str = "ACC-000001", status: str = "active") -> Account:
    return Account(account_id, "Acme", "billing@acme.example.com", "USD", status)


def _order_params(customer_id: str, deal: str = "D-000001", quantity: int = 3) -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "externalId": deal,
        "currency": "USD",
        "lines": [
            {"sku": "PRO-SEAT", "quantity": quantity, "unitPrice": 49.0},
            {"sku": "SETUP", "quantity": 1, "unitPrice": 10.5},
        ],
    }


def _sub_params(external_id: str = "ACC-000001", order: str = "SO-000001") -> dict[str, Any]:
    return {
        "customer": {
            "externalId": external_id,
            "name": "Acme",
            "email": "billing@acme.example.com",
            "erpCustomerId": "CUS-000001",
        },
        "plan": "pro",
        "quantity": 5,
        "currency": "USD",
        "salesOrderId": order,
    }


def _ent_params(sub: str = "sub-000001", seats: int = 5) -> dict[str, Any]:
    return {"accountId": "ACC-000001", "subscriptionId": sub, "plan": "pro", "seats": seats}


def _case_params(order: str = "SO-000001") -> dict[str, Any]:
    return {
        "accountId": "ACC-000001",
        "type": "onboarding",
        "subject": "Welcome",
        "salesOrderId": order,
    }


def _erp_with_customer(**kwargs: Any) -> tuple[Erp, str]:
    return erp_with_customer(**kwargs), "CUS-000001"


class Dice:
    """A scripted ``refuse``: answers from a list, then False forever."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.answers.pop(0) if self.answers else False


# --- CRM -------------------------------------------------------------------------


def test_crm_reads_a_seeded_account() -> None:
    crm = Crm()
    crm.add(_account())
    status, body = crm("getAccount", {"id": "ACC-000001"}, None, 0.0)
    assert status == 200
    assert body["id"] == "ACC-000001"
    assert body["status"] == "active"
    assert body["erpCustomerId"] is None


def test_crm_update_writes_the_cross_reference_back() -> None:
    crm = Crm()
    crm.add(_account())
    status, body = crm(
        "updateAccount", {"id": "ACC-000001", "erpCustomerId": "CUS-000009"}, "k1", 1.0
    )
    assert status == 200
    assert body["erpCustomerId"] == "CUS-000009"
    assert body["billingCustomerId"] is None
    crm("updateAccount", {"id": "ACC-000001", "billingCustomerId": "cus-000002"}, "k2", 2.0)
    _, after = crm("getAccount", {"id": "ACC-000001"}, None, 3.0)
    assert after["erpCustomerId"] == "CUS-000009"
    assert after["billingCustomerId"] == "cus-000002"


def test_crm_unknown_account_is_404() -> None:
    status, body = Crm()("getAccount", {"id": "ACC-404"}, None, 0.0)
    assert status == 404
    assert body["code"] == "NOT_FOUND"


# --- ERP -------------------------------------------------------------------------


def test_erp_upsert_customer_is_naturally_idempotent() -> None:
    erp = Erp()
    _, first = erp("upsertCustomer", customer_params(), None, 0.0)
    _, again = erp("upsertCustomer", customer_params(), None, 5.0)
    _, other = erp("upsertCustomer", customer_params("ACC-000002"), None, 6.0)
    assert first["id"] == again["id"] == "CUS-000001"
    assert other["id"] == "CUS-000002"
    assert len(erp.customers) == 2
    status, read = erp("getCustomer", {"id": "CUS-000001"}, None, 7.0)
    assert status == 200
    assert read == first


def test_erp_create_read_cancel_sales_order() -> None:
    erp, customer = _erp_with_customer()
    status, order = erp("createSalesOrder", _order_params(customer), "D-1:order", 1.0)
    assert status == 201
    assert order["id"] == "SO-000001"
    assert order["status"] == "pendingFulfillment"
    assert order["total"] == pytest.approx(3 * 49.0 + 10.5)
    assert order["externalId"] == "D-000001"
    status, read = erp("getSalesOrder", {"id": order["id"]}, None, 2.0)
    assert status == 200
    assert read == order
    status, cancelled = erp("cancelSalesOrder", {"id": order["id"]}, "D-1:order:undo", 3.0)
    assert status == 200
    assert cancelled["status"] == "cancelled"
    assert erp.orders[order["id"]].status == "cancelled"


def test_erp_cancel_is_idempotent_even_without_a_key() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 1.0)
    erp("cancelSalesOrder", {"id": order["id"]}, None, 2.0)
    seq = erp.orders[order["id"]].cancelled_seq
    status, again = erp("cancelSalesOrder", {"id": order["id"]}, None, 3.0)
    assert status == 200
    assert again["status"] == "cancelled"
    assert seq > 0
    assert erp.orders[order["id"]].cancelled_seq == seq  # the second cancel changed nothing


def test_erp_cancel_unknown_order_is_404() -> None:
    erp, _ = _erp_with_customer()
    status, body = erp("cancelSalesOrder", {"id": "SO-999999"}, None, 0.0)
    assert status == 404
    assert body["code"] == "NOT_FOUND"


def test_erp_credit_check_refusal_is_422_credit_hold_and_creates_nothing() -> None:
    dice = Dice(True)
    erp, customer = _erp_with_customer(refuse=dice)
    status, body = erp("createSalesOrder", _order_params(customer), None, 1.0)
    assert status == 422
    assert body["code"] == "CREDIT_HOLD"
    assert erp.orders == {}
    assert dice.asked == 1
    status, order = erp("createSalesOrder", _order_params(customer), None, 2.0)
    assert status == 201
    assert order["id"] == "SO-000001"  # the refusal did not consume an id


def test_erp_order_for_unknown_customer_is_422_without_asking_credit() -> None:
    dice = Dice(True)
    erp = Erp(refuse=dice)
    status, body = erp("createSalesOrder", _order_params("CUS-404"), None, 0.0)
    assert status == 422
    assert body["code"] == "INVALID_CUSTOMER"
    assert dice.asked == 0


def test_erp_invoice_bills_the_order() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 1.0)
    params = {"salesOrderId": order["id"], "amount": order["total"], "currency": "USD"}
    status, invoice = erp("createInvoice", params, "D-1:invoice", 2.0)
    assert status == 201
    assert invoice["id"] == "INV-000001"
    assert invoice["salesOrderId"] == order["id"]
    assert erp.orders[order["id"]].status == "billed"


def test_erp_invoice_on_cancelled_order_is_422() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 1.0)
    erp("cancelSalesOrder", {"id": order["id"]}, None, 2.0)
    params = {"salesOrderId": order["id"], "amount": order["total"], "currency": "USD"}
    status, body = erp("createInvoice", params, "D-1:invoice", 3.0)
    assert status == 422
    assert body["code"] == "ORDER_CANCELLED"
    assert erp.invoices == {}
    assert erp.orders[order["id"]].status == "cancelled"


def test_erp_refuses_to_cancel_a_billed_order_until_its_invoice_is_voided() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 1.0)
    params = {"salesOrderId": order["id"], "amount": order["total"], "currency": "USD"}
    _, invoice = erp("createInvoice", params, "D-1:invoice", 2.0)
    status, body = erp("cancelSalesOrder", {"id": order["id"]}, "D-1:order:undo", 3.0)
    assert (status, body["code"]) == (409, "ORDER_BILLED")
    assert erp.orders[order["id"]].status == "billed"
    erp("voidInvoice", {"id": invoice["id"]}, "D-1:invoice:undo", 4.0)
    # The refusal is stored under its key (Stripe semantics): that key answers 409 for
    # its whole TTL, so a person retrying by hand needs a fresh key.
    status, body = erp("cancelSalesOrder", {"id": order["id"]}, "D-1:order:undo", 5.0)
    assert (status, body["code"]) == (409, "ORDER_BILLED")
    status, cancelled = erp("cancelSalesOrder", {"id": order["id"]}, "D-1:order:undo:2", 6.0)
    assert (status, cancelled["status"]) == (200, "cancelled")


def test_erp_order_stays_billed_while_any_invoice_on_it_is_live() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 1.0)
    params = {"salesOrderId": order["id"], "amount": order["total"], "currency": "USD"}
    _, first = erp("createInvoice", params, None, 2.0)
    _, second = erp("createInvoice", params, None, 2.5)  # a duplicate, as with keys off
    erp("voidInvoice", {"id": first["id"]}, None, 3.0)
    erp("voidInvoice", {"id": first["id"]}, None, 3.5)  # voiding twice counts once
    assert erp.orders[order["id"]].status == "billed"
    status, _ = erp("cancelSalesOrder", {"id": order["id"]}, None, 4.0)
    assert status == 409
    erp("voidInvoice", {"id": second["id"]}, None, 5.0)
    assert erp.orders[order["id"]].status == "pendingFulfillment"


# --- billing ---------------------------------------------------------------------


def test_billing_subscription_creates_customer_inline_once() -> None:
    billing = Billing()
    status, sub = billing("createSubscription", _sub_params(), "D-1:sub", 0.0)
    assert status == 201
    assert sub["id"] == "sub-000001"
    assert sub["customerId"] == "cus-000001"
    assert sub["status"] == "active"
    _, second = billing("createSubscription", _sub_params(order="SO-000002"), "D-2:sub", 1.0)
    assert second["id"] == "sub-000002"
    assert second["customerId"] == "cus-000001"  # the same external id: same customer
    assert len(billing.customers) == 1
    _, third = billing("createSubscription", _sub_params("ACC-000002"), "D-3:sub", 2.0)
    assert third["customerId"] == "cus-000002"


def test_billing_read_and_cancel_is_idempotent() -> None:
    billing = Billing()
    _, sub = billing("createSubscription", _sub_params(), None, 0.0)
    status, read = billing("getSubscription", {"id": sub["id"]}, None, 1.0)
    assert (status, read) == (200, sub)
    _, cancelled = billing("cancelSubscription", {"id": sub["id"]}, None, 2.0)
    seq = billing.subscriptions[sub["id"]].cancelled_seq
    status, again = billing("cancelSubscription", {"id": sub["id"]}, None, 3.0)
    assert cancelled["status"] == again["status"] == "cancelled"
    assert status == 200
    assert seq > 0
    assert billing.subscriptions[sub["id"]].cancelled_seq == seq


def test_billing_unknown_subscription_is_404() -> None:
    status, body = Billing()("getSubscription", {"id": "sub-404"}, None, 0.0)
    assert status == 404
    assert body["code"] == "resource_missing"


def test_billing_refusal_is_402_payment_method_required() -> None:
    billing = Billing(refuse=Dice(True))
    status, body = billing("createSubscription", _sub_params(), None, 0.0)
    assert status == 402
    assert body["code"] == "PAYMENT_METHOD_REQUIRED"
    assert billing.subscriptions == {}
    assert billing.customers == {}


# --- provisioning ----------------------------------------------------------------


def test_provisioning_grant_read_revoke() -> None:
    prov = Provisioning()
    status, ent = prov("createEntitlement", _ent_params(), "D-1:ent", 0.0)
    assert status == 201
    assert ent["id"] == "ENT-000001"
    assert ent["seats"] == 5
    assert ent["status"] == "active"
    assert prov("getEntitlement", {"id": ent["id"]}, None, 1.0) == (200, ent)
    _, revoked = prov("revokeEntitlement", {"id": ent["id"]}, None, 2.0)
    seq = prov.entitlements[ent["id"]].revoked_seq
    status, again = prov("revokeEntitlement", {"id": ent["id"]}, None, 3.0)
    assert revoked["status"] == again["status"] == "revoked"
    assert status == 200
    assert seq > 0
    assert prov.entitlements[ent["id"]].revoked_seq == seq


def test_provisioning_refusal_is_422_and_grants_nothing() -> None:
    prov = Provisioning(refuse=Dice(True))
    status, body = prov("createEntitlement", _ent_params(), None, 0.0)
    assert status == 422
    assert body["code"] == "PLAN_NOT_PROVISIONABLE"
    assert prov.entitlements == {}


def test_provisioning_revoke_unknown_is_404() -> None:
    status, body = Provisioning()("revokeEntitlement", {"id": "ENT-404"}, None, 0.0)
    assert status == 404
    assert body["code"] == "NOT_FOUND"


# --- support ---------------------------------------------------------------------


def test_support_case_resolution_time_is_drawn_when_it_opens() -> None:
    support = Support(onboarding=lambda: 3600.0)
    status, case = support("createCase", _case_params(), "D-1:case", 100.0)
    assert status == 201
    assert case["id"] == "CS-000001"
    assert case["status"] == "open"
    assert case["salesOrderId"] == "SO-000001"
    stored = support.cases[case["id"]]
    assert stored.opened_at == 100.0
    assert stored.resolve_at == 3700.0


def test_support_close_is_idempotent_and_keeps_the_first_resolution() -> None:
    support = Support()
    _, case = support("createCase", _case_params(), None, 0.0)
    _, closed = support("closeCase", {"id": case["id"], "resolution": "cancelled"}, None, 1.0)
    seq = support.cases[case["id"]].closed_seq
    status, again = support("closeCase", {"id": case["id"], "resolution": "done"}, None, 2.0)
    assert status == 200
    assert closed["status"] == again["status"] == "closed"
    assert again["resolution"] == "cancelled"
    assert support.cases[case["id"]].closed_seq == seq > 0
    assert support("getCase", {"id": case["id"]}, None, 3.0) == (200, again)


def test_support_unknown_case_is_404() -> None:
    status, body = Support()("getCase", {"id": "CS-404"}, None, 0.0)
    assert status == 404
    assert body["code"] == "NOT_FOUND"


# --- every vendor: unknown operations, idempotency keys, deterministic ids --------

# system -> (a fresh vendor, its create operation, params, params that differ)
Maker = Callable[[], tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]]


def _crm_case() -> tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]:
    crm = Crm()
    crm.add(_account())
    return (
        crm,
        "updateAccount",
        {"id": "ACC-000001", "erpCustomerId": "CUS-000001"},
        {"id": "ACC-000001", "erpCustomerId": "CUS-000002"},
        lambda v: 0,
    )


def _erp_case() -> tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]:
    erp, customer = _erp_with_customer()
    return (
        erp,
        "createSalesOrder",
        _order_params(customer),
        _order_params(customer, quantity=4),
        lambda v: len(v.orders),  # type: ignore[attr-defined]
    )


def _billing_case() -> tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]:
    return (
        Billing(),
        "createSubscription",
        _sub_params(),
        _sub_params(order="SO-000002"),
        lambda v: len(v.subscriptions),  # type: ignore[attr-defined]
    )


def _prov_case() -> tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]:
    return (
        Provisioning(),
        "createEntitlement",
        _ent_params(),
        _ent_params(seats=6),
        lambda v: len(v.entitlements),  # type: ignore[attr-defined]
    )


def _support_case() -> tuple[Vendor, str, dict[str, Any], dict[str, Any], Callable[[Vendor], int]]:
    return (
        Support(),
        "createCase",
        _case_params(),
        _case_params("SO-000002"),
        lambda v: len(v.cases),  # type: ignore[attr-defined]
    )


CREATORS: dict[str, Maker] = {
    "erp": _erp_case,
    "billing": _billing_case,
    "provisioning": _prov_case,
    "support": _support_case,
}
WRITERS: dict[str, Maker] = {"crm": _crm_case, **CREATORS}


VENDORS = {entry.name: entry.model for entry in REGISTRY if not entry.own}


def test_every_system_has_a_model() -> None:
    assert set(VENDORS) == {"crm", "erp", "billing", "provisioning", "support"}
    for name, cls in VENDORS.items():
        assert cls.name == name
        assert cls.reads
        assert cls.writes
        assert not set(cls.reads) & set(cls.writes)


@pytest.mark.parametrize("system", sorted(VENDORS))
def test_unknown_operation_is_404(system: str) -> None:
    vendor = VENDORS[system]()
    status, body = vendor("launchRocket", {"id": "x"}, None, 0.0)
    assert status == 404
    assert body["code"] == "UNKNOWN_OPERATION"
    assert "launchRocket" in body["message"]


@pytest.mark.parametrize("system", sorted(CREATORS))
def test_same_key_same_params_replays_the_stored_response(system: str) -> None:
    vendor, op, params, _, count = CREATORS[system]()
    first = vendor(op, params, "K-1", 10.0)
    assert first[0] == 201
    again = vendor(op, dict(params), "K-1", 500.0)
    assert again == first
    assert count(vendor) == 1
    assert vendor.replays == 1
    # no key: every call is a new record
    vendor(op, params, None, 600.0)
    vendor(op, params, None, 601.0)
    assert count(vendor) == 3


@pytest.mark.parametrize("system", sorted(WRITERS))
def test_same_key_other_params_is_409_and_changes_nothing(system: str) -> None:
    vendor, op, params, other, count = WRITERS[system]()
    first = vendor(op, params, "K-1", 10.0)
    before = count(vendor)
    status, body = vendor(op, other, "K-1", 11.0)
    assert status == 409
    assert body["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "K-1" in body["message"]
    assert vendor.key_conflicts == 1
    assert count(vendor) == before
    assert vendor.keys["K-1"][1] == first  # the stored response is untouched
    assert vendor(op, params, "K-1", 12.0) == first


@pytest.mark.parametrize("system", sorted(CREATORS))
def test_key_is_forgotten_after_its_ttl(system: str) -> None:
    vendor, op, params, other, count = CREATORS[system]()
    vendor.idempotency_ttl = 100.0
    first = vendor(op, params, "K-1", 0.0)
    assert vendor(op, params, "K-1", 99.9) == first  # still remembered
    status, fresh = vendor(op, params, "K-1", 100.0)
    assert status == 201
    assert fresh["id"] != first[1]["id"]
    assert count(vendor) == 2
    # the new record is what the key now replays, from its new store time
    assert vendor(op, params, "K-1", 150.0) == (status, fresh)
    # and a reused key after expiry with other params is a new request, not a conflict
    status, third = vendor(op, other, "K-1", 250.0)
    assert status == 201
    assert third["id"] not in {first[1]["id"], fresh["id"]}
    assert vendor.key_conflicts == 0
    assert count(vendor) == 3


def test_default_ttl_is_one_day() -> None:
    erp, customer = _erp_with_customer()
    assert erp.idempotency_ttl == DAY
    first = erp("createSalesOrder", _order_params(customer), "K", 0.0)
    assert erp("createSalesOrder", _order_params(customer), "K", DAY - 1) == first
    assert erp("createSalesOrder", _order_params(customer), "K", DAY)[1]["id"] == "SO-000002"


def test_stored_business_error_is_replayed_even_when_the_check_would_now_pass() -> None:
    dice = Dice(True)  # the credit check says no once, then yes forever
    erp, customer = _erp_with_customer(refuse=dice)
    first = erp("createSalesOrder", _order_params(customer), "D-1:order", 0.0)
    assert first[0] == 422
    assert first[1]["code"] == "CREDIT_HOLD"
    again = erp("createSalesOrder", _order_params(customer), "D-1:order", 60.0)
    assert again == first
    assert dice.asked == 1  # the replay did not run the check again
    assert erp.orders == {}
    assert erp.replays == 1
    # a new key runs the check again, which now passes
    status, order = erp("createSalesOrder", _order_params(customer), "D-1:order#2", 61.0)
    assert status == 201
    assert dice.asked == 2
    assert order["id"] == "SO-000001"


def test_stored_refusal_from_billing_is_replayed() -> None:
    dice = Dice(True)
    billing = Billing(refuse=dice)
    first = billing("createSubscription", _sub_params(), "D-1:sub", 0.0)
    assert first[0] == 402
    assert billing("createSubscription", _sub_params(), "D-1:sub", 1.0) == first
    assert billing.subscriptions == {}
    assert dice.asked == 1


@pytest.mark.parametrize("system", sorted(CREATORS))
def test_ids_are_deterministic(system: str) -> None:
    def run() -> list[str]:
        vendor, op, params, other, _ = CREATORS[system]()
        ids = []
        for n in range(3):
            ids.append(vendor(op, params if n % 2 == 0 else other, None, float(n))[1]["id"])
        return ids

    first, second = run(), run()
    assert first == second
    assert len(set(first)) == 3
    assert first == sorted(first)
    assert all(i.endswith(f"-{n:06d}") for n, i in enumerate(first, 1))


def test_id_counters_are_per_record_kind() -> None:
    erp, customer = _erp_with_customer()
    _, order = erp("createSalesOrder", _order_params(customer), None, 0.0)
    params = {"salesOrderId": order["id"], "amount": 1.0, "currency": "USD"}
    _, invoice = erp("createInvoice", params, None, 1.0)
    assert (customer, order["id"], invoice["id"]) == ("CUS-000001", "SO-000001", "INV-000001")


def test_a_shared_ledger_orders_effects_across_vendors() -> None:
    ledger = Ledger()
    erp, customer = _erp_with_customer(ledger=ledger)
    billing = Billing(ledger=ledger)
    prov = Provisioning(ledger=ledger)
    _, order = erp("createSalesOrder", _order_params(customer), None, 0.0)
    _, sub = billing("createSubscription", _sub_params(), None, 1.0)
    _, ent = prov("createEntitlement", _ent_params(sub["id"]), None, 2.0)
    erp("cancelSalesOrder", {"id": order["id"]}, None, 3.0)
    seqs = [
        erp.orders[order["id"]].created_seq,
        billing.subscriptions[sub["id"]].created_seq,
        prov.entitlements[ent["id"]].created_seq,
        erp.orders[order["id"]].cancelled_seq,
    ]
    assert seqs == [1, 2, 3, 4]
