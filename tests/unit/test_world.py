"""Running a world: --orders closes exactly N deals, however long that takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import simpy

from orchestrator.deal import Deal
from orchestrator.effects import Workflow
from sim.world import World, drained
from tests.support import quiet_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_orders_closes_exactly_n_deals_even_over_many_months() -> None:
    slow = quiet_scenario(workload={"arrivals_per_hour": 0.5, "accounts": 20})
    world = World(slow, 1, "hybrid")
    world.run(orders=1500)  # about 125 days of arrivals
    metrics = world.result()["metrics"]
    assert metrics["deals"] == 1500
    assert metrics["orders_in_flight"] == 0
    assert world.env.now > 90 * 86400


def test_duration_as_a_bare_number_of_seconds() -> None:
    cli = Path(sys.executable).parent / "lifecycle-sandbox"
    scenario = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
    done = subprocess.run(
        [cli, "run", scenario, "--duration", "900"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "trace hash" in done.stdout


def test_drained_sees_through_the_stop_event_simpy_leaves_behind() -> None:
    env = simpy.Environment()
    env.timeout(5.0)
    env.run(until=1.0)
    assert env.peek() == 1.0  # SimPy keeps the event that stopped the run
    assert not drained(env)  # the timeout at 5 s is still to come
    env.run(until=10.0)
    assert env.peek() == 10.0
    assert drained(env)


def test_a_run_with_orders_stops_when_nothing_is_left_to_happen() -> None:
    world = World(quiet_scenario(), 1, "hybrid")

    def vanish(deal: Deal) -> Workflow:  # a deal that ends with no ending event
        return
        yield

    world.pattern.close = vanish  # type: ignore[method-assign]
    world.run(orders=5)
    assert world.result()["metrics"]["orders_in_flight"] == 5
    # It stopped at the first idle check, not after SETTLE_CAP of empty days.
    assert world.env.now < world.last_arrival + 3600


def test_orders_below_one_is_refused_rather_than_running_forever() -> None:
    world = World(quiet_scenario(), 1, "hybrid")
    with pytest.raises(ValueError, match="orders must be at least 1, got 0"):
        world.run(orders=0)
