"""Event-driven choreography: no conductor, each system's adapter plays its part on cue.

Like a relay of postcards: the CRM's adapter posts "deal closed"; the ERP's
adapter, on reading it, creates the order and posts "order accepted"; billing's
adapter subscribes the customer and posts "subscription created"; and so on to the
invoice and "order live". Nobody holds the whole story: each postcard carries the
ids made so far. When a step is refused, its adapter posts an undo card naming the
steps done, latest first; each earlier adapter undoes its own step when the card
reaches it and passes it on, so the committed prefix is undone in reverse order,
and the last one announces the order compensated. Every adapter reads the undo
topic (several consumer groups on one topic), each acting only on its own turn.

A transient failure is handed back to the broker, which redelivers the card (the
idempotency key of each step makes the retry safe).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Rejected, Retryable
from orchestrator.events import (
    ORDER_ACCEPTED,
    ORDER_COMPENSATED,
    ORDER_FAILED,
    ORDER_LIVE,
    ORDER_REJECTED,
    XREF_STALE,
    Message,
    Subscription,
)
from orchestrator.saga import UndoFor, spent
from orchestrator.workflows.quote_to_cash import (
    cancel_order,
    cancel_subscription,
    close_case,
    customer_fields,
    revoke_entitlement,
    unstarted,
    validate_account,
    void_invoice,
    workflow_id,
)

__all__ = ["DEAL_CLOSED", "UNDO", "EventDriven"]

DEAL_CLOSED: Final = "deal.closed"
SUBSCRIPTION_CREATED: Final = "subscription.created"
ENTITLEMENT_CREATED: Final = "entitlement.created"
ONBOARDING_OPENED: Final = "onboarding.opened"
UNDO: Final = "fulfilment.undo"
"""Carries ``{"remaining": [steps to undo, latest first], ...}`` back along the chain."""

Payload = dict[str, Any]
Params = Callable[[Payload, Deal], Mapping[str, Any]]


class _Step:
    """One adapter's part: react to ``cue`` by making ``step``, then post ``next``."""

    def __init__(
        self,
        step: str,
        system: str,
        operation: str,
        cue: str,
        next_topic: str,
        params: Params,
        undo: UndoFor | None,
    ) -> None:
        self.step = step
        self.system = system
        self.operation = operation
        self.cue = cue
        self.next = next_topic
        self.params = params
        self.undo = undo


def _deal(payload: Payload) -> Deal:
    return Deal.from_json(payload["deal"])


STEPS = (
    _Step(
        "order",
        "erp",
        "createSalesOrder",
        DEAL_CLOSED,
        ORDER_ACCEPTED,
        lambda p, d: {
            "customerId": p["customerId"],
            "externalId": d.id,
            "currency": d.currency,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price}
                for line in d.lines
            ],
        },
        cancel_order,
    ),
    _Step(
        "subscription",
        "billing",
        "createSubscription",
        ORDER_ACCEPTED,
        SUBSCRIPTION_CREATED,
        lambda p, d: {
            "customer": {
                "externalId": p["account"]["id"],
                "name": p["account"]["name"],
                "email": p["account"]["email"],
                "erpCustomerId": p["customerId"],
            },
            "plan": d.plan,
            "sku": d.lines[0].sku,
            "quantity": d.seats,
            "unitPrice": d.lines[0].unit_price,
            "currency": d.currency,
            "amount": d.total,
            "salesOrderId": p["orderId"],
            "dealId": d.id,
        },
        cancel_subscription,
    ),
    _Step(
        "entitlement",
        "provisioning",
        "createEntitlement",
        SUBSCRIPTION_CREATED,
        ENTITLEMENT_CREATED,
        lambda p, d: {
            "accountId": p["account"]["id"],
            "subscriptionId": p["subscription"]["id"],
            "plan": d.plan,
            "seats": d.seats,
            "dealId": d.id,
        },
        revoke_entitlement,
    ),
    _Step(
        "onboarding",
        "support",
        "createCase",
        ENTITLEMENT_CREATED,
        ONBOARDING_OPENED,
        lambda p, d: {
            "accountId": p["account"]["id"],
            "type": "onboarding",
            "subject": f"Onboard {p['account']['name']} ({d.plan})",
            "salesOrderId": p["orderId"],
            "dealId": d.id,
        },
        close_case,
    ),
    _Step(
        "invoice",
        "erp",
        "createInvoice",
        ONBOARDING_OPENED,
        ORDER_LIVE,
        lambda p, d: {
            "salesOrderId": p["orderId"],
            "amount": d.total,
            "currency": d.currency,
        },
        void_invoice,
    ),
)
ORDER = [s.step for s in STEPS]


