"""The orchestrator's own order store: commitments, their outbox, and receivers' memory.

An order management service is the integration tier's notebook. The outbox pattern
writes a deal's commitment and the event announcing it in one local transaction,
so neither can exist without the other (``commitOrder``); a relay later reads the
outbox (``pendingOutbox``) and marks what it published (``markPublished``). The
receivers of vendor webhooks ask whether an event id was handled (``seenEvent``)
and note it once applied (``markEvent``), so a duplicate delivered a day or three
later, long after the vendor's idempotency key is forgotten, is recognised. It is
modelled as a system with its own knobs, like any vendor: the notebook can be slow
or down too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["Commitment", "OrderStore", "OutboxEntry"]


@dataclass(slots=True)
class Commitment:
    """What sales was promised for one deal."""

    deal_id: str
    account_id: str
    committed_at: float
    created_seq: int
    status: str = "committed"
    order_id: str = ""
    settled_at: float | None = None
    reason: str = ""


@dataclass(slots=True)
class OutboxEntry:
    """An event written with a commitment, waiting for the relay."""

    id: str
    topic: str
    key: str
    payload: Mapping[str, Any]
    published: bool = False


class OrderStore(Vendor):
    """The order management service (``oms``)."""

    name = "oms"
    reads = ("pendingOutbox", "getCommitment", "seenEvent")
    writes = (
        "commitOrder",
        "confirmCommitment",
        "revokeCommitment",
        "markPublished",
        "markEvent",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commitments: dict[str, Commitment] = {}
        self.outbox: dict[str, OutboxEntry] = {}
        self.unpublished: dict[str, OutboxEntry] = {}  # the relay's to-do list
        self.seen: dict[str, float] = {}

    def commitOrder(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Record the commitment and its outbox events in one transaction."""
        deal = params["dealId"]
        if deal in self.commitments:
            raise VendorError(409, "ALREADY_COMMITTED", f"deal {deal} is committed")
        self.commitments[deal] = Commitment(deal, params["accountId"], now, self.ledger.next())
        for event in params["outbox"]:
            # The row carries the transaction's time: when sales got its commitment.
            payload = {**event["payload"], "committedAt": now}
            entry = OutboxEntry(self.new_id("OBX"), event["topic"], event["key"], payload)
            self.outbox[entry.id] = entry
            self.unpublished[entry.id] = entry
        return 201, {"dealId": deal, "status": "committed", "committedAt": now}

    def getCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one commitment."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        return {"dealId": found.deal_id, "status": found.status, "orderId": found.order_id}

    def confirmCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The ERP accepted the order behind a commitment."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        if found.status == "committed":
            found.status = "accepted"
            found.order_id = params["orderId"]
            found.settled_at = now
        return {"dealId": found.deal_id, "status": found.status}

    def revokeCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Withdraw a commitment the ERP would not honour."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        if found.status == "committed":
            found.status = "revoked"
            found.reason = str(params.get("reason", ""))
            found.settled_at = now
        return {"dealId": found.deal_id, "status": found.status}

    def pendingOutbox(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Outbox entries not published yet, oldest first."""
        limit = int(params.get("limit", 100))
        entries = []
        for entry in self.unpublished.values():
            entries.append(
                {"id": entry.id, "topic": entry.topic, "key": entry.key, "payload": entry.payload}
            )
            if len(entries) >= limit:
                break
        return {"entries": entries}

    def markPublished(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Mark outbox entries as published (idempotent)."""
        for entry_id in params["ids"]:
            entry = self.unpublished.pop(entry_id, None)
            if entry is not None:
                entry.published = True
        return {"marked": len(params["ids"])}

    def seenEvent(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Whether an event id was noted as handled."""
        return {"seen": f"{params['source']}:{params['eventId']}" in self.seen}

    def markEvent(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Note an event id as handled (idempotent)."""
        self.seen.setdefault(f"{params['source']}:{params['eventId']}", now)
        return {"marked": True}
