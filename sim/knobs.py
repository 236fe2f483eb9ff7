"""Knobs: how each simulated vendor behaves, as validated data.

Knobs are the dials on a flight simulator's instructor panel: latency, error
rates, outage windows, rate and concurrency limits. A scenario file sets them;
``sim.faults`` turns them into the weather each call flies through.

Durations are written as people write them: ``250ms``, ``45s``, ``2h30m``, ``1d``,
or a bare number of seconds.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from orchestrator.resilience import RetryPolicy

__all__ = [
    "Backoff",
    "BillingKnobs",
    "Duration",
    "Latency",
    "Outage",
    "Payments",
    "RateLimit",
    "Strict",
    "SystemKnobs",
    "Webhooks",
    "parse_duration",
]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_NEGATIVE = "expected {hint}; a duration cannot be negative, got {value!r}"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
DURATION_HINT = "a duration such as '250ms', '45s', '2h30m' or a number of seconds"


def parse_duration(value: object) -> float:
    """Seconds in a duration written as ``250ms``, ``2h30m``, ``1.5s`` or a number.

    Raises:
        ValueError: The value is not a non-negative duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text.startswith("-"):
            raise ValueError(
                f"expected {DURATION_HINT}; a duration cannot be negative, got {value!r}"
            )
        if _NUMBER.fullmatch(text):
            return parse_duration(float(text))
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(_NEGATIVE.format(hint=DURATION_HINT, value=value))
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in a scenario as ``250ms``, ``2h30m`` or a number."""
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability between 0 and 1."""


class Strict(BaseModel):
    """Base of scenario models: unknown fields are errors, values are frozen, and
    numbers are finite (a rate of ``.inf`` is a typo, not a scenario)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Latency(Strict):
    """A latency distribution, in one of three forms.

    ``250ms`` (fixed), ``{mean: 300ms}`` (exponential), or ``{p50: 120ms, p99: 2s}``
    (lognormal fitted to the two quantiles, the usual shape of API latency).
    """

    fixed: Duration | None = None
    mean: Duration | None = None
    p50: Duration | None = None
    p99: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_fixed(cls, data: object) -> object:
        if isinstance(data, str | int | float) and not isinstance(data, bool):
            return {"fixed": data}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        forms = [
            self.fixed is not None,
            self.mean is not None,
            self.p50 is not None or self.p99 is not None,
        ]
        if sum(forms) != 1:
            raise ValueError(
                "expected exactly one form: a duration like '250ms', {mean: 300ms}, "
                "or {p50: 120ms, p99: 2s}"
            )
        if (self.p50 is None) != (self.p99 is None):
            raise ValueError("a lognormal latency needs both p50 and p99")
        if self.p50 is not None and self.p99 is not None and not 0 < self.p50 <= self.p99:
            raise ValueError("expected 0 < p50 <= p99")
        return self

    @property
    def p50_seconds(self) -> float:
        """The median, in seconds."""
        if self.fixed is not None:
            return self.fixed
        if self.mean is not None:
            return self.mean * math.log(2)
        assert self.p50 is not None
        return self.p50

    @property
    def p99_seconds(self) -> float:
        """The 99th percentile, in seconds: the slow tail a bound should allow for."""
        if self.fixed is not None:
            return self.fixed
        if self.mean is not None:
            return self.mean * math.log(100)
        assert self.p99 is not None
        return self.p99


class Backoff(Strict):
    """Exponential backoff: ``{base: 30s, multiplier: 2, cap: 15m, jitter: equal}``."""

    base: Duration = 0.5
    multiplier: Annotated[float, Field(ge=1)] = 2.0
    cap: Duration = 30.0
    jitter: Literal["none", "full", "equal"] = "full"

    def build(self) -> RetryPolicy:
        """The orchestrator's ``RetryPolicy`` with these delays."""
        return RetryPolicy(**self.model_dump())

    def total(self, attempts: int) -> float:
        """The longest wait across ``attempts`` attempts (before jitter shortens it)."""
        return sum(
            min(self.cap, self.base * self.multiplier**n) for n in range(max(attempts - 1, 0))
        )


