"""The month-end amendments story, as the README tells it, checked against real runs.

``scenarios/amendments_month_end.yaml``: a month of deals whose customers then
amend their subscriptions, most of it over the month's last three days, with the
ERP down for six hours on the last day. The README compares the five patterns on
it with and without the nightly reconciliation; these tests hold that story (and
the README's tables) to what ``compare`` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from sim.lifecycle_invariants import amendment_violations, unexplained_drift
from sim.report import LIFECYCLE_ROWS, RECONCILIATION_ROWS, ROWS
from sim.scenario import load
from sim.world import World

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "amendments_month_end.yaml"
README = ROOT / "README.md"
PATTERNS = ("sync_chain", "hybrid", "outbox", "event_driven", "batch")
EVENTS = ("hybrid", "outbox", "event_driven")


class Checks(NamedTuple):
    """What the lifecycle properties found in one run's records."""

    amendment_violations: list[str]
    unexplained_drift: dict[str, object]


Runs = dict[str, tuple[dict[str, Any], Checks]]
SHOWN = (
    "orders live",
    "SLA: commitment",
    "manual reconciliation",
    "amendments requested",
    "amendments applied",
    "amendments undone",
    "amendments escalated",
    "amendments in flight",
    "amendment p50 p95 p99",
    "billed, not in the ERP",
    "in the ERP, not billed",
    "reconciliation: found / repaired / for people",
    "drift detected after p50 p95 p99",
)
"""The rows of ``compare``'s table the README shows."""


def one_month(job: tuple[str, bool]) -> tuple[dict[str, Any], Checks]:
    """One pattern's month: its metrics and what the properties say of its records."""
    pattern, reconciled = job
    scenario = load(SCENARIO)
    if not reconciled:
        scenario = scenario.model_copy(update={"reconciliation": None})
    world = World(scenario, scenario.seed, pattern)
    world.run()
    checks = Checks(amendment_violations(world), unexplained_drift(world))
    return world.result()["metrics"], checks


def month(reconciled: bool) -> Runs:
    """The five patterns' months, two at a time (ten month-long runs are the bulk of
    this module's time; they are independent, and a CI machine has two cores)."""
    jobs = [(pattern, reconciled) for pattern in PATTERNS]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        return dict(zip(PATTERNS, pool.map(one_month, jobs), strict=True))


@pytest.fixture(scope="module")
def nightly() -> Runs:
    return month(reconciled=True)


@pytest.fixture(scope="module")
def unreconciled() -> Runs:
    return month(reconciled=False)


def markdown(runs: Runs) -> str:
    """The README's table: ``compare``'s own rows, for the patterns in order."""
    rows: dict[str, Callable[[Mapping[str, Any]], str]] = dict(
        ROWS + LIFECYCLE_ROWS + RECONCILIATION_ROWS
    )
    lines = ["| metric | " + " | ".join(f"`{p}`" for p in PATTERNS) + " |"]
    lines.append("| --- |" + " ---: |" * len(PATTERNS))
    reconciled = any(runs[p][0]["reconciliation"]["runs"] for p in PATTERNS)
    skipped = set() if reconciled else {label for label, _ in RECONCILIATION_ROWS}
    for label in SHOWN:
        if label in skipped:
            continue  # compare shows these rows only when a run reconciled
        cells = [rows[label](runs[p][0]) for p in PATTERNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    erp = [f"{runs[p][0]['systems']['erp']['calls']:,}" for p in PATTERNS]
    lines.append("| ERP requests | " + " | ".join(erp) + " |")
    return "\n".join(lines)


def test_the_synchronous_chain_refuses_amendments_while_the_erp_is_down(
    unreconciled: Runs,
) -> None:
    metrics, checks = unreconciled["sync_chain"]
    amendments = metrics["amendments"]
    assert amendments["compensated"] > 50  # refused: the customer is told no
    assert amendments["escalated"] == 0
    assert metrics["revenue_leakage"]["billed_not_invoiced"] == {}
    assert checks.amendment_violations == []


def test_committing_by_events_keeps_the_amendments_but_strands_their_books(
    unreconciled: Runs,
) -> None:
    for pattern in EVENTS:
        metrics, checks = unreconciled[pattern]
        amendments = metrics["amendments"]
        assert amendments["compensated"] == 0, pattern
        assert amendments["escalated"] > 50, pattern  # the ERP postings dead-lettered
        leakage = metrics["revenue_leakage"]
        assert set(leakage["by_cause"]) == {"amendment escalated"}, pattern
        assert leakage["billed_not_invoiced"] and leakage["invoiced_not_billed"], pattern
        assert metrics["manual_reconciliation_items"] >= amendments["escalated"], pattern
        assert checks.unexplained_drift == {}, pattern


def test_the_nightly_reconciliation_repairs_what_the_outage_stranded(
    nightly: Runs, unreconciled: Runs
) -> None:
    for pattern in EVENTS:
        metrics = nightly[pattern][0]
        found = metrics["reconciliation"]
        assert found["repaired"] == metrics["amendments"]["escalated"] > 50, pattern
        assert found["left_for_people"] == 0, pattern
        assert metrics["revenue_leakage"]["by_cause"] == {}, pattern
        before = unreconciled[pattern][0]["manual_reconciliation_items"]
        assert metrics["manual_reconciliation_items"] < before - 50, pattern
        # found the morning after, at the latest
        assert found["detection_lag_s"]["p99"] < 86400 + 3600, pattern


def test_batches_keep_every_amendment_and_its_books_at_the_price_of_commitment(
    unreconciled: Runs,
) -> None:
    metrics, checks = unreconciled["batch"]
    sync = unreconciled["sync_chain"][0]
    amendments = metrics["amendments"]
    assert amendments["compensated"] == amendments["escalated"] == 0
    assert set(metrics["revenue_leakage"]["by_cause"]) <= {"amendment in flight"}
    assert metrics["commitment_sla_compliance"] < 0.1  # the ERP accepts at the next batch
    assert metrics["systems"]["erp"]["calls"] < 0.5 * sync["systems"]["erp"]["calls"]
    # at the horizon a batch may still be in the tray; nothing else may disagree
    problems = [p for p in checks.amendment_violations if not p.endswith("never ended")]
    assert problems == []


@pytest.mark.parametrize("reconciled", [False, True])
def test_the_readme_tables_show_what_compare_prints(
    reconciled: bool, request: pytest.FixtureRequest
) -> None:
    runs: Runs = request.getfixturevalue("nightly" if reconciled else "unreconciled")
    table = markdown(runs)
    assert table in README.read_text(encoding="utf-8"), (
        f"the README's table (reconciliation {'on' if reconciled else 'off'}) should be:\n" + table
    )
