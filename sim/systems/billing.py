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

from sim.systems.base import VendorError
from sim.systems.profile import ProfileHolder

__all__ = ["Amended", "Billing", "BillingCustomer", "BillingInvoice", "Payments", "Subscription"]


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
    billing_address: str | None = None  # unknown until filled from its owner
    status: str = "active"
    merged_into: str = ""


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
    unit_price: float = 0.0
    period_start: float = 0.0
    period_end: float = 0.0
    changed_at: float = 0.0
    cancelled_by: str = ""  # the amendment that cancelled it, if one did

    def body(self) -> dict[str, Any]:
        """The subscription as the API returns it."""
        return {
            "id": self.id,
            "customerId": self.customer_id,
            "plan": self.plan,
            "quantity": self.quantity,
            "unitPrice": self.unit_price,
            "currency": self.currency,
            "salesOrderId": self.sales_order_id,
            "status": self.status,
            "version": self.version,
            "periodEnd": self.period_end,
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
    kind: str = "subscription"  # or proration (negative: a credit note) or renewal
    amendment_id: str = ""

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


@dataclass(slots=True)
class Amended:
    """What a subscription was before an amendment: how to put it back."""

    subscription_id: str
    quantity: int
    plan: str
    unit_price: float
    status: str
    period_end: float
    invoice_id: str = ""
    reverted: bool = False


class Billing(ProfileHolder):
    """Billing: owns subscriptions and their invoices; customers are made inline."""

    name = "billing"
    not_found = "resource_missing"
    reads = (
        "getSubscription",
        "findSubscription",
        "exportSubscriptions",
        "getCustomerField",
        "getPrice",
    )
    writes = (
        "createSubscription",
        "cancelSubscription",
        "updateCustomer",
        "amendSubscription",
        "revertAmendment",
        "setCustomerField",
        "setPrice",
        "retireProduct",
        "mergeCustomers",
    )

    archived = ("subscriptions", "by_deal", "invoices", "invoices_of", "amendments")

    def __init__(
        self, payments: Payments | None = None, term: float = 30 * 86400.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.payments = payments
        self.term = term
        self.by_deal: dict[str, Subscription] = {}
        self.amendments: dict[str, Amended] = {}  # by amendment id
        self.customers: dict[str, BillingCustomer] = {}
        self.by_external_id: dict[str, BillingCustomer] = {}
        self.profiles = self.by_external_id
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
            self.announce({"kind": "created", "externalId": customer.external_id}, now)
        unit_price = float(params.get("unitPrice", 0.0))
        amount = float(params.get("amount", 0.0))
        listed = self.prices.get((str(params.get("sku")), params["currency"]))
        if listed is not None:
            # Billing charges its own price list, as Stripe charges a Price object,
            # whatever the quote said.
            unit_price, amount = listed, round(listed * params["quantity"], 2)
        sub = Subscription(
            self.new_id("sub"),
            customer.id,
            params["plan"],
            params["quantity"],
            params["currency"],
            params["salesOrderId"],
            self.ledger.next(),
            deal_id=str(params.get("dealId", "")),
            unit_price=unit_price,
            period_start=now,
            period_end=now + self.term,
            changed_at=now,
        )
        self.subscriptions[sub.id] = sub
        self.file(sub.deal_id, "subscriptions", sub.id)
        if sub.deal_id and sub.deal_id not in self.by_deal:
            self.by_deal[sub.deal_id] = sub
            self.file(sub.deal_id, "by_deal", sub.deal_id)
        invoice = BillingInvoice(
            self.new_id("in"),
            sub.id,
            sub.sales_order_id,
            sub.deal_id,
            amount,
            sub.currency,
        )
        self.invoices[invoice.id] = invoice
        self.invoices_of[sub.id] = [invoice]
        self.file(sub.deal_id, "invoices", invoice.id)
        self.file(sub.deal_id, "invoices_of", sub.id)
        if self.payments is not None and self.later is not None:
            self.remind(sub.deal_id, self.payments.delay(), lambda at: self._charge(invoice, at))
        return 201, sub.body()

    def getSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one subscription."""
        return self.find(self.subscriptions, params["id"], "subscription").body()

    def findSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The subscription sold by a deal (search by ``dealId`` metadata)."""
        deal_id = params["dealId"]
        sub = self.by_deal.get(deal_id)
        if sub is None:
            raise VendorError(404, self.not_found, f"no subscription for deal {deal_id}")
        return sub.body()

    def amendSubscription(
        self, params: Mapping[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Change seats or plan mid-term, renew for a term, or cancel, with proration.

        A change mid-term is billed (or credited) for the rest of the period only,
        like Stripe's proration: ``(new price - old price) x days left / term``.
        A renewal bills the next term in full; a cancellation credits the days left.

        Returns:
            ``{"subscription": ..., "adjustment": {"id", "amount"} or None}``.
        """
        sub = self.find(self.subscriptions, params["id"], "subscription")
        if sub.status == "cancelled":
            raise VendorError(422, "SUBSCRIPTION_CANCELLED", f"subscription {sub.id} is cancelled")
        kind = params["kind"]
        before = Amended(sub.id, sub.quantity, sub.plan, sub.unit_price, sub.status, sub.period_end)
        old_total = sub.quantity * sub.unit_price
        left = max(sub.period_end - now, 0.0) / self.term
        if kind == "renewal":
            sub.period_start, sub.period_end = sub.period_end, sub.period_end + self.term
            amount = old_total
        elif kind == "cancel":
            amount = -old_total * left
            sub.status = "cancelled"
            sub.cancelled_seq = self.ledger.next()
            sub.cancelled_by = str(params["amendmentId"])
        else:
            sub.quantity = int(params.get("quantity", sub.quantity))
            sub.plan = str(params.get("plan", sub.plan))
            sub.unit_price = float(params.get("unitPrice", sub.unit_price))
            amount = (sub.quantity * sub.unit_price - old_total) * left
        sub.version += 1
        sub.changed_at = now
        amount = round(amount, 2)
        adjustment = None
        if amount:
            invoice = BillingInvoice(
                self.new_id("in"),
                sub.id,
                sub.sales_order_id,
                sub.deal_id,
                amount,
                sub.currency,
                kind="renewal" if kind == "renewal" else "proration",
                amendment_id=str(params["amendmentId"]),
            )
            self.invoices[invoice.id] = invoice
            self.invoices_of.setdefault(sub.id, []).append(invoice)
            self.file(sub.deal_id, "invoices", invoice.id)
            before.invoice_id = invoice.id
            adjustment = {"id": invoice.id, "amount": amount}
        self.amendments[str(params["amendmentId"])] = before
        self.file(sub.deal_id, "amendments", str(params["amendmentId"]))
        self._announce_subscription(sub, now)
        return 200, {
            "amendmentId": params["amendmentId"],
            "subscription": sub.body(),
            "adjustment": adjustment,
        }

    def revertAmendment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Undo an amendment: the old seats, plan, status and period come back, and its
        proration is voided (idempotent; an amendment never made is a 404)."""
        before = self.amendments.get(str(params["amendmentId"]))
        if before is None:
            raise VendorError(404, self.not_found, f"no amendment {params['amendmentId']}")
        sub = self.find(self.subscriptions, params["id"], "subscription")
        if not before.reverted:
            before.reverted = True
            sub.quantity, sub.plan, sub.unit_price = before.quantity, before.plan, before.unit_price
            sub.status, sub.period_end = before.status, before.period_end
            if sub.cancelled_by == params["amendmentId"]:
                sub.cancelled_by = ""
            sub.version += 1
            sub.changed_at = now
            invoice = self.invoices.get(before.invoice_id)
            if invoice is not None and invoice.status == "open":
                invoice.status = "void"
                invoice.version += 1
            self._announce_subscription(sub, now)
        return sub.body()

    def exportSubscriptions(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Every subscription with what it billed: the nightly export finance reads.

        Each carries the amendments it holds, their live adjustments
        (``amendmentId`` -> amount) and ``changedAt``, when it last changed.
        """
        applied: dict[str, list[str]] = {}
        for wf, amended in self.amendments.items():
            if not amended.reverted:
                applied.setdefault(amended.subscription_id, []).append(wf)
        rows = []
        for sub in self.subscriptions.values():
            invoices = self.invoices_of.get(sub.id, ())
            rows.append(
                {
                    **sub.body(),
                    "dealId": sub.deal_id,
                    "changedAt": sub.changed_at,
                    "billed": round(sum(i.amount for i in invoices if i.status != "void"), 2),
                    "amendments": applied.get(sub.id, []),
                    "adjustments": {
                        i.amendment_id: i.amount
                        for i in invoices
                        if i.amendment_id and i.status != "void"
                    },
                }
            )
        return {"subscriptions": rows}

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
        self.remind(invoice.deal_id, payments.retry_every, lambda at: self._charge(invoice, at))

    def _announce_subscription(self, sub: Subscription, now: float) -> None:
        if self.outlet is None:
            return
        body = {**sub.body(), "version": sub.version, "dealId": sub.deal_id}
        self.emit("customer.subscription.updated", sub.id, body, now)
