"""Small worlds whose customers keep amending, drawn by Hypothesis for the lifecycle properties.

``lives`` draws how often customers change seats and plans and cancel, and the
weather the amendments meet (ERP errors, lost responses and an outage, slow and
uneven provisioning that lets one subscription's seat changes overtake each other);
``life`` builds a two-hour world from a draw, runs it and drains it, so that every
amendment has ended before the properties read the vendors' records.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sim.world import World
from tests.support import quiet_scenario

__all__ = ["PATTERNS", "Life", "life", "lives"]

PATTERNS = ("sync_chain", "hybrid", "outbox", "event_driven", "batch")
HORIZON = 7200.0
DRAIN = 3 * 86400.0

Life = dict[str, Any]
per_month = st.sampled_from((0.0, 500.0, 2000.0))
"""Amendments per subscription per month: 2,000 is about five in a two-hour run."""
windows = st.none() | st.tuples(st.integers(0, 3600), st.integers(60, 3600))

lives = st.fixed_dictionaries(
    {
        "pattern": st.sampled_from(PATTERNS),
        "seed": st.integers(1, 1000),
        "seat_changes": st.sampled_from((500.0, 2000.0, 5000.0)),
        "plan_changes": per_month,
        "cancellations": st.sampled_from((0.0, 200.0)),
        "erp_errors": st.sampled_from((0.0, 0.05, 0.2)),
        "erp_lost": st.sampled_from((0.0, 0.05, 0.2)),
        "erp_outage": windows,
        "provisioning": st.sampled_from(
            ({"fixed": "200ms"}, {"p50": "300ms", "p99": "20s"}, {"p50": "2s", "p99": "2m"})
        ),
        "batch_every": st.sampled_from(("1m", "10m")),
    }
)
"""How customers amend, and the weather their amendments meet."""


def life(draw: Life, drain: float = DRAIN, **policy: Any) -> World:
    """A two-hour world of amending customers in the drawn weather, run and drained.

    Args:
        draw: One example of :data:`lives`.
        drain: The longest the world may take to settle after the horizon.
        policy: Overrides of the policy (``ordering``, ``idempotency_keys``,
            ``compensation``: the anti-pattern switches).
    """
    systems = quiet_scenario().systems.model_dump()
    systems["erp"].update(
        error_rate=draw["erp_errors"], timeout_rate=draw["erp_lost"], concurrency=None
    )
    if draw["erp_outage"] is not None:
        start, duration = draw["erp_outage"]
        systems["erp"]["outages"] = [{"start": start, "duration": duration}]
    systems["provisioning"].update(latency=draw["provisioning"], concurrency=None)
    scenario = quiet_scenario(
        pattern=draw["pattern"],
        horizon=HORIZON,
        workload={
            **quiet_scenario().workload.model_dump(),
            "arrivals_per_hour": 4,
            "lifecycle": {
                "seat_changes_per_month": draw["seat_changes"],
                "plan_changes_per_month": draw["plan_changes"],
                "cancellations_per_month": draw["cancellations"],
                "wait": "1h",
            },
        },
        systems=systems,
        patterns={"batch": {"every": draw["batch_every"]}},
        policy={**quiet_scenario().policy.model_dump(), **policy},
    )
    world = World(scenario, draw["seed"], draw["pattern"])
    world.run()
    world.drain(cap=drain)
    return world