class EventDriven:
    """Choreography: each system's adapter reacts to the event of the step before."""

    name = "event_driven"
    amendments = "events"
    redriven: frozenset[str] = frozenset()

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        self.client = client

    def close(self, deal: Deal) -> Workflow:
        """The CRM's adapter: announce the closed deal of an active account."""
        client = self.client
        try:
            account = yield from validate_account(client, deal)
        except CallError as exc:
            topic = ORDER_REJECTED if isinstance(exc, Rejected) else ORDER_FAILED
            yield from client.publish(topic, deal.id, unstarted(exc, deal.id))
            return
        event = {"deal": deal.as_json(), "account": account}
        yield from client.publish(DEAL_CLOSED, deal.id, event)

    def subscriptions(self) -> list[Subscription]:
        """Each adapter's cue, and every adapter on the undo topic."""
        found = [Subscription(s.cue, f"{s.system}-{s.step}", self._play(s)) for s in STEPS]
        found += [
            Subscription(UNDO, f"{s.system}-{s.step}-undo", self._undo(s))
            for s in STEPS
            if s.undo is not None
        ]
        return found

    def background(self) -> list[Workflow]:
        """Nothing runs in the background."""
        return []

    def _play(self, step: _Step) -> Callable[[Message], Workflow]:
        client = self.client

        def handle(message: Message) -> Workflow:
            payload: Payload = dict(message.payload)
            deal = _deal(payload)
            try:
                if step.step == "order":
                    customer = yield from client.call(
                        workflow_id(deal.id),
                        "customer",
                        "erp",
                        "upsertCustomer",
                        customer_fields(deal, payload["account"]),
                        correlation=deal.id,
                    )
                    payload["customerId"] = customer["id"]
                body = yield from client.call(
                    workflow_id(deal.id),
                    step.step,
                    step.system,
                    step.operation,
                    step.params(payload, deal),
                    correlation=deal.id,
                )
            except Retryable:
                raise
            except CallError as exc:
                done = ORDER[: ORDER.index(step.step)]
                if not done:
                    yield from client.publish(ORDER_REJECTED, deal.id, unstarted(exc, deal.id))
                    return "rejected"
                undo = {**payload, "remaining": done[::-1], "reason": str(exc)}
                undo["budget"] = spent(exc)  # what the step spent: a refusal, one attempt
                yield from client.publish(UNDO, deal.id, undo)
                return "undoing"
            payload[step.step] = body
            if step.step == "order":
                # order.accepted has one shape in every pattern: the commitment's
                # deal, account, customerId and orderId (here with the steps' bodies)
                payload["orderId"] = body["id"]
            if step.next == ORDER_LIVE:
                yield from _write_back(client, deal, payload)
                live = {"orderId": payload["orderId"], "invoiceId": body["id"]}
                yield from client.publish(ORDER_LIVE, deal.id, live)
            else:
                yield from client.publish(step.next, deal.id, payload)
            return "applied"

        return handle

    def _undo(self, step: _Step) -> Callable[[Message], Workflow]:
        client = self.client

        def handle(message: Message) -> Workflow:
            payload: Payload = dict(message.payload)
            remaining = list(payload["remaining"])
            if not remaining or remaining[0] != step.step:
                return "skipped"  # not this adapter's turn
            deal = _deal(payload)
            assert step.undo is not None
            system, operation, params = step.undo(payload[step.step])
            retry = client.policy.compensation_retry
            yield from client.call(
                workflow_id(deal.id),
                f"{step.step}:undo",
                system,
                operation,
                params,
                retry=retry,
                correlation=deal.id,
            )
            rest = remaining[1:]
            if rest:
                yield from client.publish(UNDO, deal.id, {**payload, "remaining": rest})
            else:
                ending = {"reason": payload.get("reason", ""), "budget": payload.get("budget")}
                yield from client.publish(ORDER_COMPENSATED, deal.id, ending)
            return "applied"

        return handle


def _write_back(client: Client, deal: Deal, payload: Payload) -> Workflow:
    """Link the ids on the CRM account; a failure is a chore for a person."""
    account = payload["account"]
    customer_id = payload["customerId"]
    billing_id = payload["subscription"]["customerId"]
    linked = (account.get("erpCustomerId"), account.get("billingCustomerId"))
    if linked == (customer_id, billing_id):
        return
    try:
        yield from client.call(
            workflow_id(deal.id),
            "xref",
            "crm",
            "updateAccount",
            {"id": account["id"], "erpCustomerId": customer_id, "billingCustomerId": billing_id},
            correlation=deal.id,
        )
    except CallError as exc:
        stale = {"accountId": account["id"], "reason": str(exc)}
        yield from client.publish(XREF_STALE, deal.id, stale)
