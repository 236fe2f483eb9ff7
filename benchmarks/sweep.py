"""Sweep throughput: runs per second here, on 1 and 2 local workers, and on a
2-worker Dask ``LocalCluster``, for one grid of the bundled outage scenario.

Every figure is wall time of the same tasks (the pool's start-up included); the
ratios are against one worker in the same run. Target (issue 12): 2 local workers
at least 1.8x one. The results of every pool are compared too: byte-identical.

    python benchmarks/sweep.py [--orders 1000] [--seeds 6] [--repeat 1] [--no-dask]

The Dask figure includes starting the cluster (a few seconds): on a sweep this
small that start-up is most of it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.sweep import Task, parse_vary, plan  # noqa: E402
from sim.sweep_pool import run_dask, run_here, run_local  # noqa: E402

SCENARIO = ROOT / "scenarios" / "provisioning_outage.yaml"


def timed(tasks: list[Task], runner: Callable[..., None]) -> tuple[float, str]:
    """Wall seconds of running every task, and the results as one canonical text."""
    found: dict[str, Any] = {}

    def on_done(task: Task, result: dict[str, Any] | None, why: str | None) -> None:
        if result is None:
            raise RuntimeError(f"a task failed: {why}")
        found[task.id] = result

    start = time.perf_counter()
    runner(tasks, on_done)
    elapsed = time.perf_counter() - start
    return elapsed, json.dumps([found[t.id] for t in tasks], sort_keys=True)


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="deals per run (default 1,000)")
    parser.add_argument("--seeds", type=int, default=6, help="seeds per point (default 6)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings (default 1)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the LocalCluster")
    args = parser.parse_args()
    varies = [parse_vary("systems.provisioning.outages.0.start=5m,15m")]
    _, tasks = plan(SCENARIO, varies, ["sync_chain", "hybrid"], args.seeds, None, None, args.orders)
    runners: dict[str, Callable[..., None]] = {
        "here (no pool)": run_here,
        "1 local worker": lambda t, done: run_local(t, 1, done),
        "2 local workers": lambda t, done: run_local(t, 2, done),
    }
    if not args.no_dask:
        runners["Dask LocalCluster, 2 workers*"] = lambda t, done: run_dask(
            t, "local", done, workers=2
        )
    print(f"sweep         {len(tasks)} runs of {args.orders} deals ({SCENARIO.name})")
    figures: dict[str, float] = {}
    texts: dict[str, str] = {}
    for name, runner in runners.items():
        elapsed = (
            min(timed(tasks, runner)[0] for _ in range(args.repeat - 1))
            if args.repeat > 1
            else None
        )
        first, text = timed(tasks, runner)
        figures[name] = min(first, elapsed) if elapsed is not None else first
        texts[name] = text
    one = figures["1 local worker"]
    for name, elapsed in figures.items():
        print(
            f"  {name:<30} {len(tasks) / elapsed:6.2f} runs/s  {elapsed:7.2f}s  "
            f"{one / elapsed:5.2f}x one worker"
        )
    two = one / figures["2 local workers"]
    print(
        f"scaling       2 local workers: {two:.2f}x one (target >= 1.8x: "
        f"{'met' if two >= 1.8 else 'not met'})"
    )
    if not args.no_dask:
        print("              * the cluster's start-up included")
    same = len(set(texts.values())) == 1
    print(f"determinism   every pool's results byte-identical: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
