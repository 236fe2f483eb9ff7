"""The orchestrator's side of a vendor call: keys, retries, breakers.

``Client.call`` is a sub-workflow (use it with ``yield from``). It is the careful
caller who writes the same reference number on every attempt of one request,
waits longer after each busy signal, and stops dialling a line that keeps failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.effects import NOW, Call, Publish, Sleep, Workflow
from orchestrator.errors import CallError, CircuitOpen, Retryable, Throttled, Unavailable
from orchestrator.resilience import Breaker, Policy, RetryPolicy, backoff

__all__ = ["OCCURRED", "Client"]

OCCURRED = "occurredAt"
"""The payload field of an event published late: when its fact happened."""

new_call = tuple.__new__
"""Builds a ``Call`` from all its fields at C speed: ``new_call(Call, fields)`` skips
the named tuple's Python-level ``__new__``, a third of the cost of every call."""


class Client:
    """Calls vendors on behalf of every workflow of one run.

    One ``Client`` is shared by all workflows a runtime drives, so its breakers see
    the health of each system across workflows, as a real integration tier would.

    Args:
        policy: The resilience policy, including the anti-pattern switches.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.breakers: dict[str, Breaker] = {}
        self.embargo: dict[str, float] = {}
        """Idempotency key -> the earliest time a vendor that throttled the last
        attempt of a call will take it again: the next call with that key (the
        saga's look-up of an uncertain step, a redelivery) waits until then."""

    def breaker(self, system: str) -> Breaker | None:
        """The breaker for ``system`` (created on first use), or None if disabled."""
        if self.policy.breaker is None:
            return None
        found = self.breakers.get(system)
        if found is None:
            found = self.breakers[system] = Breaker(self.policy.breaker)
        return found

    def key(self, workflow_id: str, step: str) -> str | None:
        """The idempotency key of one step of one workflow (None when keys are off)."""
        return f"{workflow_id}:{step}" if self.policy.idempotency_keys else None

    def call(
        self,
        workflow_id: str,
        step: str,
        system: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        write: bool = True,
        retry: RetryPolicy | None = None,
        correlation: str | None = None,
        timeout: float | None = None,
    ) -> Workflow:
        """Call ``system.operation`` until it succeeds or the retry budget is spent.

        Args:
            workflow_id: The workflow's id; with ``step`` it names the call.
            step: The step's name, unique within the workflow.
            system: The vendor system.
            operation: The operationId.
            params: The request fields.
            write: Whether to send an idempotency key: a write that is not
                idempotent by itself needs one (reads and conditional writes do not).
            retry: Retry policy; the client's forward policy by default.
            correlation: The deal the call belongs to (default: ``workflow_id``).
            timeout: How long to wait for an answer; the policy's by default (a
                list operation of many records needs longer).

        Returns:
            The response body (via ``yield from``).

        Raises:
            Rejected: The vendor said no (not retried). Like every error raised here,
                it has ``maybe_committed`` set if an earlier attempt timed out.
            Conflict: The idempotency key was reused with other parameters.
            Retryable: The last transient failure once the budget is spent.
        """
        policy = self.policy
        retry = retry or policy.retry
        timeout = timeout or policy.timeout
        name = f"{workflow_id}:{step}"
        key = name if write and policy.idempotency_keys else None
        breaker = self.breakers.get(system) or self.breaker(system)
        correlation = correlation or workflow_id
        attempt = 0
        unknown = False  # has any attempt timed out, so that the write may have happened?
        if key is not None and self.embargo:
            until = self.embargo.pop(key, None)
            if until is not None:
                wait = until - (yield NOW)
                if wait > 0:
                    yield Sleep(wait)
        while True:
            attempt += 1
            retry_after: float | None = None
            closed_in: float | None = None
            try:
                if breaker is not None and breaker.state != "closed":
                    now = yield NOW  # only an open or half-open breaker needs the time
                    if not breaker.allow(now):
                        closed_in = breaker.retry_at() - now
                        raise CircuitOpen(system, operation, 0, "CIRCUIT_OPEN")
                result = yield new_call(
                    Call,
                    (system, operation, params, key, timeout, attempt, correlation, workflow_id),
                )
            except CallError as exc:
                unknown = unknown or exc.maybe_committed
                retryable = isinstance(exc, Retryable)
                if breaker is not None and type(exc) is not CircuitOpen:
                    if retryable and not isinstance(exc, Throttled):
                        breaker.failure((yield NOW))
                    else:
                        breaker.success()  # it answered: up, perhaps busy
                if not retryable or attempt >= retry.max_attempts:
                    wait = exc.retry_after if isinstance(exc, Throttled) else None
                    if key is not None and wait and retry.honor_retry_after:
                        # whoever calls with this key next waits it out too
                        self.embargo[key] = (yield NOW) + wait
                    exc.maybe_committed = unknown
                    exc.spent = (self._budget_name(retry), attempt, retry.max_attempts)
                    raise
                if isinstance(exc, Throttled):
                    retry_after = exc.retry_after
            else:
                # A closed breaker with no failures counted has nothing to reset.
                if breaker is not None and (breaker.failures or breaker.state != "closed"):
                    breaker.success()
                return result
            delay = backoff(retry, attempt, name, retry_after)
            # An open circuit lets nothing through before its cool-down is over.
            yield Sleep(delay if closed_in is None or closed_in < delay else closed_in)

    def _budget_name(self, retry: RetryPolicy) -> str:
        """Which of the policy's budgets ``retry`` is (``retry`` unless it is another)."""
        policy = self.policy
        if retry is policy.compensation_retry and retry is not policy.retry:
            return "compensation_retry"
        return "retry" if retry is policy.retry else "custom"

    def publish(
        self, topic: str, key: str, payload: Mapping[str, Any], correlation: str | None = None
    ) -> Workflow:
        """Publish an event, retrying while the broker is down (a sub-workflow).

        Args:
            topic: The event's topic.
            key: Its partition key.
            payload: Its body.
            correlation: The deal it belongs to (default: ``key``).

        An event published only after retries carries ``occurredAt``, the time of
        the first attempt: when the fact it announces happened.

        Raises:
            Unavailable: The broker stayed down past ``policy.publish_retry``.
        """
        effect = Publish(topic, key, payload, correlation or key)
        retry = self.policy.publish_retry
        attempt = 0
        while True:
            attempt += 1
            try:
                yield effect
                return
            except Unavailable as exc:
                if attempt >= retry.max_attempts:
                    exc.spent = ("publish_retry", attempt, retry.max_attempts)
                    raise
                if attempt == 1 and OCCURRED not in payload:
                    # Refused at once, so now is when it happened: say so in the event,
                    # which will be published later than that.
                    stamped = {**payload, OCCURRED: (yield NOW)}
                    effect = effect._replace(payload=stamped)
            yield Sleep(backoff(retry, attempt, f"publish:{topic}:{key}"))
