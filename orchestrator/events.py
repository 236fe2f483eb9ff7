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
    "AMENDMENT",
    "AMENDMENT_ACCEPTED",
    "AMENDMENT_APPLIED",
    "AMENDMENT_REQUESTED",
    "DEAD_LETTERED",
    "ONBOARDING_COMPLETED",
    "ORDER",
    "ORDER_ABANDONED",
    "ORDER_ACCEPTED",
    "ORDER_COMMITTED",
    "ORDER_COMPENSATED",
    "ORDER_ESCALATED",
    "ORDER_FAILED",
    "ORDER_LIVE",
    "ORDER_REJECTED",
    "ORDER_REVOKED",
    "RECONCILED",
    "WEBHOOK_TOPICS",
    "XREF_STALE",
    "Endings",
    "Handler",
    "Message",
    "Subscription",
    "webhook_topic",
]

ORDER_COMMITTED: Final = "order.committed"
"""Sales has its commitment. In most patterns that is the ERP accepting the order; in
the outbox pattern it is the order store's local commit, before the ERP knows."""
ORDER_ACCEPTED: Final = "order.accepted"
"""The ERP accepted the sales order."""
ORDER_REVOKED: Final = "order.revoked"
"""A commitment sales was given is withdrawn: the ERP refused the order afterwards."""
ONBOARDING_COMPLETED: Final = "onboarding.completed"
"""The support desk resolved the onboarding case, as its webhook told us."""
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
RECONCILED: Final = "reconciliation.completed"
"""A reconciliation run ended; its findings (repaired, for people) are in the body."""
XREF_STALE: Final = "account.xref_stale"
"""The CRM account's cross-reference could not be written back; a person must."""
DEAD_LETTERED: Final = "dlq"
"""What a broker's taps see when it gives up on a message (every runtime's broker):
``{"topic", "reason"}`` and the ``workflow`` whose work it was, if the message named one."""


AMENDMENT_REQUESTED: Final = "amendment.requested"
"""Sales amended a live subscription in the CRM (seats, plan, renewal, cancellation)."""
AMENDMENT_ACCEPTED: Final = "amendment.accepted"
"""Billing and provisioning hold the amendment; the ERP's books are to follow."""
AMENDMENT_APPLIED: Final = "amendment.applied"
"""Billing, the ERP and provisioning all hold the amendment."""


class Endings(NamedTuple):
    """The topics on which one kind of workflow announces how it failed to finish."""

    compensated: str
    escalated: str
    rejected: str
    failed: str
    abandoned: str


ORDER: Final = Endings(
    ORDER_COMPENSATED, ORDER_ESCALATED, ORDER_REJECTED, ORDER_FAILED, ORDER_ABANDONED
)
"""How quote-to-cash ends when the order does not go live."""
AMENDMENT: Final = Endings(
    "amendment.compensated",
    "amendment.escalated",
    "amendment.rejected",
    "amendment.failed",
    "amendment.abandoned",
)
"""How an amendment ends when it is not applied."""


WEBHOOK_TOPICS: Final = {
    "billing": "billing.webhook",
    "provisioning": "provisioning.webhook",
    "support": "support.webhook",
    "crm": "crm.outbound",
}
"""The channel each vendor's webhooks (Salesforce: outbound messages) arrive on."""


def webhook_topic(system: str) -> str:
    """The topic a vendor's webhooks arrive on."""
    return WEBHOOK_TOPICS[system]


class Message(NamedTuple):
    """One delivery of an event to a consumer.

    Attributes:
        topic: The event's topic.
        key: The partition key (the deal id, or the entity a webhook is about).
        payload: The event body.
        attempt: 1 on first delivery, higher on redelivery.
        id: The event's id (the same on every delivery of it).
        headers: Transport headers, e.g. a webhook's signature.
    """

    topic: str
    key: str
    payload: Mapping[str, Any]
    attempt: int = 1
    id: str = ""
    headers: Mapping[str, str] = {}


Handler = Callable[[Message], Workflow]
"""Event-triggered work: a workflow started per delivered message. Its return value,
if a string, is the delivery's outcome as the consumer saw it (``"applied"``,
``"duplicate"``, ``"stale"``, ``"refused"``), which the runtime counts."""


class Subscription(NamedTuple):
    """A consumer group: ``handler`` runs for every event of ``topic``.

    Several groups may read one topic, each getting every event once (at least).

    Attributes:
        topic: The topic read.
        group: The group's name, unique in the pattern (its metrics go by it).
        handler: The work per delivered message.
    """

    topic: str
    group: str
    handler: Handler
