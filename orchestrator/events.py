"""Canonical business events: the facts the lifecycle announces.

Events are the company noticeboard: the ERP team pins "order SO-7 accepted", and
billing, provisioning and support each read the board and do their part. Topics
are named ``entity.past_tense``; the key is the deal id, so all events of one deal
stay in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from orchestrator.effects import Workflow

__all__ = [
    "ORDER_ABANDONED",
    "ORDER_ACCEPTED",
    "ORDER_COMPENSATED",
    "ORDER_ESCALATED",
    "ORDER_FAILED",
    "ORDER_LIVE",
    "ORDER_REJECTED",
    "XREF_STALE",
    "Handler",
    "Message",
]

ORDER_ACCEPTED: Final = "order.accepted"
"""The ERP accepted the sales order: the commercial commitment sales sees."""
ORDER_LIVE: Final = "order.live"
"""Accepted, billed, provisioned, onboarding opened and first invoice posted."""
ORDER_COMPENSATED: Final = "order.compensated"
"""The order could not go live; every committed step was undone in reverse."""
ORDER_ESCALATED: Final = "order.escalated"
"""The order needs a person: compensation could not finish."""
ORDER_REJECTED: Final = "order.rejected"
"""A business rule said no before anything was committed (inactive account, credit)."""
ORDER_FAILED: Final = "order.failed"
"""Systems failed before anything was committed; nothing to undo."""
ORDER_ABANDONED: Final = "order.abandoned"
"""The saga failed and compensation is switched off: partial state stays behind."""
XREF_STALE: Final = "account.xref_stale"
"""The CRM account's cross-reference could not be written back; a person must."""


class Message(NamedTuple):
    """One delivery of an event to a consumer.

    Attributes:
        topic: The event's topic.
        key: The partition key (the deal id).
        payload: The event body.
        attempt: 1 on first delivery, higher on redelivery.
    """

    topic: str
    key: str
    payload: Mapping[str, Any]
    attempt: int = 1


Handler = Callable[[Message], Workflow]
"""Event-triggered work: a workflow started per delivered message."""
