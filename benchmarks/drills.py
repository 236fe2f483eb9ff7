"""What a drill costs: the series and the incident against a plain run, and the
whole ``drill run`` command a trainer waits for.

Figures, each against a baseline measured in the same run (CPU seconds, best of
``--repeat``):

1. The drill's world run plainly (its scenario and horizon, drained), then with
   the per-minute series recorded, then with the incident injected and the answer
   key acted on: the series' share, and the drill machinery's.
2. ``lifecycle-sandbox drill run`` end to end (start-up, the answer key's run with
   its event log for the stories, the baseline run, the debrief), wall seconds,
   for each bundled drill.

    python benchmarks/drills.py [--drill drills/erp_month_end.yaml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.debrief import SETTLE  # noqa: E402
from sim.drill import Drill, load_drill  # noqa: E402
from sim.drill_session import run_drill  # noqa: E402
from sim.scenario import Scenario  # noqa: E402
from sim.series import record  # noqa: E402
from sim.world import World  # noqa: E402


def plain(drill: Drill, scenario: Scenario, series: bool) -> float:
    world = World(scenario, scenario.seed)
    if series:
        record(world)
    started = time.process_time()
    world.run(duration=drill.horizon)
    world.drain(SETTLE)
    return time.process_time() - started


def drilled(drill: Drill, scenario: Scenario) -> float:
    started = time.process_time()
    run_drill(drill, scenario, list(drill.answer_key))
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drill", default="drills/erp_month_end.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-command", action="store_true", help="skip part 2")
    args = parser.parse_args()
    drill, scenario = load_drill(ROOT / args.drill)
    plain(drill, scenario, False)  # warm: imports, caches, the allocator
    base = with_series = full = float("inf")
    for _ in range(args.repeat):  # interleaved, so that a busy moment hits all three
        base = min(base, plain(drill, scenario, False))
        with_series = min(with_series, plain(drill, scenario, True))
        full = min(full, drilled(drill, scenario))
    print(f"1. {args.drill}: {drill.horizon / 3600:g} h of deals, drained (CPU seconds)")
    print(f"   plain run                  {base:6.2f} s")
    print(f"   with the series            {with_series:6.2f} s   {with_series / base:.2f}x plain")
    print(f"   incident and answer key    {full:6.2f} s   {full / base:.2f}x plain")
    if args.no_command:
        return
    print("2. `lifecycle-sandbox drill run` end to end (wall seconds, start-up included)")
    for path in sorted((ROOT / "drills").glob("*.yaml")):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from sim.cli import main; main()", "drill", "run", str(path)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        print(f"   {path.stem:<28} {time.perf_counter() - started:6.2f} s")


if __name__ == "__main__":
    main()
