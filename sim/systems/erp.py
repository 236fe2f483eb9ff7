"""A NetSuite-like cloud ERP: customers, sales orders with a credit check, invoices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import VendorError
from sim.systems.profile import ProfileHolder

__all__ = ["ChangeOrder", "CreditMemo", "Customer", "Erp", "Invoice", "Payment", "SalesOrder"]


@dataclass(slots=True)
class Customer:
    """An ERP customer, keyed by its CRM account id (``externalId``)."""

    id: str
    external_id: str
    company_name: str
    email: str
    currency: str
    crm_account_id: str
    status: str = "active"
    billing_address: str | None = None  # unknown until filled from its owner
    merged_into: str = ""

    def body(self) -> dict[str, Any]:
        """The customer as the API returns it."""
        return {
            "id": self.id,
            "externalId": self.external_id,
            "companyName": self.company_name,
            "email": self.email,
            "currency": self.currency,
            "crmAccountId": self.crm_account_id,
            "status": self.status,
        }


@dataclass(slots=True)
class SalesOrder:
    """A sales order; ``external_id`` is the deal id."""

    id: str
    external_id: str
    customer_id: str
    total: float
    currency: str
    created_seq: int
    status: str = "pendingFulfillment"
    cancelled_seq: int = 0
    live_invoices: int = 0
    receivable: str = "open"
    paid_at: float | None = None
    payment_applied_at: float | None = None

    def body(self) -> dict[str, Any]:
        """The sales order as the API returns it."""
        return {
            "id": self.id,
            "externalId": self.external_id,
            "customerId": self.customer_id,
            "status": self.status,
            "total": self.total,
            "currency": self.currency,
        }


@dataclass(slots=True)
class Invoice:
    """An invoice posted against a sales order."""

    id: str
    sales_order_id: str
    amount: float
    currency: str
    created_seq: int
    status: str = "open"
    voided_seq: int = 0
    amendment_id: str = ""

    def body(self) -> dict[str, Any]:
        """The invoice as the API returns it."""
        return {
            "id": self.id,
            "salesOrderId": self.sales_order_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
        }


@dataclass(slots=True)
class ChangeOrder:
    """An amendment of a sales order: what changed and by how much."""

    id: str
    sales_order_id: str
    amendment_id: str
    amount: float
    created_seq: int
    status: str = "open"


@dataclass(slots=True)
class CreditMemo:
    """Money owed back to the customer against a sales order (an amount below zero)."""

    id: str
    sales_order_id: str
    amendment_id: str
    amount: float
    currency: str
    created_seq: int
    status: str = "open"

    def body(self) -> dict[str, Any]:
        """The credit memo as the API returns it."""
        return {
            "id": self.id,
            "salesOrderId": self.sales_order_id,
            "amount": self.amount,
            "status": self.status,
        }


@dataclass(slots=True)
class Payment:
    """Cash received against a sales order, as billing collected it."""

    id: str
    sales_order_id: str
    reference: str
    amount: float
    paid_at: float | None
    recorded_at: float
    created_seq: int


class Erp(ProfileHolder):
    """The ERP: the system of record for customers, orders and receivables."""

    name = "erp"
    reads = (
        "getCustomer",
        "listCustomers",
        "getSalesOrder",
        "listSalesOrders",
        "getInvoice",
        "exportOrders",
        "getCustomerField",
        "getPrice",
    )
    writes = (
        "upsertCustomer",
        "createSalesOrder",
        "cancelSalesOrder",
        "createInvoice",
        "voidInvoice",
        "updateReceivable",
        "updateCustomer",
        "recordPayment",
        "createChangeOrder",
        "cancelChangeOrder",
        "createCreditMemo",
        "voidCreditMemo",
        "addList",
        "setCustomerField",
        "setPrice",
        "retireProduct",
        "mergeCustomers",
    )
    profile_attributes: Mapping[str, str] = {
        "name": "company_name",
        "email": "email",
        "billing_address": "billing_address",
    }
    bulk: Mapping[str, str] = {"addList": "records"}
    """List operations and the field holding their records: each record adds work."""
    max_records = 200
    """Records one list operation may carry (NetSuite's limit for a synchronous list)."""
    archived = (
        "orders",
        "invoices",
        "payments",
        "change_orders",
        "change_by_amendment",
        "credit_memos",
        "_orders_by_external",
        "_amendments",
    )

    def __init__(self, record_fails: Callable[[], bool] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record_fails = record_fails or (lambda: False)
        self.refused_retired = 0  # orders refused for a SKU no longer sold
        self.customers: dict[str, Customer] = {}
        self.by_external_id: dict[str, Customer] = {}
        self.profiles = self.by_external_id
        self.orders: dict[str, SalesOrder] = {}
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, Payment] = {}
        self.change_orders: dict[str, ChangeOrder] = {}
        self.change_by_amendment: dict[str, ChangeOrder] = {}
        self._orders_by_external: dict[str, SalesOrder] = {}  # added by list operations
        self._amendments: dict[str, dict[str, Any]] = {}  # amendment id -> what it added
        self.credit_memos: dict[str, CreditMemo] = {}

    def upsertCustomer(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Find the customer by external id, or create it: naturally idempotent."""
        external_id = params["externalId"]
        customer = self.by_external_id.get(external_id)
        if customer is None:
            customer = Customer(
                self.new_id("CUS"),
                external_id,
                params["companyName"],
                params["email"],
                params["currency"],
                params["crmAccountId"],
            )
            self.customers[customer.id] = customer
            self.by_external_id[external_id] = customer
            self.announce({"kind": "created", "externalId": external_id}, now)
        return customer.body()

    def merged_body(self, record: Any) -> dict[str, Any]:
        """The merged customer as the API returns it."""
        body: dict[str, Any] = record.body()
        return body

    def getCustomer(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one customer."""
        return self.find(self.customers, params["id"], "customer").body()

    def listCustomers(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """A page of customers, newest first (``limit``, ``cursor``)."""
        return _page(list(self.customers.values())[::-1], params)

    def listSalesOrders(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """A page of sales orders, oldest first, by customer and status if asked."""
        orders = [
            order
            for order in self.orders.values()
            if params.get("customerId") in (None, order.customer_id)
            and params.get("status") in (None, order.status)
        ]
        return _page(orders, params)

    def getInvoice(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one invoice."""
        return self.find(self.invoices, params["id"], "invoice").body()

    def createSalesOrder(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Create a sales order after the credit check."""
        customer = self.customers.get(params["customerId"])
        if customer is None:
            raise VendorError(422, "INVALID_CUSTOMER", f"no customer {params['customerId']}")
        retired = self.retired
        gone = retired and [line["sku"] for line in params["lines"] if line["sku"] in retired]
        if gone:
            self.refused_retired += 1
            raise VendorError(422, "ITEM_INACTIVE", f"item {gone[0]} is no longer sold")
        if self.refuse():
            raise VendorError(422, "CREDIT_HOLD", f"customer {customer.id} is on credit hold")
        total = round(sum(line["quantity"] * line["unitPrice"] for line in params["lines"]), 2)
        order = SalesOrder(
            self.new_id("SO"),
            params["externalId"],
            customer.id,
            total,
            params["currency"],
            self.ledger.next(),
        )
        self.orders[order.id] = order
        self.file(order.external_id, "orders", order.id)
        return 201, order.body()

    def getSalesOrder(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one sales order."""
        return self.find(self.orders, params["id"], "sales order").body()

    def cancelSalesOrder(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Cancel a sales order not billed yet (idempotent: cancelling twice is a no-op).

        A billed order answers 409, as the ERP's API document says: its invoice must
        be voided first (a saga undoing in reverse order does exactly that).
        """
        order = self.find(self.orders, params["id"], "sales order")
        if order.status == "billed":
            raise VendorError(409, "ORDER_BILLED", f"sales order {order.id} is billed")
        if order.status != "cancelled":
            order.status = "cancelled"
            order.cancelled_seq = self.ledger.next()
        return order.body()

    def createInvoice(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Post an invoice for an open sales order; the order becomes billed."""
        order = self.find(self.orders, params["salesOrderId"], "sales order")
        if order.status == "cancelled":
            raise VendorError(422, "ORDER_CANCELLED", f"sales order {order.id} is cancelled")
        invoice = Invoice(
            self.new_id("INV"),
            order.id,
            params["amount"],
            params["currency"],
            self.ledger.next(),
            amendment_id=str(params.get("amendmentId", "")),
        )
        self.invoices[invoice.id] = invoice
        self.file(order.external_id, "invoices", invoice.id)
        order.live_invoices += 1
        order.status = "billed"
        return 201, invoice.body()

    def voidInvoice(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Void an invoice (idempotent); an order left with no live invoice is unbilled."""
        invoice = self.find(self.invoices, params["id"], "invoice")
        if invoice.status != "voided":
            invoice.status = "voided"
            invoice.voided_seq = self.ledger.next()
            order = self.orders.get(invoice.sales_order_id)
            if order is not None:
                order.live_invoices -= 1
                if order.status == "billed" and not order.live_invoices:
                    order.status = "pendingFulfillment"
        return invoice.body()

    def updateReceivable(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Record what billing says of the order's payment (paid, past due, ...).

        The write carries billing's version of its invoice; with ``ifNewer`` an
        older version than the one held is refused (409 ``STALE_VERSION``).
        """
        order = self.find(self.orders, params["salesOrderId"], "sales order")
        self.versions(order.id).apply(
            "billing.invoice", int(params["sourceVersion"]), bool(params.get("ifNewer", True))
        )
        order.receivable = str(params["status"])
        if order.receivable == "paid":
            order.paid_at = params.get("paidAt")
        return {"id": order.id, "receivable": order.receivable}

    def updateCustomer(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Take a CRM account's new name and e-mail, if newer than what is held."""
        customer = self.by_external_id.get(params["externalId"])
        if customer is None:
            raise VendorError(404, self.not_found, f"no customer for {params['externalId']}")
        self.versions(customer.id).apply(
            "crm.account", int(params["sourceVersion"]), bool(params.get("ifNewer", True))
        )
        customer.company_name = params["companyName"]
        customer.email = params["email"]
        return customer.body()

    def recordPayment(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Post a payment received for an order: an entry in the cash ledger.

        Not a state to overwrite but an entry to add: posted twice, the customer
        has paid twice in the books. Only the idempotency key (while the ERP keeps
        it) and the receiver's memory of handled events stand in the way.
        """
        order = self.find(self.orders, params["salesOrderId"], "sales order")
        payment = Payment(
            self.new_id("PAY"),
            order.id,
            str(params["reference"]),
            float(params["amount"]),
            params.get("paidAt"),
            now,
            self.ledger.next(),
        )
        self.payments[payment.id] = payment
        self.file(order.external_id, "payments", payment.id)
        order.payment_applied_at = order.payment_applied_at or now
        return 201, {"id": payment.id, "salesOrderId": order.id, "amount": payment.amount}

    # -- amendments: change orders, additional invoices, credit memos ---------------------

    def createChangeOrder(
        self, params: Mapping[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Record an amendment against a live sales order."""
        order = self.find(self.orders, params["salesOrderId"], "sales order")
        if order.status == "cancelled":
            raise VendorError(422, "ORDER_CANCELLED", f"sales order {order.id} is cancelled")
        held = self.change_by_amendment.get(str(params["amendmentId"]))
        if held is not None and held.status == "open":
            # One change order per amendment, whoever posts it (the saga, the batch
            # or the nightly reconciliation): the ERP's own external-id check.
            return 200, {"id": held.id, "salesOrderId": order.id, "status": held.status}
        change = ChangeOrder(
            self.new_id("CO"),
            order.id,
            str(params["amendmentId"]),
            float(params["amount"]),
            self.ledger.next(),
        )
        self.change_orders[change.id] = change
        self.change_by_amendment[change.amendment_id] = change
        self.file(order.external_id, "change_orders", change.id)
        self.file(order.external_id, "change_by_amendment", change.amendment_id)
        return 201, {"id": change.id, "salesOrderId": order.id, "status": change.status}

    def exportOrders(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Every sales order with what it invoiced and the amendments it holds: the
        saved search finance runs at night."""
        invoiced: dict[str, float] = {}
        for invoice in self.invoices.values():
            if invoice.status != "voided":
                invoiced[invoice.sales_order_id] = (
                    invoiced.get(invoice.sales_order_id, 0.0) + invoice.amount
                )
        for memo in self.credit_memos.values():
            if memo.status != "voided":
                invoiced[memo.sales_order_id] = invoiced.get(memo.sales_order_id, 0.0) + memo.amount
        amended: dict[str, list[str]] = {}
        for change in self.change_orders.values():
            if change.status == "open":
                amended.setdefault(change.sales_order_id, []).append(change.amendment_id)
        return {
            "orders": [
                {
                    "id": order.id,
                    "externalId": order.external_id,
                    "status": order.status,
                    "invoiced": round(invoiced.get(order.id, 0.0), 2),
                    "amendments": amended.get(order.id, []),
                }
                for order in self.orders.values()
            ]
        }

    def cancelChangeOrder(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Withdraw a change order (idempotent)."""
        change = self.find(self.change_orders, params["id"], "change order")
        change.status = "cancelled"
        if self.change_by_amendment.get(change.amendment_id) is change:
            del self.change_by_amendment[change.amendment_id]
        return {"id": change.id, "status": change.status}

    def createCreditMemo(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Post a credit memo (``amount`` below zero) against a sales order."""
        order = self.find(self.orders, params["salesOrderId"], "sales order")
        memo = CreditMemo(
            self.new_id("CM"),
            order.id,
            str(params.get("amendmentId", "")),
            float(params["amount"]),
            params["currency"],
            self.ledger.next(),
        )
        self.credit_memos[memo.id] = memo
        self.file(order.external_id, "credit_memos", memo.id)
        return 201, memo.body()

    def voidCreditMemo(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Void a credit memo (idempotent)."""
        memo = self.find(self.credit_memos, params["id"], "credit memo")
        memo.status = "voided"
        return memo.body()

    # -- list operations: many records in one request, a result for each ---------------

    def addList(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Add sales orders (with their customers) and amendments in one request.

        Like NetSuite's ``addList``: one result per record, in order; a record
        fails alone (a credit hold, an unexpected error worth retrying) while the
        others go in. A record whose external id the ERP already holds answers
        with what it holds, so sending a batch again is safe.
        """
        records = params["records"]
        if len(records) > self.max_records:
            raise VendorError(
                400, "BATCH_TOO_LARGE", f"{len(records)} records, at most {self.max_records}"
            )
        results = []
        for record in records:
            try:
                if self.record_fails():
                    raise VendorError(500, "UNEXPECTED_ERROR", "record not processed")
                body = (
                    self._add_order(record, now)
                    if record["kind"] == "order"
                    else self._add_amendment(record, now)
                )
            except VendorError as exc:
                results.append(
                    {
                        "externalId": record["externalId"],
                        "ok": False,
                        "status": exc.status,
                        "code": exc.code,
                    }
                )
            else:
                results.append({"externalId": record["externalId"], "ok": True, **body})
        return {"results": results}

    def _add_order(self, record: Mapping[str, Any], now: float) -> dict[str, Any]:
        held = self._orders_by_external.get(record["externalId"])
        if held is not None:
            return {"customerId": held.customer_id, "orderId": held.id}
        customer = self.upsertCustomer(record["customer"], now)
        _, order = self.createSalesOrder({**record["order"], "customerId": customer["id"]}, now)
        self._orders_by_external[record["externalId"]] = self.orders[order["id"]]
        self.file(record["externalId"], "_orders_by_external", record["externalId"])
        return {"customerId": customer["id"], "orderId": order["id"]}

    def _add_amendment(self, record: Mapping[str, Any], now: float) -> dict[str, Any]:
        wf = record["externalId"]
        held = self._amendments.get(wf)
        if held is not None:
            return held
        change_held = self.change_by_amendment.get(wf)
        if change_held is not None and change_held.status == "open":
            return {"changeOrderId": change_held.id}  # posted already, another way
        _, change = self.createChangeOrder(
            {"salesOrderId": record["salesOrderId"], "amendmentId": wf, "amount": record["amount"]},
            now,
        )
        body = {"changeOrderId": change["id"]}
        amount = record["amount"]
        if amount:
            book = self.createInvoice if amount > 0 else self.createCreditMemo
            _, doc = book(
                {
                    "salesOrderId": record["salesOrderId"],
                    "amount": amount,
                    "currency": record["currency"],
                    "amendmentId": wf,
                },
                now,
            )
            body["documentId"] = doc["id"]
        self._amendments[wf] = body
        self.file(self.orders[record["salesOrderId"]].external_id, "_amendments", wf)
        return body


def _page(records: list[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """One page of ``records``; the cursor is the offset of the next page."""
    cursor = str(params.get("cursor") or "0")
    if not cursor.isdigit():
        raise VendorError(400, "INVALID_CURSOR", f"cursor {cursor!r} was not given by this API")
    start = int(cursor)
    end = start + int(params.get("limit", 100))
    return {
        "items": [record.body() for record in records[start:end]],
        "nextCursor": str(end) if end < len(records) else None,
    }
