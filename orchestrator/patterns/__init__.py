"""Integration patterns: how the quote-to-cash workflow is wired.

A pattern answers two questions for the runtime: what runs when a deal closes
(``close``), and which events start which work (``handlers``). The runtime does the
rest: it starts ``close`` per deal and feeds each handler the events of its topic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from orchestrator.events import Handler
from orchestrator.patterns.hybrid import Hybrid
from orchestrator.patterns.sync_chain import SyncChain

__all__ = ["PATTERNS", "Handler", "Pattern", "UnknownPattern", "make"]


class Pattern(Protocol):
    """The wiring of a workflow: its deal entry point and its event handlers."""

    name: str

    def close(self, deal: Deal) -> Workflow:
        """The workflow started when ``deal`` closes."""
        ...

    def handlers(self) -> Mapping[str, Handler]:
        """Topic -> handler: the event-triggered work of this pattern."""
        ...


PATTERNS: Mapping[str, Callable[[Client], Pattern]] = {
    SyncChain.name: SyncChain,
    Hybrid.name: Hybrid,
}
"""Every pattern by name, in the order reports list them."""


class UnknownPattern(ValueError):
    """A pattern name that is not in ``PATTERNS``."""


def make(name: str, client: Client) -> Pattern:
    """Build the pattern called ``name`` around ``client``.

    Raises:
        UnknownPattern: ``name`` is not a known pattern; the message lists them.
    """
    try:
        factory = PATTERNS[name]
    except KeyError:
        known = ", ".join(PATTERNS)
        raise UnknownPattern(f"unknown pattern {name!r}; expected one of: {known}") from None
    return factory(client)
