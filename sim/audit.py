"""The end-of-run consistency audit across the vendor models.

An auditor at quarter end walks from system to system with one question: does
every record have the partners it should, and no twins? A subscription whose
sales order was cancelled, an entitlement with no live subscription, two sales
orders for one deal: each is a data quality exception someone must fix by hand.

Deals still in flight (partial state is expected) and deals already escalated
(they sit in the manual queue) are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sim.systems import Billing, Crm, Erp, Provisioning, Support

__all__ = ["CHECKS", "audit"]

CHECKS = (
    "duplicate_sales_order",
    "order_neither_billed_nor_cancelled",
    "invoice_for_cancelled_order",
    "subscription_without_order",
    "duplicate_subscription",
    "entitlement_without_subscription",
    "duplicate_entitlement",
    "onboarding_case_for_cancelled_order",
    "broken_cross_reference",
    "duplicate_customer_after_merge",
)
"""Every check the audit runs, in report order."""


def audit(
    crm: Crm,
    erp: Erp,
    billing: Billing,
    provisioning: Provisioning,
    support: Support,
    audited: Callable[[str], bool],
) -> dict[str, int]:
    """Count the data quality exceptions in the vendors' records.

    Args:
        crm: The CRM model.
        erp: The ERP model.
        billing: The billing model.
        provisioning: The provisioning model.
        support: The support model.
        audited: Whether a deal id is settled and not escalated (so audited).

    Returns:
        Check name -> number of exceptions, for every check in ``CHECKS``.
    """
    found: Counter[str] = Counter()
    orders = erp.orders

    def deal_of(order_id: str) -> str | None:
        order = orders.get(order_id)
        return order.external_id if order is not None else None

    live_orders: Counter[str] = Counter()
    for order in orders.values():
        if not audited(order.external_id):
            continue
        if order.status != "cancelled":
            live_orders[order.external_id] += 1
            if order.status != "billed":
                found["order_neither_billed_nor_cancelled"] += 1
    found["duplicate_sales_order"] = sum(1 for n in live_orders.values() if n > 1)
    for invoice in erp.invoices.values():
        deal = deal_of(invoice.sales_order_id)
        if (
            invoice.status != "voided"
            and deal is not None
            and audited(deal)
            and orders[invoice.sales_order_id].status == "cancelled"
        ):
            found["invoice_for_cancelled_order"] += 1

    subs_per_order: Counter[str] = Counter()
    for sub in billing.subscriptions.values():
        deal = deal_of(sub.sales_order_id)
        if sub.status not in ("active", "past_due") or (deal is not None and not audited(deal)):
            continue
        if deal is None or orders[sub.sales_order_id].status == "cancelled":
            found["subscription_without_order"] += 1
        subs_per_order[sub.sales_order_id] += 1
    found["duplicate_subscription"] = sum(1 for n in subs_per_order.values() if n > 1)

    ents_per_sub: Counter[str] = Counter()
    for ent in provisioning.entitlements.values():
        owner = billing.subscriptions.get(ent.subscription_id)
        deal = deal_of(owner.sales_order_id) if owner is not None else None
        if ent.status != "active" or (deal is not None and not audited(deal)):
            continue
        if owner is None or owner.status not in ("active", "past_due"):  # past due still entitles
            found["entitlement_without_subscription"] += 1
        ents_per_sub[ent.subscription_id] += 1
    found["duplicate_entitlement"] = sum(1 for n in ents_per_sub.values() if n > 1)

    for case in support.cases.values():
        if case.type != "onboarding" or case.status != "open":
            continue
        deal = deal_of(case.sales_order_id)
        if deal is not None and not audited(deal):
            continue
        if deal is None or orders[case.sales_order_id].status == "cancelled":
            found["onboarding_case_for_cancelled_order"] += 1

    for account in crm.accounts.values():
        if (account.erp_customer_id and account.erp_customer_id not in erp.customers) or (
            account.billing_customer_id and account.billing_customer_id not in billing.customers
        ):
            found["broken_cross_reference"] += 1
    for account in crm.accounts.values():
        if account.status == "merged":
            for holder in (erp, billing):
                record = holder.profile_record(account.id)
                if record is not None and record.status != "merged":
                    found["duplicate_customer_after_merge"] += 1
    return {check: found[check] for check in CHECKS}
