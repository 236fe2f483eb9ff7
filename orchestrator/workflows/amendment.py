"""Amendments: a live subscription changes (seats, plan), renews, or is cancelled.

Like a tailor altering a suit already delivered: the customer asks in the shop (the
CRM), the till charges or refunds the difference for the rest of the season
(billing's proration), the books record the change (an ERP change order with an
additional invoice or a credit memo) and the workshop adjusts the garment
(provisioning's seats). Each amendment is its own saga with its own id,
``amend:D-000042:3``, so its idempotency keys never meet the first order's.

Amendments of one subscription may run at once and overtake each other. Billing
orders them (each takes the next version of the subscription); provisioning then
takes the seats only from a newer version than it holds, so whichever write
arrives last, the seats end at billing's newest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from orchestrator.client import Client
from orchestrator.effects import Sleep, Workflow
from orchestrator.errors import CallError, Conflict, Rejected, Retryable
from orchestrator.events import AMENDMENT, AMENDMENT_ACCEPTED, AMENDMENT_APPLIED, Message
from orchestrator.saga import Saga
from orchestrator.workflows.declaration import Declaration, deal_of
from orchestrator.workflows.settle import settle

__all__ = [
    "DECLARED",
    "Amendment",
    "Kind",
    "accept_amendment",
    "accepted_saga",
    "amend",
    "applied",
    "note_outcome",
    "post_accepted",
    "post_books",
    "settle_amendment",
    "sync_seats",
    "workflow_id",
]

Kind = Literal["seats", "plan", "renewal", "cancel"]

DECLARED = Declaration("amend", "amendment", AMENDMENT_APPLIED, "applied", AMENDMENT)
"""Amendments in the books: ``amend:<deal>:<n>``, applied or one of the ``AMENDMENT``
endings."""

WAIT_STEP = 600.0
"""How often an amendment looks again for a subscription or seats not there yet."""


class Amendment(NamedTuple):
    """One change sales made to a deal's subscription.

    Attributes:
        deal_id: The deal whose subscription changes.
        number: The deal's n-th amendment (1, 2, ...).
        kind: What changes.
        seats: The new seat count (``seats``), else unused.
        plan: The new plan (``plan``), else unused.
        unit_price: The new plan's price per seat (``plan``), else unused.
        wait: How long to wait for a subscription still being fulfilled.
    """

    deal_id: str
    number: int
    kind: Kind
    seats: int = 0
    plan: str = ""
    unit_price: float = 0.0
    wait: float = 86400.0

    @property
    def id(self) -> str:
        """The workflow id, ``amend:<deal>:<n>``: keys and books go by it."""
        return workflow_id(self.deal_id, self.number)


def workflow_id(deal_id: str, number: int) -> str:
    """The id of a deal's ``number``-th amendment."""
    return DECLARED.id(deal_id, number)


def amend(client: Client, amendment: Amendment) -> Workflow:
    """Carry one amendment through billing, the ERP and provisioning, or undo it all:
    the synchronous chain's way.

    Publishes ``amendment.applied`` or one of the ``AMENDMENT`` endings, keyed by
    the deal, with the amendment's id as ``workflow``.
    """
    wf, deal = amendment.id, amendment.deal_id
    saga = Saga(wf, client, deal)
    try:
        sub, changed = yield from _bill(client, saga, amendment)
        amount = _amount(changed)
        yield from post_books(client, saga, wf, sub["salesOrderId"], amount, sub["currency"])
        if amendment.kind != "renewal":
            yield from sync_seats(client, wf, "seats", changed["subscription"], amendment.wait)
    except CallError as exc:
        yield from settle_amendment(client, saga, deal, exc, amendment.wait)
        return
    yield from applied(client, wf, deal, amendment.kind, amount)


