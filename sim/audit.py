"""The end-of-run consistency audit across the vendor models.

An auditor at quarter end walks from system to system with one question: does
every record have the partners it should, and no twins? A subscription whose
sales order was cancelled, an entitlement with no live subscription, two sales
orders for one deal: each is a data quality exception someone must fix by hand.

Each check reads the records of the system it is registered with (``sim.vendors``)
and whatever partners it needs. Deals still in flight (partial state is expected)
and deals already escalated (they sit in the manual queue) are left out.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import NamedTuple, cast

from sim.systems import Billing, Crm, Erp, Provisioning, Support, Vendor

__all__ = ["Check", "Records", "audit", "mismatched_prices"]


class Records(NamedTuple):
    """What the auditor reads: the vendors' records, and which deals are audited.

    Attributes:
        skipped: Sales orders of deals not audited (in flight or escalated).
        cancelled: Sales orders cancelled.
    """

    crm: Crm
    erp: Erp
    billing: Billing
    provisioning: Provisioning
    support: Support
    audited: Callable[[str], bool]
    skipped: frozenset[str]
    cancelled: frozenset[str]

    @classmethod
    def of(cls, vendors: Mapping[str, Vendor], audited: Callable[[str], bool]) -> Records:
        """The records of a run's vendors (by system name)."""
        erp = cast(Erp, vendors["erp"])
        orders = erp.orders.values()
        return cls(
            cast(Crm, vendors["crm"]),
            erp,
            cast(Billing, vendors["billing"]),
            cast(Provisioning, vendors["provisioning"]),
            cast(Support, vendors["support"]),
            audited,
            frozenset(o.id for o in orders if not audited(o.external_id)),
            frozenset(o.id for o in orders if o.status == "cancelled"),
        )

    def gone(self, order_id: str) -> bool:
        """Whether a sales order was cancelled or never existed."""
        return order_id in self.cancelled or order_id not in self.erp.orders


CENT = 0.005

Check = Callable[[Records], int]
"""One audit check: how many exceptions it finds in the records."""


def duplicate_sales_order(r: Records) -> int:
    live: Counter[str] = Counter(
        o.external_id for o in r.erp.orders.values() if o.status != "cancelled"
    )
    return sum(1 for deal, n in live.items() if n > 1 and r.audited(deal))


def order_neither_billed_nor_cancelled(r: Records) -> int:
    return sum(
        1
        for o in r.erp.orders.values()
        if o.status not in ("cancelled", "billed") and r.audited(o.external_id)
    )


def invoice_for_cancelled_order(r: Records) -> int:
    return sum(
        1
        for invoice in r.erp.invoices.values()
        if invoice.status != "voided"
        and invoice.sales_order_id in r.cancelled
        and invoice.sales_order_id not in r.skipped
    )


def payment_posted_twice(r: Records) -> int:
    """Billing invoices whose payment the ERP's cash ledger holds more than once."""
    posted = Counter(payment.reference for payment in r.erp.payments.values())
    return sum(n - 1 for n in posted.values() if n > 1)


@functools.lru_cache(maxsize=1)  # two checks read it: counted once per audit
def _live_subscriptions(r: Records) -> Counter[str]:
    """Sales order -> its audited live subscriptions."""
    return Counter(
        sub.sales_order_id
        for sub in r.billing.subscriptions.values()
        if sub.status in ("active", "past_due") and sub.sales_order_id not in r.skipped
    )


def subscription_without_order(r: Records) -> int:
    return sum(n for order, n in _live_subscriptions(r).items() if r.gone(order))


def duplicate_subscription(r: Records) -> int:
    return sum(1 for n in _live_subscriptions(r).values() if n > 1)


def price_mismatch(r: Records) -> int:
    """First invoices whose amount in billing (its price list) differs from the ERP's
    (the quote's price, from the CRM's price list)."""
    return sum(1 for order in mismatched_prices(r.billing, r.erp) if order not in r.skipped)


def mismatched_prices(billing: Billing, erp: Erp) -> dict[str, str]:
    """Sales order -> deal, for each first order billed at another price than the ERP
    invoiced it (both invoices standing)."""
    if not billing.prices:
        return {}  # no price list: billing charges what the order says, as the ERP does
    invoiced = {
        invoice.sales_order_id: invoice.amount
        for invoice in erp.invoices.values()
        if not invoice.amendment_id and invoice.status != "voided"
    }
    found = {}
    for sub in billing.subscriptions.values():
        first = billing.invoices_of.get(sub.id)
        erp_amount = invoiced.get(sub.sales_order_id)
        if not first or first[0].status == "void" or erp_amount is None:
            continue  # not both standing: the other checks and the leakage see to it
        if abs(first[0].amount - erp_amount) > CENT:
            found[sub.sales_order_id] = sub.deal_id
    return found


@functools.lru_cache(maxsize=1)  # two checks read it: counted once per audit
def _active_entitlements(r: Records) -> Counter[str]:
    """Subscription -> its audited active entitlements."""
    found: Counter[str] = Counter()
    for ent in r.provisioning.entitlements.values():
        owner = r.billing.subscriptions.get(ent.subscription_id)
        if ent.status == "active" and (owner is None or owner.sales_order_id not in r.skipped):
            found[ent.subscription_id] += 1
    return found


def entitlement_without_subscription(r: Records) -> int:
    subs = r.billing.subscriptions
    return sum(
        n
        for sub_id, n in _active_entitlements(r).items()
        # past due still entitles
        if (owner := subs.get(sub_id)) is None or owner.status not in ("active", "past_due")
    )


def duplicate_entitlement(r: Records) -> int:
    return sum(1 for n in _active_entitlements(r).values() if n > 1)


def onboarding_case_for_cancelled_order(r: Records) -> int:
    return sum(
        1
        for case in r.support.cases.values()
        if case.type == "onboarding"
        and case.status == "open"
        and case.sales_order_id not in r.skipped
        and r.gone(case.sales_order_id)
    )


def broken_cross_reference(r: Records) -> int:
    erp, billing = r.erp.customers, r.billing.customers
    return sum(
        1
        for a in r.crm.accounts.values()
        if (a.erp_customer_id and a.erp_customer_id not in erp)
        or (a.billing_customer_id and a.billing_customer_id not in billing)
    )


def duplicate_customer_after_merge(r: Records) -> int:
    found = 0
    for account in r.crm.accounts.values():
        if account.status == "merged":
            for holder in (r.erp, r.billing):
                record = holder.profile_record(account.id)
                found += record is not None and record.status != "merged"
    return found


def audit(
    checks: Mapping[str, Check], vendors: Mapping[str, Vendor], audited: Callable[[str], bool]
) -> dict[str, int]:
    """Count the data quality exceptions in the vendors' records.

    Args:
        checks: Check name -> check, in report order (``sim.vendors.CHECKS``).
        vendors: The run's vendor models by system name.
        audited: Whether a deal id is settled and not escalated (so audited).

    Returns:
        Check name -> number of exceptions, for every check.
    """
    records = Records.of(vendors, audited)
    return {name: check(records) for name, check in checks.items()}
