"""A Stripe-like subscription billing platform: customers, subscriptions, invoices, dunning.

A subscription opens its first invoice at once; billing then collects it by
itself, some time later (the payment delay), like a card charged on the due date.
A failed charge marks the subscription ``past_due`` and is retried every
``retry_every``; after ``max_attempts`` failures the subscription is cancelled.
Every change is announced by a webhook (``invoice.paid``,
``invoice.payment_failed``, ``customer.subscription.updated``) carrying the
object's version, so receivers can tell an old announcement from a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["Billing", "BillingCustomer", "BillingInvoice", "Payments", "Subscription"]


@dataclass(frozen=True)
class Payments:
    """How billing collects its invoices.

    Attributes:
        delay: Draws the time from an invoice's creation to its first charge.
        fails: Draws whether one charge fails.
        retry_every: Seconds between charges of a failed invoice (dunning).
        max_attempts: Charges before the subscription is cancelled.
    """

    delay: Callable[[], float]
    fails: Callable[[], bool]
    retry_every: float = 86400.0
    max_attempts: int = 4


@dataclass(slots=True)
class BillingCustomer:
    """A billing customer, keyed by its CRM account id (``externalId``)."""

    id: str
    external_id: str
    name: str
    email: str
    erp_customer_id: str


@dataclass(slots=True)
class Subscription:
    """A subscription created for one sales order."""

    id: str
    customer_id: str
    plan: str
    quantity: int
    currency: str
    sales_order_id: str
    created_seq: int
    status: str = "active"
    cancelled_seq: int = 0
    dunned: bool = False  # cancelled by dunning (unpaid), not on request
    version: int = 1
    deal_id: str = ""

    def body(self) -> dict[str, Any]:
        """The subscription as the API returns it."""
        return {
            "id": self.id,
            "customerId": self.customer_id,
            "plan": self.plan,
            "quantity": self.quantity,
            "currency": self.currency,
            "salesOrderId": self.sales_order_id,
            "status": self.status,
            # Stripe's cancellation_details.reason: why it ended, if it did.
            "cancellation": ("payment_failed" if self.dunned else "requested")
            if self.status == "cancelled"
            else None,
        }


@dataclass(slots=True)
class BillingInvoice:
    """An invoice billing collects for a subscription."""

    id: str
    subscription_id: str
    sales_order_id: str
    deal_id: str
    amount: float
    currency: str
    status: str = "open"
    attempts: int = 0
    paid_at: float | None = None
    version: int = 1

    def body(self) -> dict[str, Any]:
        """The invoice as webhooks carry it."""
        return {
            "id": self.id,
            "subscriptionId": self.subscription_id,
            "salesOrderId": self.sales_order_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "attempts": self.attempts,
            "paidAt": self.paid_at,
            "version": self.version,
            "dealId": self.deal_id,
        }


class Billing(Vendor):
    """Billing: owns subscriptions and their invoices; customers are made inline."""

    name = "billing"
    not_found = "resource_missing"
    reads = ("getSubscription",)
    writes = ("createSubscription", "cancelSubscription", "updateCustomer")

    def __init__(self, payments: Payments | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.payments = payments
        self.customers: dict[str, BillingCustomer] = {}
        self.by_external_id: dict[str, BillingCustomer] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.invoices: dict[str, BillingInvoice] = {}
        self.invoices_of: dict[str, list[BillingInvoice]] = {}  # by subscription id

    def createSubscription(
        self, params: Mapping[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Subscribe the customer (created on first use) to a plan; open its invoice."""
        if self.refuse():
            raise VendorError(402, "PAYMENT_METHOD_REQUIRED", "no valid payment method")
        spec = params["customer"]
        customer = self.by_external_id.get(spec["externalId"])
        if customer is None:
            customer = BillingCustomer(
                self.new_id("cus"),
                spec["externalId"],
                spec["name"],
                spec["email"],
                spec["erpCustomerId"],
            )
            self.customers[customer.id] = customer
            self.by_external_id[customer.external_id] = customer
        sub = Subscription(
            self.new_id("sub"),
            customer.id,
            params["plan"],
            params["quantity"],
            params["currency"],
            params["salesOrderId"],
            self.ledger.next(),
            deal_id=str(params.get("dealId", "")),
        )
        self.subscriptions[sub.id] = sub
        if self.payments is not None and self.later is not None:
            invoice = BillingInvoice(
                self.new_id("in"),
                sub.id,
                sub.sales_order_id,
                sub.deal_id,
                float(params.get("amount", 0.0)),
                sub.currency,
            )
            self.invoices[invoice.id] = invoice
            self.invoices_of.setdefault(sub.id, []).append(invoice)
            self.later(self.payments.delay(), lambda at: self._charge(invoice, at))
        return 201, sub.body()

    def getSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one subscription."""
        return self.find(self.subscriptions, params["id"], "subscription").body()

    def cancelSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Cancel a subscription (idempotent); its open invoices are voided."""
        sub = self.find(self.subscriptions, params["id"], "subscription")
        if sub.status != "cancelled":
            self._cancel(sub, now)
        return sub.body()

    def updateCustomer(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Take a CRM account's new name and e-mail, if newer than what is held."""
        customer = self.by_external_id.get(params["externalId"])
        if customer is None:
            raise VendorError(404, self.not_found, f"no customer for {params['externalId']}")
        self.versions(customer.id).apply(
            "crm.account", int(params["sourceVersion"]), bool(params.get("ifNewer", True))
        )
        customer.name = params["name"]
        customer.email = params["email"]
        return {"id": customer.id, "externalId": customer.external_id, "name": customer.name}

    # -- clockwork: collection and dunning ----------------------------------------------

    def _cancel(self, sub: Subscription, now: float) -> None:
        sub.status = "cancelled"
        sub.cancelled_seq = self.ledger.next()
        sub.version += 1
        for invoice in self.invoices_of.get(sub.id, ()):
            if invoice.status == "open":
                invoice.status = "void"
                invoice.version += 1
        self._announce_subscription(sub, now)

    def _charge(self, invoice: BillingInvoice, now: float) -> None:
        payments = self.payments
        if invoice.status != "open" or payments is None:
            return  # voided meanwhile: the subscription was cancelled
        sub = self.subscriptions[invoice.subscription_id]
        invoice.attempts += 1
        invoice.version += 1
        if not payments.fails():
            invoice.status = "paid"
            invoice.paid_at = now
            self.emit("invoice.paid", invoice.sales_order_id, invoice.body(), now)
            if sub.status == "past_due":
                sub.status = "active"
                sub.version += 1
                self._announce_subscription(sub, now)
            return
        self.emit("invoice.payment_failed", invoice.sales_order_id, invoice.body(), now)
        if invoice.attempts >= payments.max_attempts:
            invoice.status = "uncollectible"
            invoice.version += 1
            sub.dunned = True
            self._cancel(sub, now)
            return
        if sub.status == "active":
            sub.status = "past_due"
            sub.version += 1
            self._announce_subscription(sub, now)
        assert self.later is not None
        self.later(payments.retry_every, lambda at: self._charge(invoice, at))

    def _announce_subscription(self, sub: Subscription, now: float) -> None:
        if self.outlet is None:
            return
        body = {**sub.body(), "version": sub.version, "dealId": sub.deal_id}
        self.emit("customer.subscription.updated", sub.id, body, now)
