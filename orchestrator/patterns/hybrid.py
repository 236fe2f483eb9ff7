"""Hybrid: commit synchronously, propagate by events.

Sales waits only for what a promise needs (a valid account and an order the ERP
accepted); everything else follows the ``order.accepted`` event, like a restaurant
that confirms your table at once and cooks when the kitchen is ready. When billing
or provisioning is down the promise still stands; the broker redelivers the event
until the systems recover, and idempotency keys make each redelivery safe. When the
ERP is down there is no promise at all: the outbox pattern is the answer to that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Retryable
from orchestrator.events import ORDER_ACCEPTED, ORDER_LIVE, Message, Subscription
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    accept_order,
    cancel_order,
    commitment_payload,
    fulfil,
    order_saga,
    restore,
    validate_account,
)
from orchestrator.workflows.settle import settle

__all__ = ["Hybrid", "fulfil_accepted"]


class Hybrid:
    """Synchronous commitment, event-driven fulfilment."""

    name = "hybrid"
    amendments = "events"
    redriven: frozenset[str] = frozenset()

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        self.client = client

    def close(self, deal: Deal) -> Workflow:
        """Commit synchronously, then announce ``order.accepted``."""
        saga = order_saga(self.client, deal.id)
        try:
            # validate_account and accept_order, not one commit() around them: a
            # generator layer fewer for every call of the hot path.
            account = yield from validate_account(self.client, deal)
            customer_id, order_id = yield from accept_order(self.client, deal, account, saga)
            done = Commitment(deal, account, customer_id, order_id)
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        yield from self.client.publish(ORDER_ACCEPTED, deal.id, commitment_payload(done))

    def subscriptions(self) -> list[Subscription]:
        """``order.accepted`` starts the fulfilment."""
        return [Subscription(ORDER_ACCEPTED, "fulfilment", self.fulfil)]

    def background(self) -> list[Workflow]:
        """Nothing runs in the background."""
        return []

    def fulfil(self, message: Message) -> Workflow:
        """Fulfil one accepted order (see :func:`fulfil_accepted`)."""
        return fulfil_accepted(self.client, message)


def fulfil_accepted(client: Client, message: Message) -> Workflow:
    """Fulfil the order an ``order.accepted`` event announces.

    Raises:
        Retryable: A system stayed down past the per-call retry budget; the broker
            redelivers the event later (and dead-letters it at last).
    """
    done = restore(message.payload)
    deal_id = done.deal.id
    saga = order_saga(client, deal_id)
    saga.did("order", {"id": done.order_id}, cancel_order)
    try:
        invoice = yield from fulfil(client, done, saga)
    except Retryable:
        raise
    except CallError as exc:
        yield from settle(saga, deal_id, exc)
        return
    yield from client.publish(ORDER_LIVE, deal_id, {"orderId": done.order_id, "invoiceId": invoice})
