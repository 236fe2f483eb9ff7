"""Price lists: each system keeps one, one system owns it, and a first invoice priced
apart in billing and the ERP is a data-quality exception put down to the price lists."""

from __future__ import annotations

import pytest

from sim.systems import Billing, Ledger, VendorError
from sim.world import World
from tests.support import quiet_scenario


def listed() -> Billing:
    billing = Billing(ledger=Ledger())
    billing.prices = {("PRO-SEAT", "EUR"): 49.0}
    return billing


def test_a_price_is_taken_from_the_owner_only_when_newer() -> None:
    billing = listed()
    assert billing.getPrice({"sku": "PRO-SEAT", "currency": "EUR"}, 0.0)["version"] == 1
    change = {"sku": "PRO-SEAT", "currency": "EUR", "unitPrice": 52.0, "source": "crm"}
    billing.setPrice({**change, "sourceVersion": 3}, 1.0)
    with pytest.raises(VendorError) as stale:
        billing.setPrice({**change, "unitPrice": 50.0, "sourceVersion": 2}, 2.0)
    assert stale.value.code == "STALE_VERSION" and billing.prices[("PRO-SEAT", "EUR")] == 52.0
    with pytest.raises(VendorError) as unknown:
        billing.getPrice({"sku": "PRO-SEAT", "currency": "JPY"}, 0.0)
    assert unknown.value.status == 404


def test_a_local_price_edit_is_announced_and_the_owners_restore_is_counted() -> None:
    billing = listed()
    announced: list[dict[str, object]] = []
    billing.feed = lambda change, now: announced.append(change)
    billing.reprice("PRO-SEAT", "EUR", 39.0, 5.0)
    assert announced == [
        {
            "kind": "repriced",
            "externalId": "PRO-SEAT:EUR",
            "sku": "PRO-SEAT",
            "currency": "EUR",
            "unitPrice": 39.0,
            "version": 2,
            "system": "billing",
        }
    ]
    owner = {"sku": "PRO-SEAT", "currency": "EUR", "unitPrice": 49.0, "source": "erp"}
    billing.setPrice({**owner, "sourceVersion": 1, "restore": True}, 6.0)
    assert billing.prices[("PRO-SEAT", "EUR")] == 49.0 and billing.restored_prices == 1


def test_billing_charges_its_price_list_whatever_the_quote_said() -> None:
    billing = listed()
    params = {
        "customer": {"externalId": "ACC-1", "name": "A", "email": "a@x", "erpCustomerId": "C"},
        "plan": "pro",
        "sku": "PRO-SEAT",
        "quantity": 10,
        "unitPrice": 45.0,
        "currency": "EUR",
        "amount": 450.0,
        "salesOrderId": "SO-1",
        "dealId": "D-1",
    }
    _, sub = billing("createSubscription", params, "k", 0.0)
    assert billing.invoices_of[sub["id"]][0].amount == 490.0
    assert billing.subscriptions[sub["id"]].unit_price == 49.0


def test_an_owner_keeps_its_own_edit_over_a_late_fill() -> None:
    billing = listed()
    params = {
        "customer": {"externalId": "ACC-1", "name": "A", "email": "a@x", "erpCustomerId": "C"},
        "plan": "pro",
        "quantity": 1,
        "currency": "EUR",
        "salesOrderId": "SO-1",
    }
    billing("createSubscription", params, "k", 0.0)
    billing.edit("ACC-1", "billing_address", "1 New Street", 1.0)
    fill = {"externalId": "ACC-1", "field": "billing_address", "value": "Old", "source": "crm"}
    with pytest.raises(VendorError) as kept:
        billing.setCustomerField({**fill, "sourceVersion": 1, "ifUnedited": True}, 2.0)
    assert kept.value.code == "STALE_VERSION"
    assert billing.by_external_id["ACC-1"].billing_address == "1 New Street"


def priced_world(feed_latency: str) -> World:
    """Prices change at billing every few minutes; the change feed takes
    ``feed_latency`` to reach the CRM's price list, from which sales quotes."""
    quiet = quiet_scenario()
    scenario = quiet_scenario(
        horizon="3h",
        workload={
            **quiet.workload.model_dump(),
            "arrivals_per_hour": 120,
            "currencies": ["EUR"],
            "master_data": {"price_changes_per_month": 8000},
        },
        broker={
            **quiet.broker.model_dump(),
            "topics": {"customer.changed": {"latency": {"fixed": feed_latency}}},
        },
    )
    world = World(scenario, 3)
    world.run()
    world.drain()
    return world


def test_a_quote_at_a_price_the_owner_changed_is_a_mismatch_put_down_to_prices() -> None:
    late = priced_world("20m").result()["metrics"]
    assert late["master_data"]["price_changes"] > 10
    assert late["audit"]["price_mismatch"] > 0
    drift = late["revenue_leakage"]["by_cause"]
    assert drift.get("price mismatch", 0) > 0 and "unexplained" not in drift
    prompt = priced_world("100ms").result()["metrics"]
    assert prompt["audit"]["price_mismatch"] < late["audit"]["price_mismatch"] / 4
