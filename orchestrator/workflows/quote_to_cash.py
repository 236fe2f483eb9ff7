"""Quote-to-cash: from a closed deal to a live, billed, provisioned customer.

The workflow is split where the patterns split it. The commercial commitment is
``validate_account`` then ``accept_order`` (find or create the ERP customer, have
the ERP accept the sales order), the outbox running the two apart; ``fulfil`` is
the rest (subscription, entitlement, onboarding case, first invoice, cross-reference
write-back). A synchronous chain runs both in one breath; the hybrid pattern
commits synchronously and fulfils when the ``order.accepted`` event arrives.

Every committing write is a saga step: ``saga.step`` records its undo right after it
commits (or, after an unknown outcome, records how to find out and undo it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Rejected
from orchestrator.events import ORDER, ORDER_LIVE, XREF_STALE
from orchestrator.saga import Saga, spent
from orchestrator.workflows.declaration import Declaration

__all__ = [
    "DECLARED",
    "Commitment",
    "accept_order",
    "active_account",
    "commitment_payload",
    "customer_fields",
    "fulfil",
    "order_saga",
    "restore",
    "validate_account",
    "workflow_id",
]

DECLARED = Declaration("q2c", "order", ORDER_LIVE, "completed", ORDER)
"""Quote-to-cash in the books: ``q2c:<deal>``, live or one of the ``ORDER`` endings."""


def unstarted(error: Exception, deal_id: str) -> dict[str, Any]:
    """The body of an ending before anything was committed (rejected, failed), as
    ``settle`` writes its own: the reason, the budget spent, and the deal's
    quote-to-cash workflow."""
    body: dict[str, Any] = {"reason": str(error), "workflow": workflow_id(deal_id)}
    if isinstance(error, CallError):
        body["budget"] = spent(error)
    return body


def workflow_id(deal_id: str) -> str:
    """The id of a deal's quote-to-cash run, ``q2c:<deal>``: its keys derive from it."""
    return f"{DECLARED.prefix}:{deal_id}"


def order_saga(client: Client, deal_id: str) -> Saga:
    """A fresh saga for a deal's first order, its calls correlated to the deal."""
    return Saga(workflow_id(deal_id), client, deal_id)


class Commitment(NamedTuple):
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


def validate_account(client: Client, deal: Deal) -> Workflow:
    """Read the deal's CRM account; only an active account may buy.

    Returns:
        The account as read (via ``yield from``).

    Raises:
        Rejected: The account is not active.
    """
    return (yield from active_account(client, deal.account_id, workflow_id(deal.id), deal.id))


def active_account(client: Client, account_id: str, wf: str, correlation: str) -> Workflow:
    """Read a CRM account for workflow ``wf``; only an active one may buy.

    Returns:
        The account as read (via ``yield from``).

    Raises:
        Rejected: The account is not active.
    """
    account = yield from client.call(
        wf, "account", "crm", "getAccount", {"id": account_id}, write=False, correlation=correlation
    )
    if account["status"] != "active":
        raise Rejected("crm", "getAccount", 422, "ACCOUNT_NOT_ACTIVE")
    return account


def accept_order(client: Client, deal: Deal, account: Mapping[str, Any], saga: Saga) -> Workflow:
    """Find or create the ERP customer, then have the ERP accept the sales order.

    Returns:
        ``(customer id, order id)`` (via ``yield from``).

    Raises:
        Rejected: The ERP's credit check said no.
        Retryable: The ERP stayed unavailable past the retry budget.
    """
    customer = yield from client.call(
        saga.workflow_id,
        "customer",
        "erp",
        "upsertCustomer",
        customer_fields(deal, account),
        correlation=deal.id,
    )
    order = yield from saga.step(
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
        cancel_order,
    )
    return customer["id"], order["id"]


def fulfil(client: Client, done: Commitment, saga: Saga) -> Workflow:
    """Bill, provision, open onboarding, post the first invoice, link the ids.

    Returns:
        The ERP invoice id (via ``yield from``).

    Raises:
        Rejected: A system refused a step; the caller compensates.
        Retryable: A system stayed unavailable past the retry budget.
    """
    deal, account = done.deal, done.account
    total = deal.total
    sub = yield from saga.step(
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
            "sku": deal.lines[0].sku,
            "quantity": deal.seats,
            "unitPrice": deal.lines[0].unit_price,
            "currency": deal.currency,
            "amount": total,
            "salesOrderId": done.order_id,
            "dealId": deal.id,
        },
        cancel_subscription,
    )
    yield from saga.step(
        "entitlement",
        "provisioning",
        "createEntitlement",
        {
            "accountId": account["id"],
            "subscriptionId": sub["id"],
            "plan": deal.plan,
            "seats": deal.seats,
            "dealId": deal.id,
        },
        revoke_entitlement,
    )
    yield from saga.step(
        "onboarding",
        "support",
        "createCase",
        {
            "accountId": account["id"],
            "type": "onboarding",
            "subject": f"Onboard {account['name']} ({deal.plan})",
            "salesOrderId": done.order_id,
            "dealId": deal.id,
        },
        close_case,
    )
    invoice = yield from saga.step(
        "invoice",
        "erp",
        "createInvoice",
        {"salesOrderId": done.order_id, "amount": total, "currency": deal.currency},
        void_invoice,
    )
    if (
        account.get("erpCustomerId") != done.customer_id
        or account.get("billingCustomerId") != sub["customerId"]
    ):
        # The cross-reference lives on the CRM account, written back once per change.
        # The order is live by now: a failed write-back is a chore for a person,
        # not a reason to undo a billed order.
        try:
            yield from client.call(
                saga.workflow_id,
                "xref",
                "crm",
                "updateAccount",
                {
                    "id": account["id"],
                    "erpCustomerId": done.customer_id,
                    "billingCustomerId": sub["customerId"],
                },
                correlation=deal.id,
            )
        except CallError as exc:
            stale = {"accountId": account["id"], "reason": str(exc)}
            yield from client.publish(XREF_STALE, deal.id, stale)
    return invoice["id"]


def customer_fields(deal: Deal, account: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP customer a deal's account becomes (``erp.upsertCustomer``)."""
    return {
        "externalId": account["id"],
        "companyName": account["name"],
        "email": account["email"],
        "currency": deal.currency,
        "crmAccountId": account["id"],
    }


def cancel_order(order: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``erp.createSalesOrder``."""
    return "erp", "cancelSalesOrder", {"id": order["id"]}


def cancel_subscription(sub: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``billing.createSubscription``."""
    return "billing", "cancelSubscription", {"id": sub["id"]}


def revoke_entitlement(ent: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``provisioning.createEntitlement``."""
    return "provisioning", "revokeEntitlement", {"id": ent["id"]}


def close_case(case: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``support.createCase``: close it as cancelled."""
    return "support", "closeCase", {"id": case["id"], "resolution": "cancelled"}


def void_invoice(invoice: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``erp.createInvoice``."""
    return "erp", "voidInvoice", {"id": invoice["id"]}


def commitment_payload(done: Commitment) -> dict[str, Any]:
    """The ``order.accepted`` event body: enough to fulfil without re-reading."""
    deal = done.deal
    return {
        "deal": deal.as_json(),
        "account": done.account,
        "customerId": done.customer_id,
        "orderId": done.order_id,
    }


def restore(payload: Mapping[str, Any]) -> Commitment:
    """Rebuild the ``Commitment`` carried by an ``order.accepted`` event."""
    return Commitment(
        Deal.from_json(payload["deal"]),
        payload["account"],
        payload["customerId"],
        payload["orderId"],
    )