class Webhooks(Strict):
    """How a vendor delivers its webhooks (Salesforce: outbound messages).

    Attributes:
        latency: From the change to the delivery.
        duplicate_rate: Share of events delivered twice.
        ordered: Whether one entity's events arrive in order (vendors rarely promise).
        retry: The vendor's backoff between deliveries our receiver refused.
        give_up_after: The vendor stops retrying an event this long after it
            happened, and drops it (Stripe: 3 days; Salesforce: 24 hours).
        bad_signature_rate: Share of deliveries whose signature does not hold
            (a rotated secret, a proxy that rewrote the body).
        secret: The shared signing secret (billing signs; others do not).
    """

    latency: Latency = Latency(fixed=1.0)
    duplicate_rate: Rate = 0.0
    ordered: bool = False
    retry: Backoff = Backoff(base=60.0, cap=3600.0, jitter="equal")
    give_up_after: Annotated[Duration, Field(gt=0)] = 3 * 86400.0
    bad_signature_rate: Rate = 0.0
    secret: Annotated[str, Field(min_length=1)] = "whsec_sandbox"


class Payments(Strict):
    """How billing collects its invoices: when, how often it fails, and dunning.

    Attributes:
        delay: From an invoice's creation to its first charge.
        failure_rate: Share of charges that fail.
        retry_every: Time between charges of a failed invoice.
        max_attempts: Charges before the subscription is cancelled.
    """

    delay: Latency = Latency(p50=3600.0, p99=86400.0)
    failure_rate: Rate = 0.0
    retry_every: Annotated[Duration, Field(gt=0)] = 86400.0
    max_attempts: Annotated[int, Field(ge=1)] = 4


class Outage(Strict):
    """A window when a system is down, degraded or read-only.

    Attributes:
        start: When it starts, from the beginning of the run.
        duration: How long it lasts.
        mode: ``down`` (every call gets 503), ``degraded`` (calls fail at
            ``error_rate``), ``read_only`` (writes get 503, reads work).
        error_rate: Failure rate while degraded.
    """

    start: Duration
    duration: Duration
    mode: Literal["down", "degraded", "read_only"] = "down"
    error_rate: Rate = 0.5

    @property
    def end(self) -> float:
        """When the window closes."""
        return self.start + self.duration


class RateLimit(Strict):
    """A token bucket: ``per_second`` tokens refill, at most ``burst`` saved up."""

    per_second: Annotated[float, Field(gt=0)]
    burst: Annotated[int, Field(ge=1)] = 1


class SystemKnobs(Strict):
    """How one vendor system behaves.

    Attributes:
        latency: Response time of a call.
        error_rate: Share of calls answered 503 at the edge (nothing executed).
        timeout_rate: Share of calls whose write happens but whose response is lost.
        rejection_rate: Share of business checks that say no (ERP credit check,
            billing payment method, provisioning plan availability).
        rate_limit: Token bucket; excess calls get 429 with Retry-After.
        concurrency: Most calls in progress at once; excess get HTTP 400
            ``SSS_REQUEST_LIMIT_EXCEEDED`` (NetSuite style), not 429.
        outages: Windows of downtime, degradation or read-only mode.
        idempotency_ttl: How long the vendor remembers an idempotency key.
        drops_correlation: The system drops the correlation header: its side of
            every call, and every webhook it sends, carries no correlation id (what
            ``observability_coverage`` measures).
        webhooks: How it sends webhooks; None: it sends none.
    """

    latency: Latency = Latency(fixed=0.1)
    error_rate: Rate = 0.0
    timeout_rate: Rate = 0.0
    rejection_rate: Rate = 0.0
    rate_limit: RateLimit | None = None
    concurrency: Annotated[int, Field(ge=1)] | None = None
    outages: list[Outage] = []
    idempotency_ttl: Duration = 86400.0
    drops_correlation: bool = False
    webhooks: Webhooks | None = None

    @model_validator(mode="after")
    def _rates_fit(self) -> Self:
        if self.error_rate + self.timeout_rate > 1:
            raise ValueError(
                "error_rate + timeout_rate is more than 1: they share one roll of the dice "
                "per call; lower one of them"
            )
        return self


class BillingKnobs(SystemKnobs):
    """Billing's knobs, and how it collects payment (``payments``; None: it does not)."""

    payments: Payments | None = None
