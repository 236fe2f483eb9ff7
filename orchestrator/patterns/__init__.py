"""Integration patterns: how the quote-to-cash workflow is wired.

A pattern answers three questions for the runtime: what runs when a deal closes
(``close``), which events start which work (``subscriptions``: several consumer
groups may read one topic), and what runs in the background for the whole run
(``background``: the outbox relay). The runtime does the rest. Patterns take
their own settings (``scenario.patterns.<name>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from orchestrator import events
from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.events import Handler, Subscription
from orchestrator.master_data import CUSTOMER_CHANGED
from orchestrator.patterns import event_driven
from orchestrator.patterns.batch import Batch
from orchestrator.patterns.event_driven import EventDriven
from orchestrator.patterns.hybrid import Hybrid
from orchestrator.patterns.outbox import Outbox
from orchestrator.patterns.sync_chain import SyncChain

__all__ = ["NEEDS", "PATTERNS", "TOPICS", "Handler", "Pattern", "UnknownPattern", "make"]


class Pattern(Protocol):
    """The wiring of a workflow: its deal entry point, consumer groups and background work."""

    name: str
    amendments: str
    """How amendments run: ``"saga"`` (billing, ERP and provisioning in one saga) or
    ``"events"`` (billing and provisioning at once, the ERP's books from
    ``amendment.accepted``)."""
    redriven: frozenset[str]
    """Topics whose dead letters the pattern recovers by itself (the outbox writes an
    unsettled commitment's event again): no person needs to step in for those."""

    def close(self, deal: Deal) -> Workflow:
        """The workflow started when ``deal`` closes."""
        ...

    def subscriptions(self) -> list[Subscription]:
        """The consumer groups of this pattern."""
        ...

    def background(self) -> list[Workflow]:
        """Workflows that run for the whole run (none for most patterns)."""
        ...


PATTERNS: Mapping[str, Callable[[Client, Mapping[str, Any]], Pattern]] = {
    SyncChain.name: SyncChain,
    Hybrid.name: Hybrid,
    Outbox.name: Outbox,
    EventDriven.name: EventDriven,
    Batch.name: Batch,
}
"""Every pattern by name, in the order reports list them."""

NEEDS: Mapping[str, tuple[str, ...]] = {Outbox.name: ("oms",)}
"""Systems a pattern needs beyond the five vendors (the outbox needs the order store)."""


TOPICS: frozenset[str] = frozenset(
    {
        value
        for name in events.__all__
        if name.isupper() and isinstance(value := getattr(events, name), str)
    }
    | set(events.AMENDMENT)
    | {CUSTOMER_CHANGED}
    | set(events.WEBHOOK_TOPICS.values())
    | {
        event_driven.DEAL_CLOSED,
        event_driven.SUBSCRIPTION_CREATED,
        event_driven.ENTITLEMENT_CREATED,
        event_driven.ONBOARDING_OPENED,
        event_driven.UNDO,
    }
)
"""Every topic a run may carry: business events, vendor webhooks, choreography cues."""


class UnknownPattern(ValueError):
    """A pattern name that is not in ``PATTERNS``."""


def make(name: str, client: Client, settings: Mapping[str, Any] | None = None) -> Pattern:
    """Build the pattern called ``name`` around ``client``.

    Args:
        name: The pattern's name.
        client: The client its calls go through.
        settings: The pattern's own settings (see each pattern).

    Raises:
        UnknownPattern: ``name`` is not a known pattern; the message lists them.
    """
    try:
        factory = PATTERNS[name]
    except KeyError:
        known = ", ".join(PATTERNS)
        raise UnknownPattern(f"unknown pattern {name!r}; expected one of: {known}") from None
    return factory(client, settings or {})
