"""The architect's comparison on the bundled scenarios tells the expected story.

On a normal day both patterns take every order live. When provisioning is down
for 45 minutes mid-day, the synchronous chain loses the commitments made during
the outage (they are compensated), while the hybrid keeps commitment latency low
and completes the downstream work once provisioning is back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.scenario import load
from sim.world import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def compare(name: str) -> dict[str, dict[str, Any]]:
    scenario = load(SCENARIOS / name)
    return {p: simulate(scenario, pattern=p)["metrics"] for p in ("sync_chain", "hybrid")}


@pytest.fixture(scope="module")
def outage() -> dict[str, dict[str, Any]]:
    return compare("provisioning_outage.yaml")


def test_normal_day_takes_every_accepted_order_live_in_both_patterns() -> None:
    for metrics in compare("b2b_saas_quote_to_cash.yaml").values():
        assert metrics["orders_completed"] + metrics["orders_rejected"] == metrics["deals"]
        assert metrics["orders_compensated"] == metrics["orders_escalated"] == 0
        assert metrics["data_quality_exceptions"] == 0
        assert metrics["sla_compliance"] == 1.0


def test_sync_chain_loses_commitments_during_the_outage(outage: dict[str, Any]) -> None:
    sync = outage["sync_chain"]
    # 45 minutes at 120 deals/hour is about 90 deals; most of them are lost
    assert sync["orders_compensated"] >= 50
    assert sync["commitments_failed"] >= sync["orders_rejected"] + 50
    assert sync["sla_compliance"] < 0.95
    assert sync["systems"]["provisioning"]["breaker_opens"] > 0


def test_hybrid_keeps_commitments_fast_and_finishes_after_recovery(
    outage: dict[str, Any],
) -> None:
    sync, hybrid = outage["sync_chain"], outage["hybrid"]
    assert hybrid["commitments_failed"] == hybrid["orders_rejected"]  # only business "no"s
    assert hybrid["commitment_latency_s"]["p99"] < 10.0
    assert hybrid["commitment_latency_s"]["p50"] < sync["commitment_latency_s"]["p50"]
    assert hybrid["orders_completed"] + hybrid["orders_rejected"] == hybrid["deals"]
    assert hybrid["orders_in_flight"] == hybrid["dlq_depth"] == 0
    # the outage shows up downstream instead: orders waited for provisioning
    assert hybrid["cycle_time_s"]["p95"] > 15 * 60
    assert hybrid["cycle_time_s"]["p99"] < 45 * 60 + 15 * 60
    assert hybrid["data_quality_exceptions"] == 0


def _seconds(text: str) -> float:
    from sim.knobs import parse_duration

    return parse_duration(text)


README_ROWS = {
    "deals closed": lambda m: m["deals"],
    "orders live": lambda m: m["orders_completed"],
    "orders compensated": lambda m: m["orders_compensated"],
    "business rejections (credit hold, inactive account)": lambda m: m["orders_rejected"],
    "commitments failed": lambda m: m["commitments_failed"],
    "SLA compliance, order live within 1h": lambda m: round(m["sla_compliance"] * 100, 1),
    "SLA compliance, commitment within 30s": lambda m: round(
        m["commitment_sla_compliance"] * 100, 1
    ),
    "provisioning breaker opens": lambda m: m["systems"]["provisioning"]["breaker_opens"],
}


def test_the_readme_table_shows_what_make_demo_prints(outage: dict[str, Any]) -> None:
    readme = (SCENARIOS.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### What the bundled comparison shows")[1].split("\n\n")[2]
    rows = {}
    for line in table.splitlines()[2:]:
        label, sync, hybrid = (cell.strip() for cell in line.strip("|").split("|"))
        rows[label] = (sync, hybrid)
    for label, value in README_ROWS.items():
        shown = tuple(float(cell.rstrip("%").replace(",", "")) for cell in rows[label])
        assert shown == (value(outage["sync_chain"]), value(outage["hybrid"])), label
    for label, key in (
        ("commitment latency p50 / p95 / p99", "commitment_latency_s"),
        ("order cycle time p50 / p95 / p99", "cycle_time_s"),
    ):
        for cell, pattern in zip(rows[label], ("sync_chain", "hybrid"), strict=True):
            shown = [_seconds(part) for part in cell.split(" / ")]
            actual = [outage[pattern][key][q] for q in ("p50", "p95", "p99")]
            assert shown == pytest.approx(actual, abs=0.51), (label, pattern)
