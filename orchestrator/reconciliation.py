"""Reconciliation: the night shift that lays the systems' books side by side.

Like a stock-take after closing time: the night shift reads billing's export,
the ERP's saved search and provisioning's seat list, matches them by cross-reference
(the sales order on each subscription, the amendment id on each adjustment and
change order), and fixes what it safely can through the same client the day's
workflows use. An amendment billing holds but the ERP does not is posted with the
amendment's own idempotency keys, so should the original posting still arrive
(a redelivery, a batch), the ERP answers it from its key store instead of booking
it twice. Seats follow billing's version by a conditional write. Whatever it cannot
decide (the ERP holds an amendment billing has undone, a live subscription on a
cancelled order, a repair refused) is filed for people, with its reason.

Records changed within ``grace`` are left for the next night: work still in flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from orchestrator.client import Client
from orchestrator.effects import NOW, Workflow
from orchestrator.errors import CallError, Retryable
from orchestrator.events import RECONCILED
from orchestrator.saga import Saga
from orchestrator.workflows.amendment import post_books, sync_seats

__all__ = ["Finding", "reconcile"]

CENT = 0.005


class Finding(NamedTuple):
    """One divergence the night shift found.

    Attributes:
        deal: The deal whose records differ.
        what: What differs, e.g. ``"amendment missing in the ERP"``.
        since: When billing last changed the record (when it diverged, at the latest).
        outcome: ``"repaired"``, ``"manual"`` or ``"retry"`` (a repair the systems
            could not take tonight; tried again tomorrow).
        reason: Why it is not repaired, if it is not.
    """

    deal: str
    what: str
    since: float
    outcome: str
    reason: str = ""


def reconcile(client: Client, run: int, repair: bool = True, grace: float = 3600.0) -> Workflow:
    """One reconciliation run; publishes ``reconciliation.completed`` with its findings.

    Args:
        client: The client repairs go through.
        run: The run's number (its workflow id is ``recon:<run>``).
        repair: Repair what is safe; False: only report.
        grace: Leave records changed this recently alone.

    Returns:
        The findings (via ``yield from``).
    """
    wf = f"recon:{run}"
    now = yield NOW
    try:
        subs = yield from _read(client, wf, "billing", "exportSubscriptions", "subscriptions")
        orders = yield from _read(client, wf, "erp", "exportOrders", "orders")
        seats = yield from _read(client, wf, "provisioning", "exportSeats", "seats")
    except CallError as exc:
        yield from client.publish(RECONCILED, wf, {"run": run, "failed": str(exc), "findings": []})
        return []
    by_id = {order["id"]: order for order in orders}
    findings: list[Finding] = []
    for sub in subs:
        if now - sub["changedAt"] < grace or not sub["dealId"]:
            continue
        order = by_id.get(sub["salesOrderId"])
        if order is None:
            continue  # the first order's own books (audit) cover a missing order
        found = yield from _books(client, sub, order, repair)
        findings += found
        found = yield from _seats(client, wf, sub, seats, repair)
        findings += found
    payload = {"run": run, "findings": [f._asdict() for f in findings]}
    yield from client.publish(RECONCILED, wf, payload)
    return findings


def _read(client: Client, wf: str, system: str, operation: str, field: str) -> Workflow:
    answer = yield from client.call(wf, f"read:{system}", system, operation, {}, write=False)
    return answer[field]


def _books(
    client: Client, sub: Mapping[str, Any], order: Mapping[str, Any], repair: bool
) -> Workflow:
    """Amendments billing holds and the ERP lacks, and the other way round."""
    deal, since = sub["dealId"], sub["changedAt"]
    held = set(order["amendments"])
    found = []
    live = order["status"] != "cancelled"
    missing = 0.0
    for wf, amount in sub["adjustments"].items():
        if wf in held:
            continue
        missing += amount
        what = "amendment missing in the ERP"
        if not live:
            found.append(Finding(deal, what, since, "manual", "the sales order is cancelled"))
            continue
        if not repair:
            found.append(Finding(deal, what, since, "manual", "repair is off"))
            continue
        try:
            # The amendment's own keys: a late original posting is answered as held.
            yield from post_books(
                client, Saga(wf, client, deal), wf, sub["salesOrderId"], amount, sub["currency"]
            )
        except Retryable as exc:
            found.append(Finding(deal, what, since, "retry", str(exc)))
        except CallError as exc:
            found.append(Finding(deal, what, since, "manual", str(exc)))
        else:
            found.append(Finding(deal, what, since, "repaired"))
    extra = held - set(sub["amendments"])
    for wf in sorted(extra):
        found.append(Finding(deal, "amendment in the ERP that billing undid", since, "manual", wf))
    gap = round(sub["billed"] - order["invoiced"] - missing, 2)
    if abs(gap) > CENT and not extra:
        found.append(Finding(deal, "amounts differ", since, "manual", f"{gap:+.2f}"))
    return found


def _seats(
    client: Client, wf: str, sub: Mapping[str, Any], seats: Mapping[str, int], repair: bool
) -> Workflow:
    """Seats provisioning grants against the seats billing charges for."""
    deal, since = sub["dealId"], sub["changedAt"]
    want = 0 if sub["status"] == "cancelled" else sub["quantity"]
    have = seats.get(sub["id"])
    if have is None or have == want:
        return []  # no entitlement at all is the first order's (the audit's) business
    what = "seats differ from billing"
    if not repair:
        return [Finding(deal, what, since, "manual", "repair is off")]
    try:
        yield from sync_seats(client, wf, f"seats:{sub['id']}", sub, 0.0)
    except Retryable as exc:
        return [Finding(deal, what, since, "retry", str(exc))]
    except CallError as exc:
        return [Finding(deal, what, since, "manual", str(exc))]
    return [Finding(deal, what, since, "repaired")]
