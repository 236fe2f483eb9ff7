"""What can go wrong with a call, as a small exception hierarchy.

The split that matters to an integration is *retry or not*:

- ``Retryable`` failures are the weather: outages, throttling, timeouts. Wait and
  try again (with the same idempotency key).
- ``Rejected`` is a decision: the ERP put the customer on credit hold. Trying again
  gives the same answer; the saga compensates instead.
- ``Conflict`` is our own bug: an idempotency key reused with other parameters.

``classify`` turns a vendor's status code and error body into one of these, so both
runtimes (simulated and HTTP) agree on what a response means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CallError",
    "CircuitOpen",
    "Conflict",
    "ContractViolation",
    "PoisonMessage",
    "Rejected",
    "Retryable",
    "Throttled",
    "TimeoutUnknown",
    "Unavailable",
    "classify",
]

THROTTLE_CODES = frozenset({"SSS_REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED"})
"""Error codes vendors use for throttling without a 429 (NetSuite, Salesforce)."""


class CallError(Exception):
    """A vendor call did not succeed.

    Attributes:
        system: The vendor system called.
        operation: The operationId called.
        status: HTTP-like status code (0 when no response arrived).
        code: The vendor's error code, e.g. ``"CREDIT_HOLD"``.
        maybe_committed: The write may have happened anyway: an attempt of this
            call timed out with its outcome unknown.
        spent: ``(budget, attempts, max_attempts)`` when a caller gave up: which
            retry budget of the policy it had (``retry``, ``compensation_retry``,
            ``publish_retry``) and how much of it it spent; None if not told.
    """

    def __init__(self, system: str, operation: str, status: int = 0, code: str = "") -> None:
        # Every constructor argument goes into args, so the error can be copied the
        # way SimPy re-raises a failed process's error, and pickled.
        super().__init__(system, operation, status, code)
        self.system = system
        self.operation = operation
        self.status = status
        self.code = code
        self.maybe_committed = False
        self.spent: tuple[str, int, int] | None = None

    def __str__(self) -> str:
        return f"{self.system}.{self.operation}: {self.status} {self.code}".rstrip()


class Retryable(CallError):
    """A transient failure: the same request may succeed later."""


class Unavailable(Retryable):
    """The vendor answered 5xx, is in an outage window, or could not be reached."""


class CircuitOpen(Unavailable):
    """The caller's circuit breaker for this system is open; nothing was sent."""


class Throttled(Retryable):
    """Rate or concurrency limit hit (429, or a vendor's own throttle code).

    Attributes:
        retry_after: Seconds the vendor asked us to wait, if it said.
    """

    def __init__(
        self,
        system: str,
        operation: str,
        status: int = 429,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(system, operation, status, code)
        self.args = (system, operation, status, code, retry_after)
        self.retry_after = retry_after


class TimeoutUnknown(Retryable):
    """No response within the timeout: the write may or may not have happened."""

    def __init__(self, system: str, operation: str, status: int = 0, code: str = "") -> None:
        super().__init__(system, operation, status, code)
        self.maybe_committed = True


class Rejected(CallError):
    """A business decision (4xx): retrying gives the same answer."""


class Conflict(CallError):
    """Idempotency key reused with different parameters (409)."""


class ContractViolation(CallError):
    """The response did not match the vendor's documented contract."""


class PoisonMessage(Exception):
    """An event whose payload fails its schema: redelivering it can never help.

    The broker puts it in the dead-letter queue at once, with this reason.
    """


def classify(
    system: str,
    operation: str,
    status: int,
    body: Mapping[str, Any] | None = None,
    retry_after: float | None = None,
) -> CallError:
    """Map a non-2xx response to the error a workflow sees.

    Args:
        system: The vendor system called.
        operation: The operationId called.
        status: The response status code.
        body: The error body, ``{"code": ..., "message": ...}`` if the vendor sent one.
        retry_after: The Retry-After header in seconds, if present.

    Returns:
        The exception to throw into the workflow.
    """
    code = str(body.get("code", "")) if body else ""
    if status == 429 or code in THROTTLE_CODES:
        return Throttled(system, operation, status, code, retry_after)
    if status == 409:
        return Conflict(system, operation, status, code)
    if status >= 500 or status == 0:
        return Unavailable(system, operation, status, code)
    return Rejected(system, operation, status, code)
