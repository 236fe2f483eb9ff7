"""The benchmark scripts still run and print their figures (at a small size).

Timings are not asserted here: the figures live in the scripts' output, measured
against a baseline in the same run (``make bench``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_throughput_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/throughput.py", "--deals", "400", "--repeat", "1")
    figures = ("deals per wall second", "x the skeleton", "straightforward SimPy model", "per deal")
    for figure in (*figures, "vendor replies canned", "orchestrator layer", "target <= 1.5x:"):
        assert figure in printed
    for figure in ("as a whole process", "x the in-process run (target <= 1.3x:"):
        assert figure in printed


def test_gate_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/gate.py", "--size", "200000", "--repeat", "1")
    assert "diff" in printed and "gate" in printed


def test_events_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/events.py", "--deals", "200", "--repeat", "1")
    for pattern in ("sync_chain", "hybrid", "outbox", "event_driven"):
        assert f"  {pattern} " in printed
    for figure in ("deals per wall second", "deliveries per deal", "start-up included", "--events"):
        assert figure in printed


def test_lifecycle_benchmark_prints_its_figures() -> None:
    printed = run(
        "benchmarks/lifecycle.py", "--duration", "2d", "--repeat", "1", "--patterns", "batch"
    )
    for figure in ("batch", "amendments", "MiB peak", "start-up included", "first orders only"):
        assert figure in printed


def test_http_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/over_http.py", "--seconds", "0.3", "--deals", "20")
    for figure in ("bare ASGI app (baseline)", "x the bare app", "model and weather only"):
        assert figure in printed
    assert "live runtime over HTTP" in printed and "requests/s" in printed


def test_drill_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/drills.py", "--repeat", "1", "--no-command")
    for figure in ("plain run", "with the series", "incident and answer key", "x plain"):
        assert figure in printed


def test_sweep_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/sweep.py", "--orders", "30", "--seeds", "2", "--no-dask")
    assert "runs/s" in printed and "2 local workers" in printed and "target >= 1.8x:" in printed
    assert "every pool's results byte-identical: yes" in printed


def test_long_run_benchmark_prints_its_figures() -> None:
    printed = run("benchmarks/long_run.py", "--days", "0.05", "--rate", "300")
    for figure in ("deals/s", "B per deal", "the vendors' records are", "peak < 1 GiB:"):
        assert figure in printed
