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
as polling publishers do to spare the database; ``batch`` entries per poll;
``redrive_after``: the relay writes the events of a commitment still unsettled this
long again (an event dead-lettered during a long ERP outage is not the end of it).
``transactional: false`` is the anti-pattern the outbox exists to prevent (the
*dual write*): the commitment is written, then the event published on its own,
so a broker that stays down in between leaves a commitment nobody will ever act on.
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
    ORDER_ESCALATED,
    ORDER_REVOKED,
    Message,
    Subscription,
)
from orchestrator.patterns.hybrid import fulfil_accepted
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    accept_order,
    commitment_payload,
    order_saga,
    validate_account,
)
from orchestrator.workflows.settle import settle

__all__ = ["Outbox"]

RELAY = "outbox-relay"
"""The relay's workflow id (and correlation) in logs and keys."""


class Outbox:
    """Local commitment with a transactional outbox; the ERP follows by event."""

    name = "outbox"
    amendments = "events"
    redriven: frozenset[str] = frozenset({ORDER_COMMITTED})

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        settings = settings or {}
        self.client = client
        self.relay_every = float(settings.get("relay_every", 1.0))
        self.relay_idle = max(self.relay_every, float(settings.get("relay_idle", 2.0)))
        self.transactional = bool(settings.get("transactional", True))
        self.redrive_after = float(settings.get("redrive_after", 900.0))
        self.batch = int(settings.get("batch", 100))

    def close(self, deal: Deal) -> Workflow:
        """Validate the account, then commit locally with the outbox entry."""
        client = self.client
        saga = order_saga(client, deal.id)
        try:
            account = yield from validate_account(client, deal)
            event = {"deal": deal.as_json(), "account": account}
            outbox = [{"topic": ORDER_COMMITTED, "key": deal.id, "payload": event}]
            committed = yield from client.call(
                saga.workflow_id,
                "commit",
                "oms",
                "commitOrder",
                {
                    "dealId": deal.id,
                    "accountId": deal.account_id,
                    "outbox": outbox if self.transactional else [],
                },
                correlation=deal.id,
            )
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        if not self.transactional:  # the dual write: nothing holds the two halves together
            at = committed["committedAt"]
            yield from client.publish(ORDER_COMMITTED, deal.id, {**event, "committedAt": at})
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
        slept = 0.0
        while True:
            polls += 1
            busy = False
            try:
                if slept >= self.redrive_after:
                    slept = 0.0
                    yield from client.call(
                        RELAY,
                        f"redrive:{polls}",
                        "oms",
                        "redriveCommitments",
                        {"olderThan": self.redrive_after},
                    )
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
            slept += wait
            yield Sleep(wait)

    def place(self, message: Message) -> Workflow:
        """Have the ERP accept the committed order; revoke the commitment if it will not.

        Raises:
            Retryable: The ERP stayed down; the broker redelivers later.
        """
        client = self.client
        deal = Deal.from_json(message.payload["deal"])
        account: Mapping[str, Any] = message.payload["account"]
        saga = order_saga(client, deal.id)
        try:
            customer_id, order_id = yield from accept_order(client, deal, account, saga)
        except Retryable:
            raise
        except Rejected as exc:
            topic, payload = ORDER_REVOKED, {"reason": str(exc)}
            if saga.done:  # an uncertain order the ERP may hold after all
                ending = yield from settle(saga, deal.id, exc, announce=False)
                if ending[0] == ORDER_ESCALATED:  # it could not be undone: people decide
                    topic, payload = ending
            revoked = {"topic": topic, "key": deal.id, "payload": payload}
            yield from client.call(
                saga.workflow_id,
                "revoke",
                "oms",
                "revokeCommitment",
                {"dealId": deal.id, "reason": str(exc), "outbox": [revoked]},
                correlation=deal.id,
            )
            return
        # The store says so, and announces it, in one transaction: a broker that is
        # down now delays the news but cannot lose it.
        done = Commitment(deal, account, customer_id, order_id)
        accepted = {"topic": ORDER_ACCEPTED, "key": deal.id, "payload": commitment_payload(done)}
        yield from client.call(
            saga.workflow_id,
            "confirm",
            "oms",
            "confirmCommitment",
            {"dealId": deal.id, "orderId": order_id, "outbox": [accepted]},
            correlation=deal.id,
        )

    def fulfil(self, message: Message) -> Workflow:
        """Fulfil the accepted order, as the hybrid pattern does."""
        return fulfil_accepted(self.client, message)
