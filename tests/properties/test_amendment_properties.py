"""Lifecycle properties: amending customers drawn by Hypothesis, checked on vendor records.

Each test draws how customers amend (seat and plan changes, cancellations) and the
weather (ERP errors, lost responses, an outage; uneven provisioning), runs a
two-hour world through one of the five patterns, drains it, and asks the vendors'
records (``sim.lifecycle_invariants``) whether the property holds. Each protection
has an anti-pattern test: switched off, Hypothesis must find weather that breaks it.
"""

from __future__ import annotations

from hypothesis import Phase, find, given, settings

from sim.invariants import saga_violations
from sim.lifecycle_invariants import (
    amendment_violations,
    seat_order_violations,
    unexplained_drift,
)
from tests.properties.lives import Life, life, lives

SEARCH = settings(
    max_examples=200, derandomize=True, database=None, deadline=None, phases=[Phase.generate]
)


@given(draw=lives)
def test_every_amendment_is_everywhere_or_nowhere(draw: Life) -> None:
    world = life(draw)
    assert world.quiet(), f"never settled: {draw}"
    assert amendment_violations(world) == [], draw


@given(draw=lives)
def test_billing_the_erp_and_provisioning_agree_unless_people_were_told(draw: Life) -> None:
    world = life(draw)
    assert unexplained_drift(world) == {}, draw
    assert seat_order_violations(world) == [], draw


@given(draw=lives)
def test_the_first_orders_still_end_complete_or_compensated(draw: Life) -> None:
    world = life(draw)
    assert saga_violations(world) == [], draw


def test_without_versioned_seat_writes_an_older_seat_count_wins() -> None:
    broken = find(
        lives, lambda d: bool(seat_order_violations(life(d, ordering=False))), settings=SEARCH
    )
    assert seat_order_violations(life(broken)) == []  # the same weather, protected


def test_without_idempotency_keys_a_lost_answer_books_an_amendment_twice() -> None:
    broken = find(
        lives, lambda d: bool(unexplained_drift(life(d, idempotency_keys=False))), settings=SEARCH
    )
    assert broken["erp_lost"] > 0  # a lost answer, retried, is what books it twice
    assert unexplained_drift(life(broken)) == {}


def test_without_compensation_a_failed_amendment_stays_half_done() -> None:
    broken = find(
        lives, lambda d: bool(amendment_violations(life(d, compensation=False))), settings=SEARCH
    )
    assert amendment_violations(life(broken)) == []
