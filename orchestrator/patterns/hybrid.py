"""Hybrid: commit synchronously, propagate by events.

Sales waits only for what a promise needs (a valid account and an order the ERP
accepted); everything else follows the ``order.accepted`` event, like a restaurant
that confirms your table at once and cooks when the kitchen is ready. When billing
or provisioning is down the promise still stands; the broker redelivers the event
until the systems recover, and idempotency keys make each redelivery safe.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Publish, Workflow
from orchestrator.errors import CallError, Retryable
from orchestrator.events import ORDER_ACCEPTED, ORDER_LIVE, Handler, Message
from orchestrator.patterns.settle import settle
from orchestrator.saga import Saga
from orchestrator.workflows.quote_to_cash import (
    cancel_order,
    commit,
    commitment_payload,
    fulfil,
    restore,
)

__all__ = ["Hybrid"]


class Hybrid:
    """Synchronous commitment, event-driven fulfilment."""

    name = "hybrid"

    def __init__(self, client: Client) -> None:
        self.client = client

    def close(self, deal: Deal) -> Workflow:
        """Commit synchronously, then announce ``order.accepted``."""
        saga = Saga(deal.id, self.client)
        try:
            done = yield from commit(self.client, deal, saga)
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        yield Publish(ORDER_ACCEPTED, deal.id, commitment_payload(done))

    def handlers(self) -> Mapping[str, Handler]:
        """``order.accepted`` starts the fulfilment."""
        return {ORDER_ACCEPTED: self.fulfil}

    def fulfil(self, message: Message) -> Workflow:
        """Fulfil one accepted order; a transient failure goes back to the broker.

        Raises:
            Retryable: A system stayed down past the per-call retry budget; the
                broker redelivers the event later (and dead-letters it at last).
        """
        done = restore(message.payload)
        deal_id = done.deal.id
        saga = Saga(deal_id, self.client)
        saga.did("order", {"id": done.order_id}, cancel_order)
        try:
            invoice = yield from fulfil(self.client, done, saga)
        except Retryable:
            raise
        except CallError as exc:
            yield from settle(saga, deal_id, exc)
            return
        yield Publish(ORDER_LIVE, deal_id, {"orderId": done.order_id, "invoiceId": invoice})
