"""A month of a subscription business: what the lifecycle costs, whole command and inner loop.

Run: ``python benchmarks/lifecycle.py`` (part of ``make bench``). Prints, on one core:

- ``scenarios/amendments_month_end.yaml`` (a month: deals, amendments, the nightly
  reconciliation) as a user runs it, ``lifecycle-sandbox run --pattern P``, start-up
  included: wall seconds and peak memory of the process, per pattern;
- the same month with the lifecycle off (first orders only, no reconciliation), the
  baseline the lifecycle is measured against in the same run;
- the deals, amendments and reconciliation runs the month holds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONTH = ROOT / "scenarios" / "amendments_month_end.yaml"
SCRIPT = Path(sys.executable).parent / "lifecycle-sandbox"
PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], capture_output=True, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Runs a command and prints its peak resident memory (KiB), alone in its own process."""


def baseline(folder: Path) -> Path:
    """The month with the lifecycle and reconciliation taken out."""
    lines = MONTH.read_text(encoding="utf-8").splitlines()
    kept, skipping = [], False
    for line in lines:
        if line.startswith("  lifecycle:"):
            skipping = True
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        if line.startswith("reconciliation:"):
            continue
        kept.append(line)
    path = folder / "first_orders_only.yaml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def command(path: Path, pattern: str, out: Path, duration: str | None) -> list[str]:
    args = [str(SCRIPT), "run", str(path), "--pattern", pattern, "--json", str(out)]
    return args + (["--duration", duration] if duration else [])


def measure(args: list[str], repeat: int) -> tuple[float, float]:
    """Best wall seconds and peak MiB of ``args`` over ``repeat`` runs."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEAK, *args], capture_output=True, check=True, text=True
        )
        best = min(best, time.perf_counter() - start)
        peak = max(peak, int(done.stdout) / 1024)
    return best, peak


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", default="sync_chain,hybrid,batch")
    parser.add_argument("--repeat", type=int, default=2, help="best of N (default 2)")
    parser.add_argument("--duration", help="run less than the month, e.g. 3d (a quick check)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        plain = baseline(folder)
        for pattern in args.patterns.split(","):
            out = folder / f"{pattern}.json"
            wall, peak = measure(command(MONTH, pattern, out, args.duration), args.repeat)
            metrics = json.loads(out.read_text())["metrics"]
            base_wall, base_peak = measure(
                command(plain, pattern, folder / "plain.json", args.duration), args.repeat
            )
            print(
                f"{pattern:<12} {metrics['deals']:,} deals, "
                f"{metrics['amendments']['requested']:,} amendments, "
                f"{metrics['reconciliation']['runs']} reconciliation runs: "
                f"{wall:.2f}s wall, {peak:.0f} MiB peak, start-up included; "
                f"first orders only {base_wall:.2f}s, {base_peak:.0f} MiB "
                f"(lifecycle x{wall / base_wall:.2f} wall)"
            )


if __name__ == "__main__":
    main()
