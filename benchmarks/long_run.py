"""Month-long runs: wall time and peak memory of a long run of the bundled scenario.

Each run is a fresh process (so its peak resident memory is its own): the bundled
B2B scenario at ``--rate`` deals an hour, on one core, then its result read.

- ``long``: ``--days`` simulated days (30: about a million deals), settled deals
  filed away as it goes (``sim.archive``, the scenario's default ``archive``).
- ``short``, ``short, kept``: a tenth of that, with and without the archive: the
  feature against its own absence, in time and in memory.
- ``records``: at a thirtieth, traced with tracemalloc: how much of what is held
  is the vendors' records.
- ``plain SimPy``: the yardstick for speed, the straightforward SimPy model of
  ``benchmarks/references.py`` (the same vendor models and weather, no
  orchestrator, no metrics, no archive) on the short run's deals.

Targets (issue 12): 30 days at 1,400 deals an hour in under 3 minutes, with peak
memory under 1 GB that grows with the live records, not the deals seen.

    python benchmarks/long_run.py [--days 30] [--rate 1400] [--pattern hybrid]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from sim.scenario import load
from sim.world import World
scenario = load(sys.argv[2])
work = scenario.workload.model_copy(update={"arrivals_per_hour": float(sys.argv[3])})
scenario = scenario.model_copy(update={"workload": work})
mode = sys.argv[6]
if mode == "kept":
    scenario = scenario.model_copy(update={"archive": None})
if mode == "traced":
    import tracemalloc
    tracemalloc.start()
found = {}
if mode == "plain":
    from benchmarks.references import straightforward
    found["wall"] = straightforward(World(scenario, 7, sys.argv[5]), int(sys.argv[4]))
    found["deals"] = int(sys.argv[4])
else:
    started = time.perf_counter()
    world = World(scenario, 7, sys.argv[5])
    world.run(duration=float(sys.argv[4]))
    metrics = world.result()["metrics"]
    found["wall"] = time.perf_counter() - started
    found["deals"] = metrics["deals"]
    found["filed"] = world.archive.count if world.archive is not None else 0
    found["left"] = len(world.erp.orders)
found["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "traced":
    stats = tracemalloc.take_snapshot().statistics("filename")
    found["traced"] = sum(s.size for s in stats)
    found["records"] = sum(s.size for s in stats if "/sim/systems/" in s.traceback[0].filename)
print(json.dumps(found))
"""


def measure(length: float, rate: float, pattern: str, mode: str = "archive") -> dict[str, float]:
    """One run in a fresh process: wall seconds, deals, peak resident KiB.

    Args:
        length: Simulated seconds, or (``mode="plain"``) deals.
        rate: Deals an hour.
        pattern: The pattern.
        mode: ``archive`` (the default scenario), ``kept`` (``archive: null``),
            ``traced`` (the archive, under tracemalloc) or ``plain`` (the plain
            SimPy yardstick).
    """
    args = [sys.executable, "-c", CHILD, str(ROOT), str(SCENARIO), str(rate)]
    args += [str(length), pattern, mode]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    found: dict[str, float] = json.loads(done.stdout)
    return found


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    parser.add_argument("--rate", type=float, default=1400.0, help="deals an hour (default 1,400)")
    parser.add_argument("--pattern", default="hybrid", help="the pattern (default hybrid)")
    args = parser.parse_args()
    days, rate, pattern = args.days, args.rate, args.pattern
    long = measure(days * 86400, rate, pattern)
    short = measure(days * 8640, rate, pattern)
    kept = measure(days * 8640, rate, pattern, "kept")
    traced = measure(days * 2880, rate, pattern, "traced")
    plain = measure(short["deals"], rate, pattern, "plain")
    print(f"scenario      {SCENARIO.name} at {rate:,.0f} deals/hour, pattern {pattern}")
    for name, run, length in (
        ("long", long, days),
        ("short", short, days / 10),
        ("short, kept", kept, days / 10),
    ):
        per = run["peak_kib"] * 1024 / max(run["deals"], 1)
        print(
            f"{name:<13} {length:g} days: {run['deals']:,} deals in {run['wall']:.1f}s "
            f"({run['deals'] / run['wall']:,.0f} deals/s); peak {run['peak_kib'] / 1024:,.0f} MiB "
            f"({per:,.0f} B per deal); {run['filed']:,} filed away, {run['left']:,} orders left"
        )
    grows = (long["peak_kib"] - short["peak_kib"]) * 1024 / (long["deals"] - short["deals"])
    print(
        f"growth        {grows:,.0f} B of peak per deal beyond the short run "
        f"(without the archive: {kept['peak_kib'] * 1024 / kept['deals']:,.0f} B per deal)"
    )
    print(
        f"archive       costs {short['wall'] / kept['wall']:.2f}x the time of keeping every "
        f"record, at {days / 10:g} days"
    )
    share = traced["records"] / traced["traced"]
    print(
        f"records       at {days / 30:g} days the vendors' records are {share:.0%} of the "
        f"memory traced ({traced['records'] / traced['deals']:,.0f} B per deal seen)"
    )
    floor = plain["wall"] / plain["deals"] * long["deals"]
    print(
        f"plain SimPy   {plain['deals']:,} deals in {plain['wall']:.1f}s "
        f"({plain['deals'] / plain['wall']:,.0f} deals/s): {floor:.0f}s for the long run's deals"
    )
    print(
        f"              the simulator takes {short['wall'] / plain['wall']:.2f}x it on the "
        f"same deals"
    )
    fast = long["wall"] < 180
    small = long["peak_kib"] < 1024 * 1024
    print(
        f"target        {days:g} days < 180 s: {'met' if fast else 'not met'} "
        f"({long['wall']:.0f}s; plain SimPy would take {floor:.0f}s); peak < 1 GiB: "
        f"{'met' if small else 'not met'} ({long['peak_kib'] / 1024:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()
