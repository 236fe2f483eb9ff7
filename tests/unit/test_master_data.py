"""The master-data consumer, driven by a scripted plan: who copies what from whom."""

from __future__ import annotations

from typing import Any

from orchestrator.client import Client
from orchestrator.errors import Conflict
from orchestrator.events import Message
from orchestrator.master_data import CUSTOMER_CHANGED, MasterData
from orchestrator.resilience import Policy, RetryPolicy
from tests.support import Plan

OWNERS = {"name": "crm", "email": "crm", "billing_address": "billing", "product": "erp"}
FAST = RetryPolicy(max_attempts=2, base=0.1, jitter="none")


def handle(change: dict[str, Any], owners: dict[str, str] = OWNERS, **answers: Any) -> Plan:
    plan = Plan({name.replace("__", "."): a for name, a in answers.items()})
    consumer = MasterData(Client(Policy(retry=FAST, breaker=None)), owners)
    plan.run(consumer.handle(Message(CUSTOMER_CHANGED, "ACC-1", change, id="e1")))
    return plan


def edited(system: str, value: str, version: int) -> dict[str, Any]:
    """A name edited at ``system``, as its change feed announces it."""
    return {
        "kind": "changed",
        "system": system,
        "field": "name",
        "value": value,
        "version": version,
        "externalId": "ACC-1",
    }


def test_an_owners_change_is_copied_to_the_others_by_its_version() -> None:
    change = edited("crm", "Acme", 3)
    plan = handle(change)
    assert plan.operations() == ["erp.setCustomerField", "billing.setCustomerField"]
    params = plan.calls[0].params
    assert params["source"] == "crm" and params["sourceVersion"] == 3 and params["ifNewer"]
    assert plan.calls[0].key is None  # the version makes it idempotent


def test_a_stray_edit_gets_the_owners_value_back() -> None:
    change = edited("erp", "Typo Ltd", 2)
    owner = {"externalId": "ACC-1", "field": "name", "value": "Acme", "version": 5}
    plan = handle(change, crm__getCustomerField=[owner])
    assert plan.operations() == ["crm.getCustomerField", "erp.setCustomerField"]
    restore = plan.calls[1].params
    assert restore["value"] == "Acme" and restore["source"] == "crm" and restore["restore"]


def test_without_ownership_every_change_wins_everywhere() -> None:
    change = edited("erp", "Typo Ltd", 2)
    plan = handle(change, owners={})
    assert plan.operations() == ["crm.setCustomerField", "billing.setCustomerField"]
    assert all(c.params["ifNewer"] is False for c in plan.calls)


def test_a_sku_retired_at_its_owner_leaves_every_catalogue() -> None:
    change = {"kind": "retired", "system": "erp", "sku": "PRO-SEAT", "externalId": "PRO-SEAT"}
    assert handle(change).operations() == ["crm.retireProduct", "billing.retireProduct"]
    stray = {**change, "system": "crm"}
    assert handle(stray).operations() == []  # not the catalogue's owner


def test_a_merge_reaches_the_erp_and_billing() -> None:
    change = {"kind": "merged", "system": "crm", "externalId": "ACC-2", "survivor": "ACC-1"}
    plan = handle(change)
    assert plan.operations() == ["erp.mergeCustomers", "billing.mergeCustomers"]
    assert plan.calls[0].params == {"survivor": "ACC-1", "merged": "ACC-2"}


def repriced(system: str, price: float, version: int) -> dict[str, Any]:
    """PRO-SEAT's EUR price changed at ``system``, as its change feed announces it."""
    return {
        "kind": "repriced",
        "system": system,
        "sku": "PRO-SEAT",
        "currency": "EUR",
        "unitPrice": price,
        "version": version,
        "externalId": "PRO-SEAT:EUR",
    }


PRICED = {**OWNERS, "price": "billing"}


def test_a_price_changed_at_its_owner_reaches_the_other_price_lists() -> None:
    plan = handle(repriced("billing", 52.0, 2), PRICED)
    assert plan.operations() == ["crm.setPrice", "erp.setPrice"]
    params = plan.calls[0].params
    assert params["unitPrice"] == 52.0 and params["source"] == "billing"
    assert params["sourceVersion"] == 2 and params["ifNewer"] and plan.calls[0].key is None


def test_a_stray_price_gets_the_owners_price_back() -> None:
    owner = {"sku": "PRO-SEAT", "currency": "EUR", "unitPrice": 49.0, "version": 3}
    plan = handle(repriced("crm", 39.0, 2), PRICED, billing__getPrice=[owner])
    assert plan.operations() == ["billing.getPrice", "crm.setPrice"]
    restore = plan.calls[1].params
    assert restore["unitPrice"] == 49.0 and restore["source"] == "billing" and restore["restore"]


def test_without_ownership_a_stray_price_is_copied_everywhere() -> None:
    plan = handle(repriced("crm", 39.0, 2), {})
    assert plan.operations() == ["erp.setPrice", "billing.setPrice"]
    assert all(c.params["ifNewer"] is False for c in plan.calls)


def test_an_owner_born_later_keeps_an_edit_made_while_it_was_filled() -> None:
    # Billing owns the billing address and was just created from a first order; while
    # the CRM's value is on its way, finance edits the address in billing.
    crm = [
        {"externalId": "ACC-1", "field": field, "value": "CRM's", "version": 1}
        for field in ("name", "email", "billing_address")
    ]
    edited_meanwhile = Conflict("billing", "setCustomerField", 409, "STALE_VERSION")
    plan = handle(
        {"kind": "created", "system": "billing", "externalId": "ACC-1"},
        crm__getCustomerField=crm,
        billing__setCustomerField=[{}, {}, edited_meanwhile],
    )
    writes = [c for c in plan.calls if c.operation == "setCustomerField"]
    owner_fill = [c for c in writes if c.params["field"] == "billing_address"]
    assert [c.system for c in owner_fill] == ["billing"]  # not spread on to the ERP
    assert owner_fill[0].params["ifUnedited"] is True
    assert all("ifUnedited" not in c.params for c in writes if c.system != "billing")
