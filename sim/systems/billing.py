"""A Stripe-like subscription billing platform: customers and subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["Billing", "BillingCustomer", "Subscription"]


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
        }


class Billing(Vendor):
    """Billing: owns subscriptions; the customer is found or created inline."""

    name = "billing"
    not_found = "resource_missing"
    reads = ("getSubscription",)
    writes = ("createSubscription", "cancelSubscription")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.customers: dict[str, BillingCustomer] = {}
        self.by_external_id: dict[str, BillingCustomer] = {}
        self.subscriptions: dict[str, Subscription] = {}

    def createSubscription(
        self, params: Mapping[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Subscribe the customer (created on first use) to a plan."""
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
        )
        self.subscriptions[sub.id] = sub
        return 201, sub.body()

    def getSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one subscription."""
        return self.find(self.subscriptions, params["id"], "subscription").body()

    def cancelSubscription(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Cancel a subscription (idempotent)."""
        sub = self.find(self.subscriptions, params["id"], "subscription")
        if sub.status != "cancelled":
            sub.status = "cancelled"
            sub.cancelled_seq = self.ledger.next()
        return sub.body()
