"""Revenue leakage and entitlement drift: what finance and IT find at month end.

The controller lays billing's invoices beside the ERP's, subscription by
subscription, and the IT admin lays the seats billing charges for beside the seats
provisioning grants. Each difference is money or access nobody agreed to, and each
is put down to the workflow of that deal that did not finish: the first order or
an amendment still in flight, escalated to people, or abandoned without
compensation; or to a price mismatch (billing charged its price list, the ERP
invoiced the quote's). A difference nothing explains is ``unexplained``: the sign
of a bug or an anti-pattern.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sim.systems import Billing, Erp, Provisioning
from sim.systems.provisioning import GRANTING

__all__ = ["CAUSES", "leakage"]

CAUSES = (
    "order in flight",
    "order escalated",
    "order abandoned",
    "amendment in flight",
    "amendment escalated",
    "amendment abandoned",
    "price mismatch",
    "unexplained",
)
"""What a difference is put down to, in report order."""

CENT = 0.005


def leakage(
    billing: Billing,
    erp: Erp,
    provisioning: Provisioning,
    cause: Callable[[str], str],
) -> dict[str, Any]:
    """Compare billing with the ERP (money) and with provisioning (seats), per deal.

    Args:
        billing: The billing model.
        erp: The ERP model.
        provisioning: The provisioning model.
        cause: Deal id -> the cause its differences are put down to (see ``CAUSES``).

    Returns:
        ``revenue_leakage`` (amounts per currency: billed but not invoiced in the
        ERP, invoiced but not billed, and by cause) and ``entitlement_drift``
        (seats provisioned but not billed, billed but not provisioned,
        subscriptions that differ, and by cause).
    """
    invoiced: defaultdict[str, float] = defaultdict(float)  # by sales order
    for invoice in erp.invoices.values():
        if invoice.status != "voided":
            invoiced[invoice.sales_order_id] += invoice.amount
    for memo in erp.credit_memos.values():
        if memo.status != "voided":
            invoiced[memo.sales_order_id] += memo.amount
    money: dict[str, defaultdict[str, float]] = {
        side: defaultdict(float) for side in ("billed_not_invoiced", "invoiced_not_billed")
    }
    money_causes: defaultdict[str, float] = defaultdict(float)
    seats = {"seats_provisioned_not_billed": 0, "seats_billed_not_provisioned": 0}
    seat_causes: defaultdict[str, int] = defaultdict(int)
    drifting = 0
    for sub in billing.subscriptions.values():
        billed = sum(
            invoice.amount
            for invoice in billing.invoices_of.get(sub.id, ())
            if invoice.status != "void"
        )
        gap = round(billed - invoiced.get(sub.sales_order_id, 0.0), 2)
        if abs(gap) > CENT:
            side = "billed_not_invoiced" if gap > 0 else "invoiced_not_billed"
            money[side][sub.currency] += abs(gap)
            money_causes[cause(sub.deal_id)] += abs(gap)
        charged = sub.quantity if sub.status != "cancelled" else 0
        granted = sum(
            ent.seats
            for ent in provisioning.by_subscription.get(sub.id, ())
            if ent.status in GRANTING
        )
        if charged != granted:
            drifting += 1
            if granted > charged:
                seats["seats_provisioned_not_billed"] += granted - charged
            else:
                seats["seats_billed_not_provisioned"] += charged - granted
            seat_causes[cause(sub.deal_id)] += abs(granted - charged)
    return {
        "revenue_leakage": {
            **{side: _rounded(amounts) for side, amounts in money.items()},
            "by_cause": _rounded(money_causes),
        },
        "entitlement_drift": {
            **seats,
            "subscriptions": drifting,
            "by_cause": {c: seat_causes[c] for c in CAUSES if seat_causes[c]},
        },
    }


def _rounded(amounts: dict[str, float]) -> dict[str, float]:
    return {key: round(amounts[key], 2) for key in sorted(amounts, key=_order) if amounts[key]}


def _order(key: str) -> tuple[int, str]:
    return (CAUSES.index(key) if key in CAUSES else -1, key)
