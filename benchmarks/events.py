"""The event half's cost: the webhook storm per pattern, the event log, and the past.

Run: ``python benchmarks/events.py`` (part of ``make bench``). Prints, on one core:

- ``scenarios/webhook_storm.yaml`` in deals per wall second for each pattern, with
  the calls and deliveries per deal that explain the differences, and the same
  scenario's whole command (``lifecycle-sandbox run``, start-up included);
- the bundled business day (all event faults off) in deals per wall second, the
  baseline the storm is measured against in the same run;
- the event log's cost: the bundled day with ``--events`` against without;
- with ``--against REV`` (a git revision, e.g. the commit before the event half),
  the bundled day at that revision against this one, in fresh interpreters.

Targets (issue 8): with all event faults off, the bundled day costs no more than
before the event half; the storm at 5,000 deals per wall second or more; the event
log free when not asked for.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.patterns import PATTERNS  # noqa: E402
from sim.journal import Journal  # noqa: E402
from sim.scenario import load  # noqa: E402
from sim.world import World  # noqa: E402

STORM = ROOT / "scenarios" / "webhook_storm.yaml"
DAY = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
TIMED = """
import sys, time
sys.path.insert(0, sys.argv[1])
from sim.scenario import load
from sim.world import World
scenario = load(sys.argv[2])
best = float("inf")
for _ in range(int(sys.argv[5])):
    world = World(scenario, 7, sys.argv[3])
    start = time.perf_counter()
    world.run(orders=int(sys.argv[4]))
    best = min(best, time.perf_counter() - start)
print(best)
"""
"""Times a run of the bundled day in a fresh interpreter, at any checkout."""


def timed(path: Path, pattern: str, deals: int, repeat: int, journal: Path | None = None) -> float:
    """The best wall seconds of ``repeat`` runs of ``deals`` deals, in this process."""
    best = float("inf")
    scenario = load(path)
    for _ in range(repeat):
        out = journal.open("w", encoding="utf-8") if journal is not None else None
        try:
            world = World(scenario, scenario.seed, pattern, journal=Journal(out) if out else None)
            start = time.perf_counter()
            world.run(orders=deals)
            if world.journal is not None:
                world.journal.flush()
            best = min(best, time.perf_counter() - start)
        finally:
            if out is not None:
                out.close()
    return best


def work(path: Path, pattern: str, deals: int) -> tuple[float, float]:
    """Vendor calls and broker deliveries per deal of one run."""
    scenario = load(path)
    world = World(scenario, scenario.seed, pattern)
    world.run(orders=deals)
    calls = sum(line.calls for line in world.lines.values())
    delivered = sum(group.delivered for group in world.broker.groups())
    return calls / deals, delivered / deals


def whole_command(path: Path, pattern: str, deals: int, repeat: int) -> float:
    """The best wall seconds of the command a user types, start-up included."""
    script = Path(sys.executable).parent / "lifecycle-sandbox"
    command = [str(script), "run", str(path), "--pattern", pattern, "--orders", str(deals)]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def at_revision(revision: str, deals: int, repeat: int) -> tuple[float, float]:
    """The bundled day's best run at ``revision`` and here, each in a fresh interpreter."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "then"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), revision],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        try:
            best = {tree: float("inf"), ROOT: float("inf")}
            for _ in range(repeat):  # alternate, so that a noisy spell hits both alike
                for checkout in (tree, ROOT):
                    args = [
                        sys.executable,
                        "-c",
                        TIMED,
                        str(checkout),
                        str(checkout / "scenarios" / DAY.name),
                        "hybrid",
                        str(deals),
                        "2",
                    ]
                    done = subprocess.run(args, capture_output=True, check=True, text=True)
                    best[checkout] = min(best[checkout], float(done.stdout))
            return best[tree], best[ROOT]
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=ROOT,
                capture_output=True,
                check=False,
            )


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=3000, help="deals per run (default 3,000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings (default 3)")
    parser.add_argument(
        "--against", metavar="REV", help="also time the bundled day at this git revision"
    )
    args = parser.parse_args()
    if args.deals < 1 or args.repeat < 1:
        parser.error("--deals and --repeat must be at least 1")
    n, repeat = args.deals, args.repeat

    day = timed(DAY, "hybrid", n, repeat)
    print(f"bundled day   {DAY.name}, hybrid, {n:,} deals, event faults off")
    print(f"              {n / day:,.0f} deals per wall second (best of {repeat})")
    print(f"storm         {STORM.name}, {n:,} deals, per pattern (best of {repeat}):")
    for pattern in PATTERNS:
        seconds = timed(STORM, pattern, n, repeat)
        calls, deliveries = work(STORM, pattern, n)
        verdict = "met" if n / seconds >= 5000 else "not met"
        print(
            f"  {pattern:<13} {n / seconds:7,.0f} deals/s ({day / seconds * 100:3.0f}% of the "
            f"bundled day's rate); {calls:4.1f} calls and {deliveries:4.1f} deliveries per "
            f"deal; target >= 5,000: {verdict}"
        )
    command = whole_command(STORM, "hybrid", n, repeat)
    print(f"command       lifecycle-sandbox run {STORM.name} --pattern hybrid --orders {n}:")
    print(f"              {command:.2f}s wall, start-up included ({n / command:,.0f} deals/s)")
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "events.jsonl"
        logged = timed(DAY, "hybrid", n, repeat, journal=log)
        lines = sum(1 for _ in log.open(encoding="utf-8"))
    print(
        f"event log     bundled day with --events {logged:.3f}s against {day:.3f}s without "
        f"({(logged / day - 1) * 100:+.0f}%, {lines:,} lines); without it nothing is logged"
    )
    if args.against:
        then, now = at_revision(args.against, n, repeat)
        print(
            f"against       {args.against}: bundled day {then:.3f}s then, {now:.3f}s now "
            f"({(now / then - 1) * 100:+.1f}%; fresh interpreters, inner loop only)"
        )


if __name__ == "__main__":
    main()
