"""The architect's comparisons on the two event scenarios tell the expected story.

``webhook_storm``: billing's webhooks come late, out of order and some of them twice,
a few with a seal that does not hold; the broker is down for ten minutes. Every
pattern takes the same orders live, the receivers absorb the duplicates and refuse
the bad seals, no event is lost, and once everything has settled the vendors' books
satisfy every event property.

``erp_month_end_outage``: four times the usual arrivals and the ERP down for two
hours. The synchronous chain and the hybrid cannot commit while the ERP is down; the
outbox keeps giving sales its commitments and settles them once the ERP is back
(revoking the few it refuses); the choreography takes as many orders live, but
sales waits for the ERP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.event_invariants import double_effects, lost_events, order_violations, outbox_violations
from sim.invariants import saga_violations
from sim.report import duration_text
from sim.scenario import load
from sim.world import World

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
README = SCENARIOS.parent / "README.md"

Results = dict[str, dict[str, Any]]
PATTERNS = ("sync_chain", "hybrid", "outbox", "event_driven")
"""The patterns the event stories compare (the README's columns)."""


def compare(name: str) -> tuple[Results, dict[str, World]]:
    scenario = load(SCENARIOS / name)
    worlds, results = {}, {}
    for pattern in PATTERNS:
        world = World(scenario, scenario.seed, pattern)
        world.run()
        results[pattern] = world.result()["metrics"]
        worlds[pattern] = world
    return results, worlds


@pytest.fixture(scope="module")
def storm() -> tuple[Results, dict[str, World]]:
    return compare("webhook_storm.yaml")


@pytest.fixture(scope="module")
def month_end() -> Results:
    return compare("erp_month_end_outage.yaml")[0]


def test_in_the_storm_every_pattern_takes_the_same_orders_live(storm: Any) -> None:
    results, _ = storm
    live = {m["orders_completed"] for m in results.values()}
    assert len(live) == 1 and live.pop() >= 0.97 * results["hybrid"]["deals"]
    for metrics in results.values():
        assert metrics["orders_in_flight"] == metrics["orders_escalated"] == 0
        assert metrics["dlq_depth"] == metrics["broker"]["lost"] == 0
        assert metrics["data_quality_exceptions"] == 0, metrics["audit"]


def test_the_receivers_absorb_duplicates_and_refuse_bad_seals(storm: Any) -> None:
    results, _ = storm
    for metrics in results.values():
        billing = metrics["receivers"]["billing-receiver"]
        topic = metrics["broker"]["topics"]["billing.webhook"]
        assert topic["duplicates"] >= 0.1 * topic["published"]  # 15% sent twice
        assert billing["duplicates_absorbed"] >= 0.8 * topic["duplicates"]
        assert metrics["signatures_refused"] > 0
        assert billing["applied"] > 0.9 * topic["published"] - billing["duplicates_absorbed"]
        # payments reach the ERP within seconds, minutes at worst
        assert metrics["payment_sync_latency_s"]["p50"] < 10
        assert metrics["payment_sync_latency_s"]["p99"] < 15 * 60


def test_the_broker_outage_delays_events_and_loses_none(storm: Any) -> None:
    results, _ = storm
    for pattern, metrics in results.items():
        assert metrics["broker"]["refused"] > 0, pattern
        # the commitment is dated when it happened, not when the broker took the news
        assert metrics["commitment_latency_s"]["p99"] < 30, pattern


def test_once_settled_the_vendors_books_satisfy_every_event_property(storm: Any) -> None:
    _, worlds = storm
    for pattern, world in worlds.items():
        assert world.drain(), pattern
        for check in (lost_events, double_effects, order_violations, outbox_violations):
            assert check(world) == [], (pattern, check.__name__)
        assert saga_violations(world) == [], pattern


def test_month_end_only_the_outbox_keeps_commitments_flowing(month_end: Results) -> None:
    sync, hybrid = month_end["sync_chain"], month_end["hybrid"]
    outbox, choreography = month_end["outbox"], month_end["event_driven"]
    two_hours = 2 * month_end["outbox"]["deals"] / 10  # ~480 deals an hour, 2 of 10 hours
    for blocked in (sync, hybrid):
        assert blocked["orders_failed"] >= 0.8 * two_hours
        assert blocked["commitment_sla_compliance"] < 0.85
    assert outbox["commitment_sla_compliance"] == 1.0
    assert outbox["commitment_latency_s"]["p99"] < 5
    assert outbox["orders_failed"] == 0
    assert outbox["commitments_revoked"] > 0  # the credit holds found after commitment
    assert outbox["orders_completed"] >= sync["orders_completed"] + 0.8 * two_hours
    # the choreography completes as much, but sales waits for the ERP to come back
    assert choreography["orders_completed"] == outbox["orders_completed"]
    assert choreography["commitment_latency_s"]["p95"] > 3600
    for metrics in month_end.values():
        assert metrics["orders_in_flight"] == metrics["dlq_depth"] == 0
        assert metrics["data_quality_exceptions"] == 0


ROWS = {
    "deals closed": lambda m: m["deals"],
    "orders live": lambda m: m["orders_completed"],
    "failed before commitment (systems down)": lambda m: m["orders_failed"],
    "commitments revoked after the fact": lambda m: m["commitments_revoked"],
    "SLA compliance, commitment within 30s": lambda m: round(
        m["commitment_sla_compliance"] * 100, 1
    ),
    "SLA compliance, order live within the SLA": lambda m: round(m["sla_compliance"] * 100, 1),
    "webhook duplicates absorbed": lambda m: sum(
        r["duplicates_absorbed"] for r in m["receivers"].values()
    ),
    "signatures refused": lambda m: m["signatures_refused"],
    "events lost": lambda m: m["broker"]["lost"],
}


QUANTILE_ROWS = {
    "commitment latency p50 / p95 / p99": "commitment_latency_s",
    "order cycle time p50 / p95 / p99": "cycle_time_s",
    "payment sync latency p50 / p95 / p99": "payment_sync_latency_s",
}


def readme_table(heading: str) -> dict[str, list[str]]:
    """The README table under ``heading``: label -> cells, one per pattern."""
    text = README.read_text(encoding="utf-8").split(heading)[1]
    table = next(block for block in text.split("\n\n") if block.startswith("| metric"))
    rows = {}
    for line in table.splitlines()[2:]:
        label, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        rows[label] = cells
    return rows


@pytest.mark.parametrize(
    ("heading", "scenario"),
    [("#### Webhook storm", "storm"), ("#### ERP month-end outage", "month_end")],
)
def test_the_readme_tables_show_what_compare_prints(
    heading: str, scenario: str, request: pytest.FixtureRequest
) -> None:
    found = request.getfixturevalue(scenario)
    results: Results = found[0] if isinstance(found, tuple) else found
    rows = readme_table(heading)
    for label, value in ROWS.items():
        if label not in rows:
            continue
        shown = [float(cell.rstrip("%").replace(",", "")) for cell in rows[label]]
        assert shown == [value(results[p]) for p in PATTERNS], (heading, label)
    for label, key in QUANTILE_ROWS.items():
        if label not in rows:
            continue
        for cell, pattern in zip(rows[label], PATTERNS, strict=True):
            actual = [duration_text(results[pattern][key][q]) for q in ("p50", "p95", "p99")]
            assert cell.split(" / ") == actual, (heading, label, pattern)
    assert len(rows) >= 8
