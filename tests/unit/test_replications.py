"""Replications: derived seeds, intervals, and the paired test that tells a difference
between patterns from the seed-to-seed noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim.replications import compare_patterns, derive_seeds, summarise

ROOT = Path(__file__).resolve().parents[2]


def runs(values: list[float]) -> list[dict[str, float]]:
    return [{"orders_completed": v, "dlq_depth": 0} for v in values]


def test_seeds_are_derived_the_same_way_every_time() -> None:
    seeds = derive_seeds(7, 5)
    assert seeds == derive_seeds(7, 5) and seeds[0] == 7 and len(set(seeds)) == 5
    assert derive_seeds(7, 1) == [7] and derive_seeds(8, 5) != seeds


def test_the_interval_covers_the_mean_and_narrows_with_more_seeds() -> None:
    few = summarise(runs([10, 12, 9, 11]))["orders_completed"]
    many = summarise(runs([10, 12, 9, 11] * 5))["orders_completed"]
    assert few["ci95"][0] < few["mean"] == 10.5 < few["ci95"][1]
    assert many["ci95"][1] - many["ci95"][0] < few["ci95"][1] - few["ci95"][0]


def test_a_shift_on_every_seed_is_significant_and_noise_is_not() -> None:
    base = [100, 90, 110, 95, 105, 98]
    shifted = {"a": runs(base), "b": runs([v + 4 + (i % 2) for i, v in enumerate(base)])}
    noise = {
        "a": runs(base),
        "b": runs([v + d for v, d in zip(base, [3, -2, 1, -3, 2, -1], strict=True)]),
    }
    (lived,) = [d for d in compare_patterns(shifted) if d["path"] == "orders_completed"]
    assert lived["significant"] and lived["difference"] == 4.5
    (calm,) = [d for d in compare_patterns(noise) if d["path"] == "orders_completed"]
    assert not calm["significant"] and calm["p_value"] > 0.05
    (same,) = [d for d in compare_patterns(noise) if d["path"] == "dlq_depth"]
    assert same["p_value"] == 1.0 and not same["significant"]  # no difference at all


def test_compare_with_seeds_keeps_every_seed_and_tests_the_differences(tmp_path: Path) -> None:
    out = tmp_path / "seeds.json"
    args = ["scenarios/provisioning_outage.yaml", "--patterns", "sync_chain,hybrid"]
    args += ["--seeds", "4", "--orders", "120", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", "from sim.cli import main; main()", "compare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "over 4 seed(s)" in done.stdout
    assert "differences larger than the seed-to-seed noise (paired t-test, 5%)" in done.stdout
    found = json.loads(out.read_text())["replications"]
    assert len(found["seeds"]) == 4 and {len(r) for r in found["runs"].values()} == {4}
    commitment = next(d for d in found["differences"] if d["path"] == "commitment_latency_s.p95")
    assert commitment["significant"] and commitment["difference"] < 0  # hybrid commits sooner
