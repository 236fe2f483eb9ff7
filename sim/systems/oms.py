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
    events: tuple[tuple[str, str, Mapping[str, Any]], ...] = ()  # as first written
    driven_at: float = 0.0  # when its events were last written to the outbox
    drives: int = 1


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
    archived = ("commitments", "outbox")
    writes = (
        "commitOrder",
        "confirmCommitment",
        "revokeCommitment",
        "markPublished",
        "markEvent",
        "redriveCommitments",
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
        # Each row carries the transaction's time: when sales got its commitment.
        events = tuple(
            (topic, key, {**payload, "committedAt": now}) for topic, key, payload in _events(params)
        )
        self.commitments[deal] = Commitment(
            deal, params["accountId"], now, self.ledger.next(), events=events, driven_at=now
        )
        self.file(deal, "commitments", deal)
        self._write(events)
        return 201, {"dealId": deal, "status": "committed", "committedAt": now}

    def redriveCommitments(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Write the events of commitments still unsettled ``olderThan`` seconds after
        they were last written to the outbox again (their consumers are idempotent).

        The safety net under the outbox: an event dead-lettered while the ERP was
        down for longer than the broker's redelivery budget would otherwise leave its
        commitment unsettled for good.
        """
        older_than = float(params["olderThan"])
        driven = []
        for commitment in self.commitments.values():
            if commitment.status == "committed" and now - commitment.driven_at >= older_than:
                commitment.driven_at = now
                commitment.drives += 1
                self._write(commitment.events)
                driven.append(commitment.deal_id)
        return {"redriven": driven}

    def unsettled(self) -> bool:
        """Whether any commitment is neither accepted nor revoked yet."""
        return any(c.status == "committed" for c in self.commitments.values())

    def _write(self, events: tuple[tuple[str, str, Mapping[str, Any]], ...]) -> None:
        for topic, key, payload in events:
            entry = OutboxEntry(self.new_id("OBX"), topic, key, payload)
            self.outbox[entry.id] = entry
            self.unpublished[entry.id] = entry
            self.file(key, "outbox", entry.id)

    def getCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one commitment."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        return {"dealId": found.deal_id, "status": found.status, "orderId": found.order_id}

    def confirmCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The ERP accepted the order behind a commitment; its ``outbox`` events are
        written in the same transaction (once: a repeated confirmation writes none)."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        if found.status == "committed":
            found.status = "accepted"
            found.order_id = params["orderId"]
            found.settled_at = now
            self._write(_events(params))
        return {"dealId": found.deal_id, "status": found.status}

    def revokeCommitment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Withdraw a commitment the ERP would not honour (with its ``outbox`` events)."""
        found = self.find(self.commitments, params["dealId"], "commitment")
        if found.status == "committed":
            found.status = "revoked"
            found.reason = str(params.get("reason", ""))
            found.settled_at = now
            self._write(_events(params))
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

    def holds(self, deal: str) -> bool:
        """A commitment not settled yet, or an outbox entry not published: the
        redrive and the relay still have work for the deal."""
        commitment = self.commitments.get(deal)
        if commitment is not None and commitment.status == "committed":
            return True
        return any(
            store == "outbox" and key in self.unpublished for store, key in self.filed.get(deal, ())
        )

    def forget_seen(self, before: float) -> None:
        """Forget the events noted as handled before ``before`` (noted in time order),
        as a consumer's memory expires like a key store once no copy can come."""
        seen = self.seen
        while seen:
            oldest = next(iter(seen))
            if seen[oldest] >= before:
                return
            del seen[oldest]

    def seenEvent(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Whether an event id was noted as handled."""
        return {"seen": f"{params['source']}:{params['eventId']}" in self.seen}

    def markEvent(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Note an event id as handled (idempotent)."""
        self.seen.setdefault(f"{params['source']}:{params['eventId']}", now)
        return {"marked": True}


def _events(params: Mapping[str, Any]) -> tuple[tuple[str, str, Mapping[str, Any]], ...]:
    """The ``outbox`` events of a request, as ``(topic, key, payload)``."""
    return tuple((e["topic"], e["key"], e["payload"]) for e in params.get("outbox", ()))
