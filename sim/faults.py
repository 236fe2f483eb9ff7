"""The weather around a vendor: latency, errors, outages, throttling.

``Faults`` wraps a vendor model the way the internet wraps a SaaS API. Each call
first meets the door (concurrency limit, outage window, rate limit, the odd 503
from a load balancer); only then does it reach the model. It answers with the
vendor's reply plus how long the answer takes and whether it got lost on the way
back (the write happened, the caller will never know).

Tests can script faults exactly: ``script={3: "timeout"}`` makes the system's third
call time out after its write, whatever the dice say.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np

from sim.knobs import Latency, SystemKnobs
from sim.rng import Draws, Streams
from sim.systems.base import Vendor

__all__ = ["EDGE_FRACTION", "Fate", "Faults", "ScriptedFault", "latency_sampler"]

ScriptedFault = Literal["error", "timeout", "throttle", "reject"]
Fate = tuple[int, dict[str, Any], float | None, float, bool]
"""``(status, body, retry_after, latency, lost)`` of one call."""

EDGE_FRACTION = 0.1
"""Refusals at the door (throttled, down) answer in this share of a normal latency."""
BULK_SHARE = 0.1
"""Each record of a list operation adds this share of a single call's latency
(200 records: 21 times as long as one call)."""
_Z99 = 2.3263478740408408  # the standard normal's 99th percentile


def latency_sampler(latency: Latency) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A batch sampler ``(generator, n) -> seconds`` for one latency form."""
    if latency.fixed is not None:
        fixed = latency.fixed
        return lambda gen, n: np.full(n, fixed)
    if latency.mean is not None:
        mean = latency.mean
        return lambda gen, n: gen.exponential(mean, n)
    assert latency.p50 is not None and latency.p99 is not None
    mu = math.log(latency.p50)
    sigma = (math.log(latency.p99) - mu) / _Z99
    return lambda gen, n: gen.lognormal(mu, sigma, n)


def _uniform(gen: np.random.Generator, n: int) -> np.ndarray:
    return gen.random(n)


