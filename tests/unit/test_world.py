"""Running a world: --orders closes exactly N deals, however long that takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sim.world import World
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
