"""Queueing figures of one system: what capacity planning asks of a run.

A vendor seen from the orchestrator is a post office: calls arrive (``offered``),
take a counter if one is free or queue for it (the bulkhead's slots), are served
for as long as the clerk needs (the vendor's latency), and are sometimes sent away
to come back later (a rate limit's Retry-After). Counts alone cannot tell a
saturated vendor from a failing one; these figures can:

- ``offered_per_s``: calls sent per simulated second (retries included);
- ``utilisation``: slot-seconds held over slot-seconds available (the bulkhead's
  cap, else the vendor's concurrency limit; None when neither caps the system);
- ``slot_wait_s``: time waiting for a bulkhead slot, over every call (a call
  that found a free slot waited 0);
- ``token_wait_s``: time a throttled call was told to wait for a rate-limit token
  (its Retry-After), over every call;
- ``latency_s``: the vendor's time on each call;
- ``in_flight_mean`` and ``waiting_mean``: the time-average number of calls at the
  vendor and queued for a slot (Little's law: total time over the run's length).

``erlang_c`` is the textbook answer for the M/M/c queue, to check a run against.
"""

from __future__ import annotations

import math
from typing import Any

from sim.driver import Line
from sim.sample import Sample

__all__ = ["erlang_c", "queueing"]


def _figure(sample: Sample, calls: int) -> dict[str, float | None]:
    """Mean and quantiles over ``calls`` calls, those not in ``sample`` counted as 0."""
    zeros = max(calls - len(sample), 0)
    mean = round(sample.total() / calls, 6) if calls else None
    return {"mean": mean, **sample.quantiles(zeros)}


def queueing(line: Line, elapsed: float) -> dict[str, Any]:
    """The queueing figures of one system's line after ``elapsed`` seconds.

    Args:
        line: The orchestrator's line to the system.
        elapsed: The run's simulated length.
    """
    calls = line.calls
    work = line.latencies.total()
    bulkhead = line.bulkhead
    slots = bulkhead.capacity if bulkhead is not None else line.faults.limit or None
    busy = line.held if bulkhead is not None else work
    return {
        "offered_per_s": round(calls / elapsed, 6) if elapsed else None,
        "slots": slots,
        "utilisation": round(busy / (slots * elapsed), 6) if slots and elapsed else None,
        "in_flight_mean": round(work / elapsed, 6) if elapsed else None,
        "waiting_mean": round(line.waits.total() / elapsed, 6) if elapsed else None,
        "waited": len(line.waits),
        "slot_wait_s": _figure(line.waits, calls),
        "token_wait_s": _figure(line.tokens, calls),
        "latency_s": _figure(line.latencies, len(line.latencies)),
    }


def erlang_c(arrival_rate: float, mean_service: float, servers: int) -> dict[str, float]:
    """The M/M/c queue in steady state (Poisson arrivals, exponential service, ``servers``
    counters, first come first served).

    Args:
        arrival_rate: Calls per second (lambda).
        mean_service: Mean seconds of service (1/mu).
        servers: Counters (c).

    Returns:
        ``utilisation`` (rho), ``wait_probability`` (Erlang's C: the share of calls
        that queue), ``mean_wait_s`` (C / (c mu - lambda)) and the wait's
        ``p50_wait_s`` and ``p95_wait_s`` (P(W > t) = C exp(-(c mu - lambda) t)).

    Raises:
        ValueError: The queue is unstable (rho >= 1) or an argument is not positive.
    """
    if arrival_rate <= 0 or mean_service <= 0 or servers < 1:
        raise ValueError("expected a positive arrival rate and service time and servers >= 1")
    load = arrival_rate * mean_service  # offered load in Erlangs
    rho = load / servers
    if rho >= 1:
        raise ValueError(f"utilisation {rho:.3f} >= 1: the queue grows without bound")
    term = 1.0
    total = 1.0  # sum of load^k / k! for k < servers
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers / (1 - rho)  # load^c / c! / (1 - rho)
    wait_probability = last / (total + last)
    drain = servers / mean_service - arrival_rate  # how fast a queue empties
    found = {
        "utilisation": rho,
        "wait_probability": wait_probability,
        "mean_wait_s": wait_probability / drain,
    }
    for name, q in (("p50_wait_s", 0.5), ("p95_wait_s", 0.95)):
        beyond = 1 - q  # P(W > t) = C exp(-drain t) falls to 1 - q at the quantile
        queued = wait_probability > beyond
        found[name] = math.log(wait_probability / beyond) / drain if queued else 0.0
    return found