class Faults:
    """A vendor model behind its weather; call it like the model.

    Args:
        vendor: The vendor model.
        knobs: The system's knobs.
        streams: The run's random streams.
        script: Call number (1-based, per system) -> fault, for exact tests.

    Attributes:
        in_flight: Calls the vendor is working on now.
        peak: The most calls it ever worked on at once.
        seen: Calls that reached the system at all.
        early_retries: Retries of a throttled call (same idempotency key) that came
            back before the Retry-After the vendor sent had passed.
    """

    def __init__(
        self,
        vendor: Vendor,
        knobs: SystemKnobs,
        streams: Streams,
        script: Mapping[int, ScriptedFault] | None = None,
    ) -> None:
        name = vendor.name
        self.vendor = vendor
        self.knobs = knobs
        self.latency: Draws = streams.draws(f"{name}.latency", latency_sampler(knobs.latency))
        self.dice: Draws = streams.draws(f"{name}.faults", _uniform)
        self.error_rate = knobs.error_rate
        self.lost_rate = knobs.error_rate + knobs.timeout_rate
        self.injected: dict[int, tuple[float, float]] = {}
        """A drill's injections now on: number -> (error rate, lost rate) they add."""
        self.limit = knobs.concurrency or 0
        self.outages = [(o.start, o.end, o.mode, o.error_rate) for o in knobs.outages]
        self.writes = frozenset(vendor.writes)
        self.bulk = vendor.bulk
        self.script = dict(script or {})
        limit = knobs.rate_limit
        self.refill = limit.per_second if limit else 0.0
        self.burst = float(limit.burst) if limit else 0.0
        self.tokens = self.burst
        self.refilled_at = 0.0
        self.in_flight = 0
        self.peak = 0
        self.seen = 0
        self.embargo: dict[str, float] = {}
        self.early_retries = 0

    def __call__(
        self, operation: str, params: Mapping[str, Any], key: str | None, now: float
    ) -> Fate:
        """Send one call through the weather to the vendor.

        The caller must call ``done()`` when the vendor's work on it ends.
        """
        self.seen += 1
        self.in_flight += 1
        if self.in_flight > self.peak:
            self.peak = self.in_flight
        batch = self.latency.batch
        latency = batch.pop() if batch else self.latency.refill()
        if self.embargo and key is not None:
            until = self.embargo.pop(key, None)
            if until is not None and now < until:
                self.early_retries += 1  # back before the Retry-After we sent
        if self.script:
            scripted = self.script.get(self.seen)
            if scripted is not None:
                return self._scripted(scripted, operation, params, key, now, latency)
        if self.limit and self.in_flight > self.limit:
            return 400, _LIMIT_EXCEEDED, None, latency * EDGE_FRACTION, False
        for start, end, mode, rate in self.outages:
            if start <= now < end and (
                mode == "down"
                or (mode == "read_only" and operation in self.writes)
                or (mode == "degraded" and self.dice() < rate)
            ):
                return 503, _UNAVAILABLE, None, latency * EDGE_FRACTION, False
        if self.refill:
            tokens = min(self.burst, self.tokens + (now - self.refilled_at) * self.refill)
            self.refilled_at = now
            if tokens < 1.0:
                self.tokens = tokens
                wait = (1.0 - tokens) / self.refill
                edge = latency * EDGE_FRACTION
                if key is not None:
                    self.embargo[key] = now + edge + wait
                return 429, _TOO_MANY, wait, edge, False
            self.tokens = tokens - 1.0
        lost = False
        if self.lost_rate:
            dice = self.dice.batch
            roll = dice.pop() if dice else self.dice.refill()
            if roll < self.error_rate:
                return 503, _UNAVAILABLE, None, latency, False
            lost = roll < self.lost_rate
        status, body = self.vendor(operation, params, key, now)
        if self.bulk:
            field = self.bulk.get(operation)
            if field is not None:  # a list operation works record by record
                latency *= 1.0 + len(params[field]) * BULK_SHARE
        return status, body, None, latency, lost

    def reweather(self) -> None:
        """Set the error and lost rates from the knobs plus the injections now on (none
        on: exactly the knobs' rates again)."""
        knobs = self.knobs
        errors = knobs.error_rate + sum(e for e, _ in self.injected.values())
        lost = knobs.error_rate + knobs.timeout_rate + sum(x for _, x in self.injected.values())
        self.error_rate, self.lost_rate = min(errors, 1.0), min(lost, 1.0)

    def calm(self) -> None:
        """Stop the weather's faults for good: no errors, lost responses, outages or
        throttling from now on (a drill's injections dropped too). The latency and
        the concurrency limit (the vendor's size, not a fault) stay."""
        self.injected.clear()
        self.error_rate = self.lost_rate = 0.0
        self.outages = []
        self.refill = 0.0

    def done(self, _event: object = None) -> None:
        """The vendor finished working on one call (also usable as an event callback)."""
        self.in_flight -= 1

    def _scripted(
        self,
        fault: ScriptedFault,
        operation: str,
        params: Mapping[str, Any],
        key: str | None,
        now: float,
        latency: float,
    ) -> Fate:
        if fault == "error":
            return 503, _UNAVAILABLE, None, latency, False
        if fault == "throttle":
            return 429, _TOO_MANY, 1.0, latency * EDGE_FRACTION, False
        if fault == "reject" and not self.vendor.remembers(key, now):
            # A vendor that stored this key answers with the stored response, never a
            # fresh business "no": only a first-time request can be rejected.
            return 422, _SCRIPTED_REJECTION, None, latency, False
        if fault == "reject":
            status, body = self.vendor(operation, params, key, now)
            return status, body, None, latency, False
        status, body = self.vendor(operation, params, key, now)
        return status, body, None, latency, True


_LIMIT_EXCEEDED = {
    "code": "SSS_REQUEST_LIMIT_EXCEEDED",
    "message": "concurrent request limit exceeded",
}
_UNAVAILABLE = {"code": "SERVICE_UNAVAILABLE", "message": "service unavailable"}
_TOO_MANY = {"code": "TOO_MANY_REQUESTS", "message": "rate limit exceeded"}
_SCRIPTED_REJECTION = {"code": "SCRIPTED_REJECTION", "message": "rejected by the test script"}
