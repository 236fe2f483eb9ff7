"""Quote-to-cash: from a closed deal to a live, billed, provisioned customer.

The workflow is split where the patterns split it. ``commit`` is the commercial
commitment (validate the account, find or create the ERP customer, have the ERP
accept the sales order); ``fulfil`` is the rest (subscription, entitlement,
onboarding case, first invoice, cross-reference write-back). A synchronous chain
runs both in one breath; the hybrid pattern commits synchronously and fulfils when
the ``order.accepted`` event arrives.

Every write is a saga step: ``saga.did`` records its undo right after it commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.errors import Rejected
from orchestrator.saga import Saga

__all__ = ["Commitment", "commit", "commitment_payload", "fulfil", "restore"]


@dataclass(frozen=True, slots=True)
class Commitment:
    """What the commit phase established, carried to the fulfil phase.

    Attributes:
        deal: The deal.
        account: The CRM account record as read.
        customer_id: The ERP customer id.
        order_id: The ERP sales order id.
    """

    deal: Deal
    account: Mapping[str, Any]
    customer_id: str
    order_id: str


def commit(client: Client, deal: Deal, saga: Saga) -> Workflow:
    """Validate the account and get the sales order accepted by the ERP.

    Returns:
        The ``Commitment`` (via ``yield from``).

    Raises:
        Rejected: The account is not active, or the ERP's credit check said no.
        Retryable: A system stayed unavailable past the retry budget.
    """
    wf = deal.id
    account = yield from client.call(
        wf, "account", "crm", "getAccount", {"id": deal.account_id}, write=False
    )
    if account["status"] != "active":
        raise Rejected("crm", "getAccount", 422, "ACCOUNT_NOT_ACTIVE")
    customer = yield from client.call(
        wf,
        "customer",
        "erp",
        "upsertCustomer",
        {
            "externalId": account["id"],
            "companyName": account["name"],
            "email": account["email"],
            "currency": deal.currency,
            "crmAccountId": account["id"],
        },
    )
    order = yield from client.call(
        wf,
        "order",
        "erp",
        "createSalesOrder",
        {
            "customerId": customer["id"],
            "externalId": deal.id,
            "currency": deal.currency,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price}
                for line in deal.lines
            ],
        },
    )
    saga.did("order", "erp", "cancelSalesOrder", {"id": order["id"]})
    return Commitment(deal, account, customer["id"], order["id"])


def fulfil(client: Client, done: Commitment, saga: Saga) -> Workflow:
    """Bill, provision, open onboarding, post the first invoice, link the ids.

    Returns:
        The ERP invoice id (via ``yield from``).

    Raises:
        Rejected: A system refused a step; the caller compensates.
        Retryable: A system stayed unavailable past the retry budget.
    """
    deal, account = done.deal, done.account
    wf = deal.id
    sub = yield from client.call(
        wf,
        "subscription",
        "billing",
        "createSubscription",
        {
            "customer": {
                "externalId": account["id"],
                "name": account["name"],
                "email": account["email"],
                "erpCustomerId": done.customer_id,
            },
            "plan": deal.plan,
            "quantity": deal.seats,
            "currency": deal.currency,
            "salesOrderId": done.order_id,
        },
    )
    saga.did("subscription", "billing", "cancelSubscription", {"id": sub["id"]})
    ent = yield from client.call(
        wf,
        "entitlement",
        "provisioning",
        "createEntitlement",
        {
            "accountId": account["id"],
            "subscriptionId": sub["id"],
            "plan": deal.plan,
            "seats": deal.seats,
        },
    )
    saga.did("entitlement", "provisioning", "revokeEntitlement", {"id": ent["id"]})
    case = yield from client.call(
        wf,
        "onboarding",
        "support",
        "createCase",
        {
            "accountId": account["id"],
            "type": "onboarding",
            "subject": f"Onboard {account['name']} ({deal.plan})",
            "salesOrderId": done.order_id,
        },
    )
    saga.did("onboarding", "support", "closeCase", {"id": case["id"], "resolution": "cancelled"})
    invoice = yield from client.call(
        wf,
        "invoice",
        "erp",
        "createInvoice",
        {"salesOrderId": done.order_id, "amount": deal.total, "currency": deal.currency},
    )
    if (
        account.get("erpCustomerId") != done.customer_id
        or account.get("billingCustomerId") != sub["customerId"]
    ):
        # The cross-reference lives on the CRM account, written back once per change.
        yield from client.call(
            wf,
            "xref",
            "crm",
            "updateAccount",
            {
                "id": account["id"],
                "erpCustomerId": done.customer_id,
                "billingCustomerId": sub["customerId"],
            },
        )
    return invoice["id"]


def commitment_payload(done: Commitment) -> dict[str, Any]:
    """The ``order.accepted`` event body: enough to fulfil without re-reading."""
    deal = done.deal
    return {
        "deal": deal,
        "account": done.account,
        "customerId": done.customer_id,
        "orderId": done.order_id,
    }


def restore(payload: Mapping[str, Any]) -> Commitment:
    """Rebuild the ``Commitment`` carried by an ``order.accepted`` event."""
    return Commitment(
        payload["deal"], payload["account"], payload["customerId"], payload["orderId"]
    )
