"""The synchronous chain: the deal's closing waits for every system in turn.

Like a relay race where the baton must reach the last runner before anyone may
cheer: the commitment sales sees is the end of the whole chain, so one slow or
down system holds up (or loses) every commitment behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.errors import CallError
from orchestrator.events import ORDER_ACCEPTED, ORDER_LIVE, Subscription
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    accept_order,
    commitment_payload,
    fulfil,
    order_saga,
    validate_account,
)
from orchestrator.workflows.settle import settle

__all__ = ["SyncChain"]


class SyncChain:
    """Commit and fulfil in one synchronous saga per deal."""

    name = "sync_chain"
    amendments = "saga"
    redriven: frozenset[str] = frozenset()

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        self.client = client

    def close(self, deal: Deal) -> Workflow:
        """Run the whole chain; commit only when every step succeeded."""
        saga = order_saga(self.client, deal.id)
        try:
            # validate_account and accept_order, not one commit() around them: a
            # generator layer fewer for every call of the hot path.
            account = yield from validate_account(self.client, deal)
            customer_id, order_id = yield from accept_order(self.client, deal, account, saga)
            done = Commitment(deal, account, customer_id, order_id)
            invoice = yield from fulfil(self.client, done, saga)
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        publish = self.client.publish
        # one shape per topic, whichever pattern announces it: the hybrid's and the
        # outbox's fulfilment reads this very body
        yield from publish(ORDER_ACCEPTED, deal.id, commitment_payload(done))
        yield from publish(ORDER_LIVE, deal.id, {"orderId": done.order_id, "invoiceId": invoice})

    def subscriptions(self) -> list[Subscription]:
        """No event-triggered work: everything happened in ``close``."""
        return []

    def background(self) -> list[Workflow]:
        """Nothing runs in the background."""
        return []