def accept_amendment(client: Client, amendment: Amendment) -> Workflow:
    """Commit an amendment where the customer sees it (billing, provisioning) and
    announce ``amendment.accepted`` for the ERP's books: the hybrid way, so an ERP
    outage delays the books instead of refusing the customer."""
    wf, deal = amendment.id, amendment.deal_id
    saga = Saga(wf, client, deal)
    try:
        sub, changed = yield from _bill(client, saga, amendment)
        if amendment.kind != "renewal":
            yield from sync_seats(client, wf, "seats", changed["subscription"], amendment.wait)
    except CallError as exc:
        yield from settle_amendment(client, saga, deal, exc, amendment.wait)
        return
    posting = {
        "workflow": wf,
        "kind": amendment.kind,
        "subscriptionId": sub["id"],
        "salesOrderId": sub["salesOrderId"],
        "currency": sub["currency"],
        "amount": _amount(changed),
        "wait": amendment.wait,
    }
    yield from client.publish(AMENDMENT_ACCEPTED, deal, posting)


def post_accepted(client: Client, message: Message) -> Workflow:
    """Post an accepted amendment to the ERP's books (the consumer of
    ``amendment.accepted``); the ERP refusing it undoes the amendment in billing.

    Raises:
        Retryable: The ERP stayed down past the retry budget: the broker delivers
            the event again later, and dead-letters it at last (a manual item).
    """
    posting = message.payload
    wf, deal = posting["workflow"], message.key
    saga = accepted_saga(client, posting)
    amount = posting["amount"]
    try:
        yield from post_books(
            client, saga, wf, posting["salesOrderId"], amount, posting["currency"]
        )
    except Retryable:
        raise
    except CallError as exc:
        yield from settle_amendment(client, saga, deal, exc, posting["wait"])
        return
    yield from applied(client, wf, deal, posting["kind"], amount)


def accepted_saga(client: Client, posting: Mapping[str, Any]) -> Saga:
    """The saga of an accepted amendment whose ERP books are still to come: billing
    committed it earlier, so an ERP refusal undoes it there."""
    wf = posting["workflow"]
    saga = Saga(wf, client, deal_of(wf))
    saga.did(
        "billing",
        {"subscription": {"id": posting["subscriptionId"]}, "amendmentId": wf},
        revert_amendment,
    )
    return saga


def applied(client: Client, wf: str, deal: str, kind: str, amount: float) -> Workflow:
    """An amendment is in billing, the ERP and provisioning: note it, announce it."""
    yield from note_outcome(client, wf, deal, "applied")
    yield from client.publish(
        AMENDMENT_APPLIED, deal, {"workflow": wf, "kind": kind, "amount": amount}
    )


def post_books(
    client: Client, saga: Saga, wf: str, order: str, amount: float, currency: str
) -> Workflow:
    """The ERP's side: a change order, then an additional invoice or a credit memo."""
    yield from saga.step(
        "change",
        "erp",
        "createChangeOrder",
        {"salesOrderId": order, "amendmentId": wf, "amount": amount},
        cancel_change_order,
    )
    if amount:
        yield from saga.step(
            "books",
            "erp",
            "createInvoice" if amount > 0 else "createCreditMemo",
            _document(order, amount, currency, wf),
            void_invoice if amount > 0 else void_credit_memo,
        )


def _document(order: str, amount: float, currency: str, wf: str) -> dict[str, Any]:
    """An additional invoice or a credit memo, naming the amendment it books."""
    return {"salesOrderId": order, "amount": amount, "currency": currency, "amendmentId": wf}


def _bill(client: Client, saga: Saga, amendment: Amendment) -> Workflow:
    """Find the deal's subscription (waiting while it is fulfilled) and amend it.

    Returns:
        ``(subscription as found, billing's answer)`` (via ``yield from``).
    """
    wf = amendment.id
    sub = yield from _waiting(
        client,
        wf,
        "find",
        "billing",
        "findSubscription",
        {"dealId": amendment.deal_id},
        amendment.wait,
    )
    changed = yield from saga.step(
        "billing",
        "billing",
        "amendSubscription",
        {"id": sub["id"], "amendmentId": wf, **_change(amendment)},
        revert_amendment,
    )
    return sub, changed


