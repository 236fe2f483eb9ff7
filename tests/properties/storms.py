"""Small worlds whose events are the weather, drawn by Hypothesis for the event properties.

``storms`` draws the event faults (broker latency, duplicates, ordering, consumer
crashes, a broker outage; the vendors' webhook habits; payments failing; an ERP
outage); ``storm`` builds a world of six deals from a draw, runs it and drains it,
so that every event has settled before the properties read the books.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sim.world import World
from tests.support import quiet_scenario

__all__ = ["PATTERNS", "Storm", "storm", "storms"]

PATTERNS = ("sync_chain", "hybrid", "outbox", "event_driven")
DEALS = 6
DRAIN = 3 * 86400.0
"""Simulated time a world may take to settle after its last deal ended."""

Storm = dict[str, Any]
rates = st.sampled_from((0.0, 0.1, 0.3, 0.6))
windows = st.none() | st.tuples(st.integers(0, 1800), st.integers(30, 1800))
"""An outage window (start s, duration s) in the first half hour, or none."""
latencies = st.sampled_from(
    ({"fixed": "200ms"}, {"p50": "2s", "p99": "2m"}, {"p50": "30s", "p99": "30m"})
)

storms = st.fixed_dictionaries(
    {
        "pattern": st.sampled_from(PATTERNS),
        "seed": st.integers(1, 1000),
        "broker_latency": st.none() | latencies,
        "broker_duplicates": rates,
        "broker_ordered": st.booleans(),
        "crash_rate": st.sampled_from((0.0, 0.1, 0.3)),
        "broker_outage": windows,
        "hook_latency": latencies,
        "hook_duplicates": rates,
        "hook_ordered": st.booleans(),
        "payment_failures": rates,
        "erp_outage": windows,
        "changes_per_hour": st.sampled_from((0.0, 20.0)),
    }
)
"""Event weather: what the broker and the vendors' webhook senders do, and when."""


def storm(draw: Storm, drain: float = DRAIN, **policy: Any) -> World:
    """A six-deal world in the drawn weather, run and drained.

    Args:
        draw: One example of :data:`storms`.
        drain: The longest the world may take to settle after its last deal.
        policy: Overrides of the policy (the anti-pattern switches: ``dedupe``,
            ``ordering``), and of a few knobs: ``erp_ttl`` (the ERP's idempotency
            key lifetime), ``retention`` (the broker's), ``give_up_after`` (the
            webhook senders'), ``transactional`` (the outbox's).
    """
    hooks = {
        "latency": draw["hook_latency"],
        "duplicate_rate": draw["hook_duplicates"],
        "ordered": draw["hook_ordered"],
        "retry": {"base": "1m", "cap": "10m"},
        "give_up_after": policy.pop("give_up_after", "3d"),
    }
    systems = quiet_scenario().systems.model_dump()
    systems["billing"].update(
        webhooks={**hooks, "bad_signature_rate": 0.05},
        payments={
            "delay": {"p50": "2m", "p99": "30m"},
            "failure_rate": draw["payment_failures"],
            "retry_every": "5m",
            "max_attempts": 3,
        },
    )
    systems["erp"]["idempotency_ttl"] = policy.pop("erp_ttl", 86400.0)
    for system in ("provisioning", "support", "crm"):
        systems[system]["webhooks"] = hooks
    if draw["erp_outage"] is not None:
        start, duration = draw["erp_outage"]
        systems["erp"]["outages"] = [{"start": start, "duration": duration}]
    broker: dict[str, Any] = {
        **quiet_scenario().broker.model_dump(),
        "latency": draw["broker_latency"],
        "duplicate_rate": draw["broker_duplicates"],
        "ordered": draw["broker_ordered"],
        "consumer_crash_rate": draw["crash_rate"],
        "max_deliveries": 30,
        "retention": policy.pop("retention", None),
    }
    if draw["broker_outage"] is not None:
        start, duration = draw["broker_outage"]
        broker["outages"] = [{"start": start, "duration": duration}]
    patterns = {"outbox": {"transactional": policy.pop("transactional", True)}}
    scenario = quiet_scenario(
        pattern=draw["pattern"],
        workload={
            **quiet_scenario().workload.model_dump(),
            "onboarding_time": {"p50": "10m", "p99": "1h"},
            "account_changes_per_hour": draw["changes_per_hour"],
        },
        systems=systems,
        broker=broker,
        patterns=patterns,
        policy={**quiet_scenario().policy.model_dump(), **policy},
    )
    world = World(scenario, draw["seed"], draw["pattern"])
    world.settle_cap = drain  # a world that lost an event never settles: bound it
    world.run(orders=DEALS)
    world.drain(cap=drain)
    return world
