"""Effects: what a workflow asks the world to do.

A workflow is a generator. Each ``yield`` hands one effect to the runtime, like a
diner handing an order slip to the kitchen; the runtime sends back the result
(``gen.send``) or throws the failure in (``gen.throw``). Effects are frozen,
slotted dataclasses: cheap to build on the simulator's hot path and safe to log.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["NOW", "Call", "Effect", "Now", "Publish", "Sleep", "Workflow"]


@dataclass(frozen=True, slots=True)
class Call:
    """Invoke one vendor operation.

    Attributes:
        system: The vendor system, e.g. ``"erp"``.
        operation: The operationId in that vendor's OpenAPI document.
        params: Path, query and body fields of the request.
        key: Idempotency key, or None for reads and for the no-keys anti-pattern.
        timeout: Seconds the caller waits before giving up with an unknown outcome.
        attempt: 1 for the first try, 2 for the first retry, and so on.
    """

    system: str
    operation: str
    params: Mapping[str, Any]
    key: str | None = None
    timeout: float = 30.0
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Publish:
    """Publish a business event on a topic; the runtime's broker delivers it.

    Attributes:
        topic: Event name, e.g. ``"order.accepted"``.
        key: Partition key; events with one key are delivered in order.
        payload: The event body.
    """

    topic: str
    key: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` of (simulated or real) time."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Now:
    """Ask the runtime for the current time in seconds; the result is a float."""


NOW = Now()
"""The one ``Now`` instance workflows yield; saves an allocation per ask."""

Effect = Call | Publish | Sleep | Now
Workflow = Generator[Effect, Any, Any]
"""A generator of effects whose return value is the workflow's outcome."""
