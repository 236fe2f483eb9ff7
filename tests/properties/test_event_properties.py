"""Event properties: event weather drawn by Hypothesis, checked on the books and records.

Each test draws the broker's and the vendors' habits (latency, duplicates, ordering,
consumer crashes, outages; payments failing; an ERP outage), runs six deals through
one of the four patterns, drains the world so that every event has settled, and
asks the broker's books and the vendors' records (``sim.event_invariants``) whether
the property holds. Each protection has an anti-pattern test: with it switched off,
Hypothesis must *find* weather that breaks the property, and the same weather with
the protection on must not.

Replay a failure: the drawn weather is in the assertion message; pass it to
``tests.properties.storms.storm``.
"""

from __future__ import annotations

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from sim.event_invariants import (
    double_effects,
    lost_events,
    order_violations,
    outbox_violations,
    thrown_away,
)
from sim.invariants import saga_violations
from tests.properties.storms import Storm, storm, storms

SEARCH = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
)
"""Settings for anti-pattern searches: bounded and repeatable. The first weather
found that breaks the property is kept, not shrunk: each example is a whole run,
and shrinking one took most of a minute (the asserts below hold for any example)."""
SHORT_KEYS = 60.0
"""An ERP that forgets idempotency keys after a minute: late duplicates get past it."""


@given(draw=storms, erp_ttl=st.sampled_from((SHORT_KEYS, 86400.0)))
def test_nothing_is_lost_every_event_is_applied_dead_lettered_or_counted(
    draw: Storm, erp_ttl: float
) -> None:
    world = storm(draw, erp_ttl=erp_ttl)
    assert world.quiet(), f"never settled: {draw}"
    assert lost_events(world) == [], draw
    # retention unlimited and senders patient for days: nothing may be thrown away
    assert thrown_away(world) == [], draw


@given(draw=storms, erp_ttl=st.sampled_from((SHORT_KEYS, 86400.0)))
def test_duplicates_have_no_second_effect(draw: Storm, erp_ttl: float) -> None:
    world = storm(draw, erp_ttl=erp_ttl)
    assert double_effects(world) == [], draw
    assert all(vendor.key_conflicts == 0 for vendor in world.vendors.values()), draw


@given(draw=storms)
def test_every_copy_ends_at_its_sources_newest_version(draw: Storm) -> None:
    assert order_violations(storm(draw)) == [], draw


@given(draw=storms.map(lambda d: {**d, "pattern": "outbox"}))
def test_outbox_commitments_and_erp_orders_match_one_for_one(draw: Storm) -> None:
    world = storm(draw)
    assert world.oms is not None and world.oms.commitments
    assert outbox_violations(world) == [], draw


@given(draw=storms)
def test_every_deal_ends_complete_or_compensated_in_event_weather(draw: Storm) -> None:
    assert saga_violations(storm(draw)) == [], draw


@given(draw=storms)
def test_same_weather_same_seed_same_results(draw: Storm) -> None:
    assert storm(draw).result() == storm(draw).result()


# --- anti-patterns: switch a protection off and the property must fail ---------------


def test_without_dedupe_a_late_duplicate_posts_a_payment_twice() -> None:
    broken = find(
        storms,
        lambda d: bool(double_effects(storm(d, dedupe=False, erp_ttl=SHORT_KEYS))),
        settings=SEARCH,
    )
    world = storm(broken, dedupe=False, erp_ttl=SHORT_KEYS)
    assert any("posted 2 times in the ERP" in p for p in double_effects(world))
    assert broken["hook_duplicates"] > 0 or broken["crash_rate"] > 0
    # the receivers' memory of handled events is what stood in the way
    assert double_effects(storm(broken, erp_ttl=SHORT_KEYS)) == []


def test_without_versioned_writes_an_older_update_overwrites_a_newer_one() -> None:
    broken = find(
        storms, lambda d: bool(order_violations(storm(d, ordering=False))), settings=SEARCH
    )
    problems = order_violations(storm(broken, ordering=False))
    assert any("after version" in p or " in billing, " in p for p in problems)
    assert not (broken["hook_ordered"] and broken["broker_ordered"])  # it needs overtaking
    assert order_violations(storm(broken)) == []


def test_with_a_retention_shorter_than_the_delays_events_are_lost() -> None:
    # A world that lost an order's event never settles: each failing example runs to
    # its drain cap.
    # Events must be slow to be thrown away: the search draws the rest of the weather.
    slow = storms.map(lambda d: {**d, "broker_latency": {"p50": "30s", "p99": "30m"}})
    broken = find(
        slow,
        lambda d: bool(thrown_away(storm(d, drain=3600.0, retention=60.0))),
        settings=SEARCH,
    )
    world = storm(broken, drain=3600.0, retention=60.0)
    assert any("retention" in p for p in thrown_away(world))
    assert lost_events(world) == []  # lost, but counted: the books still balance
    assert thrown_away(storm(broken)) == []


def test_without_the_outbox_transaction_a_commitment_is_stranded() -> None:
    impatient = {"max_attempts": 3, "base": "1s", "cap": "5s"}
    outboxes = storms.map(lambda d: {**d, "pattern": "outbox"})

    def strands(draw: Storm) -> bool:
        world = storm(draw, drain=3600.0, transactional=False, publish_retry=impatient)
        return bool(outbox_violations(world))

    # A stranded world never settles, so each failing example runs to its drain cap.
    broken = find(outboxes, strands, settings=SEARCH)
    world = storm(broken, drain=3600.0, transactional=False, publish_retry=impatient)
    assert any("never accepted or revoked" in p for p in outbox_violations(world))
    # the event was refused while the broker was down, or dead-lettered while the ERP
    # was: either way nothing in the store could announce the commitment again
    assert world.crashes or world.broker.dlq
    # with the commitment and its event in one transaction the relay (and the redrive
    # of unsettled commitments) outlasts both
    assert outbox_violations(storm(broken, publish_retry=impatient)) == []
