"""Batch: orders and amendments reach the ERP in micro-batches, a list at a time.

Like the post room of an old firm: letters pile up in the tray all morning and go
out together when the courier calls, every quarter of an hour. Sales is told the
account is fine at once, but the ERP accepts the order only when its batch goes
(the commitment waits for the courier); a letter the ERP sends back unopened (an
unexpected error) goes into the next batch, and one returned too often is handed
to a person. One request carries up to ``size`` records (the ERP's list limit),
so an ERP with a licence for a few concurrent requests serves many orders; an ERP
outage only fills the tray.

The tray lives in the orchestrator's memory (a real deployment keeps it in a
table); each record's external id (the deal, the amendment) lets the ERP add it
only once, so a batch whose answer was lost is simply sent again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, NamedTuple

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Sleep, Workflow
from orchestrator.errors import CallError, Rejected
from orchestrator.events import (
    AMENDMENT,
    AMENDMENT_ACCEPTED,
    ORDER_ACCEPTED,
    ORDER_ESCALATED,
    ORDER_REJECTED,
    Message,
    Subscription,
)
from orchestrator.patterns.hybrid import fulfil_accepted
from orchestrator.workflows.amendment import accepted_saga, applied, settle_amendment
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    commitment_payload,
    customer_fields,
    order_saga,
    unstarted,
    validate_account,
)
from orchestrator.workflows.settle import settle

__all__ = ["Batch", "Record"]

BATCHER = "batcher"
"""The batcher's workflow id (its calls' keys derive from it)."""


class Record(NamedTuple):
    """One record in the tray: what to send, and how often it was sent.

    Attributes:
        key: The deal it belongs to (events are keyed by it).
        body: The list record the ERP receives.
        context: What the answer needs (the deal and account, or the amendment).
        attempts: Batches it went out in so far.
    """

    key: str
    body: Mapping[str, Any]
    context: Mapping[str, Any]
    attempts: int = 0


class Batch:
    """Micro-batches to the ERP, fulfilment by events as in the hybrid pattern.

    Settings (``patterns.batch``): ``every`` (seconds between batches, default
    900), ``size`` (records per list request, default 200), ``max_attempts``
    (batches a record may go out in before it is a manual item, default 5),
    ``timeout`` (for one list request, default 120 s).
    """

    name = "batch"
    amendments = "batch"
    redriven: frozenset[str] = frozenset()

    def __init__(self, client: Client, settings: Mapping[str, Any] | None = None) -> None:
        settings = settings or {}
        self.client = client
        self.every = float(settings.get("every", 900.0))
        self.size = int(settings.get("size", 200))
        self.max_attempts = int(settings.get("max_attempts", 5))
        self.timeout = float(settings.get("timeout", 120.0))
        self.tray: deque[Record] = deque()
        self.batches = 0

    def backlog(self) -> int:
        """Records waiting in the tray."""
        return len(self.tray)

    def close(self, deal: Deal) -> Workflow:
        """Check the account at once; put the order in the tray for the next batch."""
        saga = order_saga(self.client, deal.id)
        try:
            account = yield from validate_account(self.client, deal)
        except CallError as exc:
            yield from settle(saga, deal.id, exc)
            return
        body = {
            "kind": "order",
            "externalId": deal.id,
            "customer": customer_fields(deal, account),
            "order": {
                "externalId": deal.id,
                "currency": deal.currency,
                "lines": [
                    {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price}
                    for line in deal.lines
                ],
            },
        }
        self.tray.append(Record(deal.id, body, {"deal": deal, "account": account}))

    def subscriptions(self) -> list[Subscription]:
        """Fulfilment follows the ERP's acceptance; accepted amendments join the tray."""
        return [
            Subscription(ORDER_ACCEPTED, "fulfilment", self.fulfil),
            Subscription(AMENDMENT_ACCEPTED, "erp-batcher", self.enqueue),
        ]

    def background(self) -> list[Workflow]:
        """The batcher."""
        return [self.batcher()]

    def fulfil(self, message: Message) -> Workflow:
        """Fulfil the accepted order, as the hybrid pattern does."""
        return fulfil_accepted(self.client, message)

    def enqueue(self, message: Message) -> Workflow:
        """An amendment billing and provisioning hold: its ERP books go in the tray."""
        posting = message.payload
        body = {
            "kind": "amendment",
            "externalId": posting["workflow"],
            "salesOrderId": posting["salesOrderId"],
            "amount": posting["amount"],
            "currency": posting["currency"],
        }
        self.tray.append(Record(message.key, body, posting))
        return
        yield  # a workflow with nothing to call

    def batcher(self) -> Workflow:
        """Every ``every`` seconds, send the tray in lists of ``size`` records; forever."""
        while True:
            yield Sleep(self.every)
            while self.tray:
                taken = [self.tray.popleft() for _ in range(min(self.size, len(self.tray)))]
                sent = yield from self._send(taken)
                if not sent:
                    break  # the ERP is not answering: wait for the next round

    def _send(self, records: list[Record]) -> Workflow:
        """Send one list; False if the request as a whole failed (via ``yield from``)."""
        self.batches += 1
        try:
            answer = yield from self.client.call(
                BATCHER,
                f"list:{self.batches}",
                "erp",
                "addList",
                {"records": [r.body for r in records]},
                timeout=self.timeout,
            )
        except CallError:
            # The whole request failed (the ERP is down, the answer was lost): no
            # record failed, so none is counted; all go first in the next round, and
            # those the ERP added already answer as held.
            self.tray.extendleft(reversed(records))
            return False
        for record, result in zip(records, answer["results"], strict=True):
            if result["ok"]:
                yield from self._added(record, result)
            elif result.get("status", 500) >= 500:
                yield from self._again(record, str(result.get("code")))
            else:
                yield from self._refused(record, result)
        return True

    def _again(self, record: Record, reason: str) -> Workflow:
        """Back in the tray, or to people once it went out ``max_attempts`` times."""
        tried = record._replace(attempts=record.attempts + 1)
        if tried.attempts < self.max_attempts:
            self.tray.append(tried)
            return
        why = f"in {tried.attempts} batches without success: {reason}"
        budget = {
            "name": "patterns.batch.max_attempts",
            "attempts": tried.attempts,
            "max_attempts": self.max_attempts,
            "retryable": True,
        }
        if record.body["kind"] == "order":
            ending = {"reason": why, "budget": budget}
            yield from self.client.publish(ORDER_ESCALATED, record.key, ending)
        else:
            ending = {"workflow": record.body["externalId"], "reason": why, "budget": budget}
            yield from self.client.publish(AMENDMENT.escalated, record.key, ending)

    def _added(self, record: Record, result: Mapping[str, Any]) -> Workflow:
        if record.body["kind"] == "order":
            context = record.context
            done = Commitment(
                context["deal"], context["account"], result["customerId"], result["orderId"]
            )
            yield from self.client.publish(ORDER_ACCEPTED, record.key, commitment_payload(done))
            return
        posting = record.context
        yield from applied(
            self.client, posting["workflow"], record.key, posting["kind"], posting["amount"]
        )

    def _refused(self, record: Record, result: Mapping[str, Any]) -> Workflow:
        """A business "no" for one record: the order is rejected, the amendment undone."""
        error = Rejected("erp", "addList", int(result.get("status", 422)), str(result["code"]))
        if record.body["kind"] == "order":
            yield from self.client.publish(ORDER_REJECTED, record.key, unstarted(error, record.key))
            return
        posting = record.context
        saga = accepted_saga(self.client, posting)
        yield from settle_amendment(self.client, saga, record.key, error, posting["wait"])
