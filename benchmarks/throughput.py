"""Throughput of the simulator, against a bare SimPy skeleton of the same call graph.

Run: ``python benchmarks/throughput.py`` (or ``make bench``). Prints deals per wall
second, the ratio of wall time to a skeleton that makes the same number of SimPy
timeouts and resource requests with no orchestrator, vendor models or metrics,
and memory per deal at two run sizes (flat per-deal memory means the run keeps
nothing per deal beyond the records the vendor models must keep).

Targets (issue 2): >= 2,000 deals/s with all resilience features on; <= 1.5x the
skeleton; memory per deal that does not grow with the number of deals.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.scenario import load  # noqa: E402
from sim.world import World  # noqa: E402

SCENARIO = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"


def measure(path: Path, pattern: str, deals: int, seed: int) -> tuple[float, World]:
    """Wall seconds of one run of ``deals`` deals, and its world."""
    world = World(load(path), seed, pattern)
    gc.collect()
    start = time.perf_counter()
    world.run(orders=deals)
    return time.perf_counter() - start, world


CANNED = {
    "id": "X-1",
    "customerId": "C-1",
    "status": "active",
    "name": "Acme",
    "email": "billing@acme.example.com",
    "erpCustomerId": "C-1",
    "billingCustomerId": "C-1",
}


def without_vendors(path: Path, pattern: str, deals: int, seed: int) -> float:
    """Wall seconds of the same run with every call answered by a canned reply.

    What is left is the orchestrator and the SimPy driver: the layer that must stay
    thin. (Every call succeeds, so the call graph is the fault-free one.)
    """
    world = World(load(path), seed, pattern)
    for line in world.lines.values():
        line.faults = _Canned(line.faults)  # type: ignore[assignment]
    gc.collect()
    start = time.perf_counter()
    world.run(orders=deals)
    return time.perf_counter() - start


class _Canned:
    """A stand-in for ``Faults``: same latency draws, canned replies, no vendor model."""

    def __init__(self, faults: Any) -> None:
        self.latency = faults.latency
        self.in_flight = 0
        self.peak = 0

    def __call__(
        self, operation: str, params: Any, key: Any, now: float
    ) -> tuple[int, dict[str, str], None, float, bool]:
        self.in_flight += 1
        return 200, CANNED, None, self.latency(), False

    def done(self, _event: object = None) -> None:
        self.in_flight -= 1


def skeleton(world: World, deals: int, seed: int) -> float:
    """Wall seconds of a bare SimPy model with the run's timeouts and requests.

    Each deal is a process that makes, system by system in quote-to-cash order, the
    same number of calls the real run made (a resource request on systems with a
    bulkhead, then a timeout of a latency drawn from the same distribution), plus
    its share of the run's retry sleeps; an arrivals process starts the deals.
    """
    env = simpy.Environment()
    gen = np.random.default_rng(seed)
    calls = {name: line.calls for name, line in world.lines.items()}
    caps = {name: line.bulkhead.capacity for name, line in world.lines.items() if line.bulkhead}
    # The skeleton takes a simpy.Resource slot wherever the run took a bulkhead slot.
    resources = {name: simpy.Resource(env, cap) for name, cap in caps.items()}
    latency = {
        name: gen.lognormal(np.log(0.3), 0.8, count).tolist() for name, count in calls.items()
    }
    sleeps = world.runtime.sleeps
    order = ["crm", "erp", "erp", "billing", "provisioning", "support", "erp", "crm"]
    plan: list[list[str]] = [[] for _ in range(deals)]
    remaining = dict(calls)
    i = 0
    while any(remaining.values()):  # deal the calls out round-robin, in workflow order
        for system in order:
            if remaining[system]:
                plan[i % deals].append(system)
                remaining[system] -= 1
        i += 1
    gaps = gen.exponential(30.0, deals).tolist()

    def deal(steps: list[str], naps: int) -> Any:
        for system in steps:
            res = resources.get(system)
            if res is not None:
                with res.request() as req:
                    yield req
                    yield env.timeout(latency[system].pop())
            else:
                yield env.timeout(latency[system].pop())
        for _ in range(naps):
            yield env.timeout(1.0)

    def arrivals() -> Any:
        for n in range(deals):
            yield env.timeout(gaps[n])
            env.process(deal(plan[n], sleeps // deals + (n < sleeps % deals)))

    env.process(arrivals())
    gc.collect()
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def memory(pattern: str, deals: int, seed: int) -> dict[str, float]:
    """Traced memory held after a run, in a fresh interpreter (bytes per deal)."""
    code = (
        "import sys, json, tracemalloc; sys.path.insert(0, sys.argv[1]);"
        "from sim.scenario import load; from sim.world import World;"
        "w = World(load(sys.argv[2]), int(sys.argv[5]), sys.argv[3]);"
        "tracemalloc.start(); w.run(orders=int(sys.argv[4]));"
        "snap = tracemalloc.take_snapshot(); cur, peak = tracemalloc.get_traced_memory();"
        "vend = sum(s.size for s in snap.statistics('filename') if '/sim/systems/' in "
        "s.traceback[0].filename);"
        "print(json.dumps({'held': cur, 'peak': peak, 'vendors': vend}))"
    )
    args = [sys.executable, "-c", code, str(ROOT), str(SCENARIO), pattern, str(deals), str(seed)]
    result = json.loads(subprocess.run(args, capture_output=True, check=True, text=True).stdout)
    return {key: value / deals for key, value in result.items()}


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--pattern", default="hybrid")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()

    real = []
    for _ in range(args.repeat):
        wall, world = measure(SCENARIO, args.pattern, args.deals, args.seed)
        real.append(wall)
    bare = [skeleton(world, args.deals, args.seed) for _ in range(args.repeat)]
    thin = min(
        without_vendors(SCENARIO, args.pattern, args.deals, args.seed) for _ in range(args.repeat)
    )
    best, base = min(real), min(bare)
    calls = sum(line.calls for line in world.lines.values())
    print(f"scenario      {SCENARIO.name}, pattern {args.pattern}, {args.deals:,} deals")
    print(f"calls         {calls:,} vendor calls, {world.runtime.sleeps:,} retry sleeps")
    print(f"throughput    {args.deals / best:,.0f} deals per wall second (best of {args.repeat})")
    print(f"wall time     {best:.3f}s; bare SimPy skeleton {base:.3f}s")
    print(f"ratio         {best / base:.2f}x the skeleton (target <= 1.5x)")
    print(
        f"without vendor models (canned replies): {thin:.3f}s, {thin / base:.2f}x the skeleton;"
        f" the vendor models and their weather cost {best - thin:.3f}s"
    )
    small, large = (
        memory(args.pattern, args.deals // 4, args.seed),
        memory(args.pattern, args.deals, args.seed),
    )
    print(
        f"memory        held per deal: {small['held']:,.0f} B at {args.deals // 4:,} deals, "
        f"{large['held']:,.0f} B at {args.deals:,} deals"
    )
    print(
        f"              of which vendor records and idempotency keys: "
        f"{small['vendors']:,.0f} B / {large['vendors']:,.0f} B; "
        f"peak per deal {large['peak']:,.0f} B"
    )


if __name__ == "__main__":
    main()