def _amount(changed: Mapping[str, Any]) -> float:
    adjustment = changed["adjustment"]
    return float(adjustment["amount"]) if adjustment else 0.0


def settle_amendment(
    client: Client, saga: Saga, deal: str, error: CallError, wait: float
) -> Workflow:
    """Settle a failed amendment; after an undo, provisioning follows billing again."""
    ending = yield from settle(saga, deal, error, announce=False, endings=AMENDMENT)
    if ending[0] == AMENDMENT.compensated:
        yield from _resync(client, saga.workflow_id, deal, wait)
        yield from note_outcome(client, saga.workflow_id, deal, "undone")
    yield from client.publish(ending[0], deal, ending[1])


def _change(amendment: Amendment) -> dict[str, Any]:
    if amendment.kind == "seats":
        return {"kind": "seats", "quantity": amendment.seats}
    if amendment.kind == "plan":
        return {"kind": "plan", "plan": amendment.plan, "unitPrice": amendment.unit_price}
    return {"kind": amendment.kind}


def sync_seats(client: Client, wf: str, step: str, sub: Mapping[str, Any], wait: float) -> Workflow:
    """Give provisioning the seats billing holds at ``sub``'s version (a sub-workflow).

    A conditional write, so it carries no idempotency key; an older version than
    provisioning holds is refused, which is no failure: a newer amendment won.
    """
    seats = 0 if sub["status"] == "cancelled" else sub["quantity"]
    params = {
        "subscriptionId": sub["id"],
        "seats": seats,
        "plan": sub["plan"],
        "sourceVersion": sub["version"],
        "ifNewer": client.policy.ordering,
    }
    try:
        yield from _waiting(client, wf, step, "provisioning", "setSeats", params, wait, write=False)
    except Conflict as exc:
        if exc.code != "STALE_VERSION":
            raise


def _resync(client: Client, wf: str, deal: str, wait: float) -> Workflow:
    """After an undo, provisioning follows billing again (its seats may have moved)."""
    # Should this fail, the subscription's next amendment, or reconciliation, sets it right.
    with contextlib.suppress(CallError):
        sub = yield from client.call(
            wf,
            "recheck",
            "billing",
            "findSubscription",
            {"dealId": deal},
            write=False,
            correlation=deal,
        )
        yield from sync_seats(client, wf, "reseat", sub, wait)


def _waiting(
    client: Client,
    wf: str,
    step: str,
    system: str,
    operation: str,
    params: Mapping[str, Any],
    wait: float,
    write: bool = False,
) -> Workflow:
    """Call, and while the record is not there yet (404), look again later."""
    waited = 0.0
    while True:
        try:
            return (
                yield from client.call(
                    wf, step, system, operation, params, write=write, correlation=deal_of(wf)
                )
            )
        except Rejected as exc:
            if exc.status != 404 or waited >= wait:
                raise
        yield Sleep(WAIT_STEP)
        waited += WAIT_STEP


def note_outcome(client: Client, wf: str, deal: str, status: str) -> Workflow:
    """Write the outcome on the CRM opportunity; a failure there is no reason to undo."""
    with contextlib.suppress(CallError):
        yield from client.call(
            wf,
            "note",
            "crm",
            "recordAmendment",
            {"dealId": deal, "amendmentId": wf, "status": status},
            correlation=deal,
        )


def revert_amendment(changed: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``billing.amendSubscription``."""
    sub = changed["subscription"]
    return "billing", "revertAmendment", {"id": sub["id"], "amendmentId": changed["amendmentId"]}


def cancel_change_order(change: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``erp.createChangeOrder``."""
    return "erp", "cancelChangeOrder", {"id": change["id"]}


def void_invoice(invoice: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of an additional ``erp.createInvoice``."""
    return "erp", "voidInvoice", {"id": invoice["id"]}


def void_credit_memo(memo: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """The undo of ``erp.createCreditMemo``."""
    return "erp", "voidCreditMemo", {"id": memo["id"]}
