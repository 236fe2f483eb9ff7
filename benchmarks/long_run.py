"""Month-long runs: wall time and peak memory of a long run of the bundled scenario.

Each run is a fresh process (so its peak resident memory is its own): the bundled
B2B scenario at ``--rate`` deals an hour for ``--days`` simulated days, then its
result read, on one core. The same is measured at a tenth of the length, so the
figures show what grows with the deals seen: memory per deal at both lengths,
and how much of it is the vendors' records (traced separately, at the short
length).

Target (issue 12): 30 days at 1,400 deals an hour (about 1 million deals) in
under 3 minutes, peak memory under 1 GB.

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
trace = sys.argv[6] == "1"
if trace:
    import tracemalloc
    tracemalloc.start()
started = time.perf_counter()
world = World(scenario, 7, sys.argv[5])
world.run(duration=float(sys.argv[4]))
metrics = world.result()["metrics"]
wall = time.perf_counter() - started
found = {"wall": wall, "deals": metrics["deals"], "completed": metrics["orders_completed"],
         "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
if trace:
    snap = tracemalloc.take_snapshot()
    stats = snap.statistics("filename")
    found["traced"] = sum(s.size for s in stats)
    found["records"] = sum(s.size for s in stats if "/sim/systems/" in s.traceback[0].filename)
print(json.dumps(found))
"""


def measure(days: float, rate: float, pattern: str, traced: bool = False) -> dict[str, float]:
    """One run in a fresh process: wall seconds, deals, peak resident KiB."""
    args = [sys.executable, "-c", CHILD, str(ROOT), str(SCENARIO), str(rate)]
    args += [str(days * 86400), pattern, "1" if traced else "0"]
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
    short = measure(args.days / 10, args.rate, args.pattern, traced=True)
    long = measure(args.days, args.rate, args.pattern)
    print(f"scenario      {SCENARIO.name} at {args.rate:,.0f} deals/hour, pattern {args.pattern}")
    for name, run, days in (("short*", short, args.days / 10), ("long", long, args.days)):
        per = run["peak_kib"] * 1024 / max(run["deals"], 1)
        print(
            f"{name:<13} {days:g} days: {run['deals']:,} deals in {run['wall']:.1f}s "
            f"({run['deals'] / run['wall']:,.0f} deals/s); peak {run['peak_kib'] / 1024:,.0f} MiB "
            f"({per:,.0f} B per deal)"
        )
    print("              * traced with tracemalloc (slower, more memory): for the records' share")
    share = short["records"] / short["traced"]
    print(
        f"records       at {args.days / 10:g} days the vendors' records are {share:.0%} of the "
        f"memory traced ({short['records'] / short['deals']:,.0f} B per deal)"
    )
    fast = long["wall"] < 180
    small = long["peak_kib"] < 1024 * 1024
    print(
        f"target        {args.days:g} days < 180 s: {'met' if fast else 'not met'} "
        f"({long['wall']:.0f}s); peak < 1 GiB: {'met' if small else 'not met'} "
        f"({long['peak_kib'] / 1024:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()
