"""Resilience policies as data, and the pure functions that apply them.

A policy is a note pinned above the phone: "if the line is busy, wait a little
longer each time, never more than thirty seconds, and if the other side said when
to call back, wait at least that long". ``backoff`` reads the note; ``Breaker``
is the colleague who says "they've been down all morning, don't bother for a bit".

Jitter needs randomness, and the orchestrator has none of its own: the jitter
fraction is a hash of the idempotency key and the attempt number. Two workflows
retrying together still spread out, and a replay gets the same waits.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Breaker", "BreakerPolicy", "Policy", "RetryPolicy", "backoff", "jitter_fraction"]

Jitter = Literal["none", "full", "equal"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure.

    Attributes:
        max_attempts: Attempts in all, the first included; 1 means no retry.
        base: Delay after the first failed attempt, in seconds.
        multiplier: Growth factor of the delay per attempt.
        cap: Largest delay, in seconds, before jitter.
        jitter: ``none``, ``full`` (uniform in [0, d]) or ``equal`` ([d/2, d]).
        honor_retry_after: Wait at least what a throttling vendor asked for.
    """

    max_attempts: int = 5
    base: float = 0.5
    multiplier: float = 2.0
    cap: float = 30.0
    jitter: Jitter = "full"
    honor_retry_after: bool = True


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a system's circuit opens and how long it stays open.

    Attributes:
        failure_threshold: Consecutive failures that open the circuit.
        cool_down: Seconds the circuit stays open before one trial call.
    """

    failure_threshold: int = 5
    cool_down: float = 30.0


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the orchestrator decides about calling vendors.

    The three booleans are the anti-pattern switches of DESIGN.md: turning one off
    must make its property test fail.

    Attributes:
        timeout: Per-call timeout in seconds.
        retry: Retry policy for forward steps.
        compensation_retry: Retry policy for undo steps (more patient: an undo that
            gives up becomes manual work).
        breaker: Circuit-breaker policy, or None for no breaker.
        max_in_flight: Per-system cap on concurrent calls (a bulkhead); the runtime
            holds a call until a slot is free. Empty means no caps.
        idempotency_keys: Send an idempotency key with every write.
        compensation: Undo the committed prefix when a saga fails.
        bulkhead: Honor ``max_in_flight``.
        dedupe: Receivers drop an event whose id they have seen (anti-pattern
            switch: ``False`` applies every delivery).
        consumer_memory: The pattern's own consumers remember the events they
            handled too, because a copy may arrive after the vendors forgot the
            idempotency keys (the runtime sets it when that can happen).
        ordering: Receivers apply an update only if its version is newer than the
            target's (anti-pattern switch: ``False`` lets the last delivery win).
        publish_retry: Retries of publishing an event while the broker is down.
        webhook_secrets: System -> the secret its webhooks are signed with.
        webhook_tolerance: Seconds a webhook signature's timestamp may be old.
        ownership: Customer master field -> the system that owns it (empty: the
            last writer wins, the anti-pattern).
    """

    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    compensation_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=10, base=1.0, cap=120.0)
    )
    breaker: BreakerPolicy | None = field(default_factory=BreakerPolicy)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    idempotency_keys: bool = True
    compensation: bool = True
    bulkhead: bool = True
    dedupe: bool = True
    consumer_memory: bool = False
    ordering: bool = True
    publish_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=30, base=1.0, cap=60.0)
    )
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    webhook_tolerance: float = 300.0
    ownership: dict[str, str] = field(default_factory=dict)


def jitter_fraction(key: str, attempt: int) -> float:
    """A fraction in [0, 1) that depends only on ``key`` and ``attempt``."""
    return zlib.crc32(f"{key}#{attempt}".encode()) / 4294967296.0


def backoff(policy: RetryPolicy, attempt: int, key: str, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Args:
        policy: The retry policy.
        attempt: How many attempts have failed so far.
        key: Stable identity of the call (its idempotency key or step id).
        retry_after: What the vendor asked for, if it did.

    Returns:
        The exponential, capped, jittered delay. When the vendor sent Retry-After
        and the policy honors it, the delay is added on top of it: Retry-After is
        the earliest moment, and a throttled crowd that all came back at exactly
        that moment would be throttled again together.
    """
    delay = min(policy.cap, policy.base * policy.multiplier ** (attempt - 1))
    if policy.jitter == "full":
        delay *= jitter_fraction(key, attempt)
    elif policy.jitter == "equal":
        delay = delay / 2 + delay / 2 * jitter_fraction(key, attempt)
    if retry_after is not None and policy.honor_retry_after:
        delay += retry_after
    return delay


class Breaker:
    """A circuit breaker for one system: closed, open, or half-open.

    Closed passes calls and counts consecutive failures. At the threshold it opens:
    calls fail fast until ``cool_down`` has passed. Then it is half-open: one trial
    call goes through; success closes it, failure opens it again.

    Attributes:
        state: ``closed``, ``open`` or ``half_open``.
        failures: Consecutive failures counted while closed.
        opened_at: When it last opened.
        opens: How many times it opened.
    """

    __slots__ = ("_trial", "failures", "opened_at", "opens", "policy", "state")

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self.state: Literal["closed", "open", "half_open"] = "closed"
        self.opened_at = 0.0
        self.opens = 0
        self.failures = 0
        self._trial = False

    def allow(self, now: float) -> bool:
        """Whether a call may go out at ``now``; claims the trial slot when half-open."""
        if self.state == "closed":
            return True
        if self.state == "open":
            if now < self.opened_at + self.policy.cool_down:
                return False
            self.state = "half_open"
            self._trial = False
        if self._trial:
            return False
        self._trial = True
        return True

    def retry_at(self) -> float:
        """When an open circuit will let a trial call through."""
        return self.opened_at + self.policy.cool_down

    def success(self) -> None:
        """Record a successful call (or a business rejection: the system is up)."""
        self.failures = 0
        self._trial = False
        self.state = "closed"

    def failure(self, now: float) -> None:
        """Record a failure that speaks of the system's health (5xx, timeout)."""
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.policy.failure_threshold:
            self.trip(now)

    def trip(self, now: float) -> None:
        """Open the circuit at ``now`` for its cool-down (a trial call then decides)."""
        if self.state != "open":
            self.opens += 1
        self.state = "open"
        self.opened_at = now
        self._trial = False
