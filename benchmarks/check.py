"""Simulation checks: seeds per second of ``lifecycle-sandbox check``.

The command as a user runs it (a fresh process, start-up included) on ``--seeds``
seeds of ``--deals`` deals each, on one worker and on two; and, in process, what a
seed costs with its properties read against the same seeds' worlds run alone
(closed, healed, settled, no property read): the check's own cost.

Target (issue 13): at least 20 seeds per second per core for 200-deal profiles.

    python benchmarks/check.py [--seeds 200] [--deals 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.check import check_seed, pattern_of, profile_of, settled_world  # noqa: E402
from sim.scenario import load  # noqa: E402
from sim.swarm import apply  # noqa: E402

SCENARIO = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
COMMAND = Path(sys.executable).with_name("lifecycle-sandbox")


def whole(seeds: int, deals: int, workers: int) -> float:
    """Wall seconds of the whole command."""
    started = time.perf_counter()
    command = [str(COMMAND), "check", str(SCENARIO), "--seeds", str(seeds)]
    subprocess.run(
        [*command, "--deals", str(deals), "--workers", str(workers)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds (default 200)")
    parser.add_argument("--deals", type=int, default=200, help="deals per seed (default 200)")
    args = parser.parse_args()
    seeds, deals = args.seeds, args.deals
    base = load(SCENARIO)
    sample = range(1, min(seeds, 100) + 1)
    started = time.perf_counter()
    for seed in sample:
        check_seed(base, seed, deals)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    for seed in sample:
        scenario = apply(base, profile_of(base, seed))
        settled_world(scenario, seed, pattern_of(base, seed), deals)
    alone = time.perf_counter() - started
    one = whole(seeds, deals, 1)
    two = whole(seeds, deals, 2)
    n = len(sample)
    print(f"scenario      {SCENARIO.name}, {deals} deals per seed, profiles drawn per seed")
    print(
        f"in process    {n / checked:.1f} seeds/s checked; the same worlds alone "
        f"{n / alone:.1f} seeds/s: properties, the twice-run seeds and the verdict cost "
        f"{checked / alone - 1:.0%} more"
    )
    print(f"command       {seeds} seeds, start-up included: 1 worker {seeds / one:.1f} seeds/s")
    print(f"              2 workers {seeds / two:.1f} seeds/s ({one / two:.2f}x)")
    per_core = seeds / one
    print(
        f"target        20 seeds/s per core: {'met' if per_core >= 20 else 'not met'} "
        f"({per_core:.1f}; {per_core * deals:,.0f} faulty deals checked per second)"
    )


if __name__ == "__main__":
    main()
