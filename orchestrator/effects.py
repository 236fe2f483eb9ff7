"""Effects: what a workflow asks the world to do.

A workflow is a generator. Each ``yield`` hands one effect to the runtime, like a
diner handing an order slip to the kitchen; the runtime sends back the result
(``gen.send``) or throws the failure in (``gen.throw``).

Effects are typed named tuples: immutable and safe to log like frozen dataclasses,
but four times cheaper to build (0.1 us against 0.5 us), which matters on the
simulator's hot path where every vendor call builds one.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, NamedTuple

__all__ = ["NOW", "Call", "Effect", "Now", "Publish", "Sleep", "Workflow"]


class Call(NamedTuple):
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


class Publish(NamedTuple):
    """Publish a business event on a topic; the runtime's broker delivers it.

    Attributes:
        topic: Event name, e.g. ``"order.accepted"``.
        key: Partition key; events with one key are delivered in order.
        payload: The event body.
    """

    topic: str
    key: str
    payload: Mapping[str, Any]


class Sleep(NamedTuple):
    """Wait ``seconds`` of (simulated or real) time."""

    seconds: float


class Now(NamedTuple):
    """Ask the runtime for the current time in seconds; the result is a float."""


NOW = Now()
"""The one ``Now`` instance workflows yield; saves an allocation per ask."""

Effect = Call | Publish | Sleep | Now
Workflow = Generator[Effect, Any, Any]
"""A generator of effects whose return value is the workflow's outcome."""
