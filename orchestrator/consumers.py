"""Idempotent consumers: remember the events handled, so that a copy changes nothing.

A consumer that may see an event twice is a clerk with a ledger of letters already
answered: before answering, look the letter's number up; after answering, write it
down. At-least-once delivery makes the second copy inevitable; idempotency keys make
it harmless only while the vendors still remember them (Stripe forgets after a day;
a broker can redeliver a week-old event after a consumer outage). The ledger lives
in the orchestrator's order store (``oms``), not in the orchestrator: a consumer
that restarts, or runs on another machine, reads the same ledger.

Look up, then handle, then note: a consumer that crashes after handling and before
noting handles the next copy again, which the keys (and the versioned writes) make
safe as long as the copy comes soon, and it comes soon, since the broker redelivers
an unacknowledged event promptly. Noting first would lose the event instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.effects import Workflow
from orchestrator.events import Handler, Message

__all__ = ["noted", "remembered", "seen"]


def seen(client: Client, deal: str, source: str, event_id: str) -> Workflow:
    """Whether ``source``'s event ``event_id`` was handled (via ``yield from``)."""
    memory = {"source": source, "eventId": event_id}
    found: Mapping[str, Any] = yield from client.call(
        deal, f"seen:{source}:{event_id}", "oms", "seenEvent", memory, write=False
    )
    return bool(found.get("seen"))


def noted(client: Client, deal: str, source: str, event_id: str) -> Workflow:
    """Note ``source``'s event ``event_id`` as handled (a sub-workflow)."""
    memory = {"source": source, "eventId": event_id}
    yield from client.call(deal, f"mark:{source}:{event_id}", "oms", "markEvent", memory)


def remembered(client: Client, group: str, handler: Handler) -> Handler:
    """``handler`` as an idempotent consumer of consumer group ``group``.

    Returns:
        A handler that answers ``duplicate`` for an event the group handled before
        and otherwise runs ``handler`` and notes the event (its outcome passes on).
    """

    def handle(message: Message) -> Workflow:
        if (yield from seen(client, message.key, group, message.id)):
            return "duplicate"
        outcome = yield from handler(message)
        yield from noted(client, message.key, group, message.id)
        return outcome

    return handle
