"""Outbox: promise locally, tell the ERP by event, and never lose either half.

Sales gets its commitment from the orchestrator's own order store, in the same
local transaction that writes the event announcing it (the outbox), like a shop
that writes the order in its own book and in the dispatch list with one stroke of
the pen. A relay reads the outbox and publishes; the ERP order is created from
the event, whenever the ERP is up. A commitment therefore survives an ERP outage,
and a message broker outage too. The price: the ERP may still say no afterwards
(a credit hold), and then the commitment must be revoked, which sales notices
(``commitments_revoked``).

Settings (``patterns.outbox``): ``relay_every`` seconds between outbox polls while
there is work, backing off (doubling) to ``relay_idle`` while the outbox stays empty,
as polling publishers do to spare the database; ``batch`` entries per poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Sleep, Workflow
from orchestrator.errors import CallError, Rejected, Retryable
from orchestrator.events import (
    ORDER_ACCEPTED,
    ORDER_COMMITTED,
    ORDER_REVOKED,
    Message,
    Subscription,
)
from orchestrator.patterns.hybrid import fulfil_accepted
from orchestrator.patterns.settle import settle
from orchestrator.saga import Saga
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    accept_order,
    commitment_payload,
    validate_account,
)

__all__ = ["Outbox"]

RELAY = "outbox-relay"
"""The relay's workflow id (and correlation) in logs and keys."""


class Outbox:
    """Local commitment with a transactional outbox; the ERP follows by event."""

    name = "outbox"

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        settings = settings or {}
        self.client = client
        self.relay_every = float(settings.get("relay_every", 1.0))
        self.relay_idle = max(self.relay_every, float(settings.get("relay_idle", 8.0)))
        self.batch = int(settings.get("batch", 100))

    def close(self, deal: Deal) -> Workflow:
        """Validate the account, then commit locally with the outbox entry."""
        client = self.client
        saga = Saga(deal.id, client)
        try:
            account = yield from validate_account(client, deal)
            committed = yield from client.call(
                deal.id,
                "commit",
                "oms",
                "commitOrder",
                {
                    "dealId": deal.id,
                    "accountId": deal.account_id,
                    "outbox": [
                        {
                            "topic": ORDER_COMMITTED,
                            "key": deal.id,
                            "payload": {"deal": deal, "account": account},
                        }
                    ],
                },
            )
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        return committed

    def subscriptions(self) -> list[Subscription]:
        """The ERP follows the commitment; fulfilment follows the ERP."""
        return [
            Subscription(ORDER_COMMITTED, "erp-order", self.place),
            Subscription(ORDER_ACCEPTED, "fulfilment", self.fulfil),
        ]

    def background(self) -> list[Workflow]:
        """The relay from the outbox to the broker."""
        return [self.relay()]

    def relay(self) -> Workflow:
        """Poll the outbox, publish what is there, mark it published; forever.

        At least once: should marking fail after publishing, the next poll publishes
        the entries again, and the consumers' idempotency absorbs the copies.
        """
        client = self.client
        polls = 0
        wait = self.relay_every
        while True:
            polls += 1
            busy = False
            try:
                found = yield from client.call(
                    RELAY,
                    f"poll:{polls}",
                    "oms",
                    "pendingOutbox",
                    {"limit": self.batch},
                    write=False,
                )
                entries = found.get("entries", [])
                busy = bool(entries)
                for entry in entries:
                    yield from client.publish(entry["topic"], entry["key"], entry["payload"])
                if entries:
                    yield from client.call(
                        RELAY,
                        f"mark:{polls}",
                        "oms",
                        "markPublished",
                        {"ids": [e["id"] for e in entries]},
                    )
            except CallError:
                busy = True  # the store or the broker is down: try again soon
            wait = self.relay_every if busy else min(wait * 2, self.relay_idle)
            yield Sleep(wait)

    def place(self, message: Message) -> Workflow:
        """Have the ERP accept the committed order; revoke the commitment if it will not.

        Raises:
            Retryable: The ERP stayed down; the broker redelivers later.
        """
        client = self.client
        deal: Deal = message.payload["deal"]
        account: Mapping[str, Any] = message.payload["account"]
        saga = Saga(deal.id, client)
        try:
            customer_id, order_id = yield from accept_order(client, deal, account, saga)
        except Retryable:
            raise
        except Rejected as exc:
            yield from client.call(
                deal.id,
                "revoke",
                "oms",
                "revokeCommitment",
                {"dealId": deal.id, "reason": str(exc)},
            )
            if saga.done:  # an uncertain order the ERP may hold after all
                yield from settle(saga, deal.id, exc)
            yield from client.publish(ORDER_REVOKED, deal.id, {"reason": str(exc)})
            return
        yield from client.call(
            deal.id, "confirm", "oms", "confirmCommitment", {"dealId": deal.id, "orderId": order_id}
        )
        done = Commitment(deal, account, customer_id, order_id)
        yield from client.publish(ORDER_ACCEPTED, deal.id, commitment_payload(done))

    def fulfil(self, message: Message) -> Workflow:
        """Fulfil the accepted order, as the hybrid pattern does."""
        return fulfil_accepted(self.client, message)
