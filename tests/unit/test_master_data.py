"""The master-data consumer, driven by a scripted plan: who copies what from whom."""

from __future__ import annotations

from typing import Any

from orchestrator.client import Client
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
