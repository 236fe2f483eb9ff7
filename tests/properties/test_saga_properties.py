"""Property tests: fault schedules drawn by Hypothesis, checked on the vendors' records.

Each test draws which calls fail and how (5xx, lost response, throttling, business
rejection), runs a small world until every deal has ended, and asks the vendors'
books (``sim.invariants``), not the orchestrator, whether the property holds. Each
protection also has an anti-pattern test: with the protection switched off,
Hypothesis must *find* a schedule that breaks the property.

Replay a failure: the seed and schedule are in the assertion message; pass them to
``World(quiet_scenario(...), seed, pattern, script=schedule)``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from sim.faults import ScriptedFault
from sim.invariants import (
    concurrency_violations,
    duplicate_effects,
    early_retries,
    saga_violations,
)
from sim.world import World
from tests.support import quiet_scenario

SYSTEMS = ("crm", "erp", "billing", "provisioning", "support")
KINDS: tuple[ScriptedFault, ...] = ("error", "timeout", "throttle", "reject")
PATTERNS = ("sync_chain", "hybrid")
DEALS = 6

Schedule = dict[str, dict[int, ScriptedFault]]
schedules = st.dictionaries(
    st.sampled_from(SYSTEMS),
    st.dictionaries(st.integers(1, 4 * DEALS), st.sampled_from(KINDS), max_size=8),
    max_size=5,
)
"""Which call of which system fails, and how (call numbers count per system)."""

SEARCH = settings(max_examples=300, derandomize=True, database=None, deadline=None)
"""Settings for anti-pattern searches: bounded and repeatable."""


def run(schedule: Schedule, pattern: str, seed: int = 1, **policy: Any) -> World:
    """A small world with the scripted faults, run until every deal has ended."""
    base = quiet_scenario().policy.model_dump()
    scenario = quiet_scenario(policy={**base, **policy})
    world = World(scenario, seed, pattern, script=schedule)
    world.run(orders=DEALS)
    return world


def replay(schedule: Schedule, pattern: str, seed: int) -> str:
    return f"replay: seed={seed} pattern={pattern} script={schedule!r}"


@given(schedule=schedules, pattern=st.sampled_from(PATTERNS), seed=st.integers(1, 50))
def test_every_ended_deal_is_complete_or_compensated_in_reverse(
    schedule: Schedule, pattern: str, seed: int
) -> None:
    world = run(schedule, pattern, seed)
    assert saga_violations(world) == [], replay(schedule, pattern, seed)


@given(schedule=schedules, pattern=st.sampled_from(PATTERNS), seed=st.integers(1, 50))
def test_one_effect_per_step_however_many_retries(
    schedule: Schedule, pattern: str, seed: int
) -> None:
    world = run(schedule, pattern, seed)
    assert duplicate_effects(world) == [], replay(schedule, pattern, seed)
    # the key store did its job: every lost write that was retried was replayed
    assert all(vendor.key_conflicts == 0 for vendor in world.vendors.values())


def crowded(
    rate: float,
    latency_ms: int,
    pattern: str,
    bulkhead: bool,
    schedule: Schedule,
    timeout: str = "60s",
) -> World:
    """Many overlapping deals against vendors with low concurrency limits."""
    scenario = quiet_scenario(
        pattern=pattern,
        workload={"arrivals_per_hour": rate, "accounts": 20, "inactive_account_rate": 0},
        systems={
            "crm": {"latency": f"{latency_ms}ms", "concurrency": 4},
            "erp": {"latency": {"mean": f"{latency_ms * 2}ms"}, "concurrency": 3},
            "billing": {"latency": f"{latency_ms}ms", "concurrency": 3},
            "provisioning": {"latency": {"p50": f"{latency_ms}ms", "p99": "3s"}, "concurrency": 2},
            "support": {"latency": f"{latency_ms}ms"},
        },
        # A timeout beyond the slowest draw: a caller that gives up early frees its
        # slot while the vendor still works (see test_short_timeouts_...).
        policy={**quiet_scenario().policy.model_dump(), "bulkhead": bulkhead, "timeout": timeout},
    )
    world = World(scenario, 1, pattern, script=schedule)
    world.run(orders=30)
    return world


rates = st.floats(3_600, 72_000)
latencies = st.integers(50, 800)


@given(
    rate=rates,
    latency_ms=latencies,
    pattern=st.sampled_from(PATTERNS),
    schedule=schedules,
)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_no_vendor_sees_more_concurrent_calls_than_its_limit(
    rate: float, latency_ms: int, pattern: str, schedule: Schedule
) -> None:
    world = crowded(rate, latency_ms, pattern, True, schedule)
    assert concurrency_violations(world) == []
    assert saga_violations(world) == []


@given(seed=st.integers(1, 10_000), pattern=st.sampled_from(PATTERNS), schedule=schedules)
def test_same_seed_same_trace_hash(seed: int, pattern: str, schedule: Schedule) -> None:
    first = run(schedule, pattern, seed).result()
    second = run(schedule, pattern, seed).result()
    assert first == second
    other = run(schedule, pattern, seed + 1).result()
    assert other["trace_hash"] != first["trace_hash"]


# --- anti-patterns: switch a protection off and the property must fail ---------------


@pytest.mark.parametrize("pattern", PATTERNS)
def test_without_compensation_a_schedule_leaves_partial_state(pattern: str) -> None:
    broken = find(
        schedules,
        lambda s: bool(saga_violations(run(s, pattern, compensation=False))),
        settings=SEARCH,
    )
    world = run(broken, pattern, compensation=False)
    assert any("still stand" in problem for problem in saga_violations(world))
    assert world.recorder.summary(world.env.now)["orders_abandoned"] >= 1
    # the same schedule with compensation on satisfies the property
    assert saga_violations(run(broken, pattern)) == []


@pytest.mark.parametrize("pattern", PATTERNS)
def test_without_idempotency_keys_a_lost_response_duplicates_a_record(pattern: str) -> None:
    broken = find(
        schedules,
        lambda s: bool(duplicate_effects(run(s, pattern, idempotency_keys=False))),
        settings=SEARCH,
    )
    assert any("timeout" in faults.values() for faults in broken.values())
    assert duplicate_effects(run(broken, pattern)) == []


@pytest.mark.parametrize("pattern", PATTERNS)
def test_without_a_bulkhead_a_vendor_is_flooded(pattern: str) -> None:
    rate, latency_ms = find(
        st.tuples(rates, latencies),
        lambda args: bool(concurrency_violations(crowded(*args, pattern, False, {}))),
        settings=SEARCH,
    )
    flooded = crowded(rate, latency_ms, pattern, False, {})
    assert any("concurrent calls" in p for p in concurrency_violations(flooded))
    assert concurrency_violations(crowded(rate, latency_ms, pattern, True, {})) == []


def test_short_timeouts_let_a_bulkhead_overrun_the_vendor() -> None:
    # Callers give up after 300ms and free their slots; the vendor works on.
    flooded = crowded(36_000, 600, "sync_chain", True, {}, timeout="300ms")
    assert any("concurrent calls" in p for p in concurrency_violations(flooded))


# --- rate limits: Retry-After is honoured -----------------------------------------------

budgets = st.tuples(st.floats(0.2, 5.0), st.integers(1, 4))
"""A vendor's token bucket: (requests per second, burst)."""


def throttled(
    rate: float, bucket: tuple[float, int], pattern: str, honour: bool, system: str
) -> World:
    """Busy deals against one vendor with a tight token bucket."""
    per_second, burst = bucket
    retry = {"max_attempts": 6, "base": "200ms", "cap": "5s", "honor_retry_after": honour}
    scenario = quiet_scenario(
        pattern=pattern,
        workload={"arrivals_per_hour": rate, "accounts": 20, "inactive_account_rate": 0},
        systems={
            **quiet_scenario().systems.model_dump(),
            system: {"latency": "100ms", "rate_limit": {"per_second": per_second, "burst": burst}},
        },
        policy={**quiet_scenario().policy.model_dump(), "retry": retry},
    )
    world = World(scenario, 1, pattern)
    world.run(orders=20)
    return world


@given(
    rate=st.floats(3_600, 36_000),
    bucket=budgets,
    pattern=st.sampled_from(PATTERNS),
    system=st.sampled_from(("erp", "billing", "support")),
)
def test_throttled_calls_wait_out_retry_after(
    rate: float, bucket: tuple[float, int], pattern: str, system: str
) -> None:
    world = throttled(rate, bucket, pattern, True, system)
    assert early_retries(world) == []
    assert saga_violations(world) == []


def test_ignoring_retry_after_comes_back_too_early() -> None:
    rate, bucket = find(
        st.tuples(st.floats(3_600, 36_000), budgets),
        lambda args: bool(early_retries(throttled(*args, "sync_chain", False, "billing"))),
        settings=SEARCH,
    )
    assert early_retries(throttled(rate, bucket, "sync_chain", True, "billing")) == []


# --- liveness after healing: outages end, every deal ends, no drift ----------------------

outages = st.lists(
    st.tuples(
        st.sampled_from(SYSTEMS),
        st.integers(0, 600),
        st.integers(30, 1800),
        st.sampled_from(("down", "degraded", "read_only")),
    ),
    max_size=3,
)
"""Outage windows: (system, start s, duration s, mode), all within the first 40 minutes."""


@given(windows=outages, pattern=st.sampled_from(PATTERNS), seed=st.integers(1, 50))
def test_after_outages_every_deal_ends_and_the_books_agree(
    windows: list[tuple[str, int, int, str]], pattern: str, seed: int
) -> None:
    systems = quiet_scenario().systems.model_dump()
    for system, start, duration, mode in windows:
        systems[system]["outages"].append({"start": start, "duration": duration, "mode": mode})
    scenario = quiet_scenario(
        pattern=pattern,
        systems=systems,
        policy={**quiet_scenario().policy.model_dump(), "breaker": {"cool_down": "20s"}},
    )
    world = World(scenario, seed, pattern)
    world.run(orders=12)
    assert world.recorder.pending == {}  # every deal ended
    assert saga_violations(world) == []
    assert duplicate_effects(world) == []
    metrics = world.result()["metrics"]
    assert metrics["data_quality_exceptions"] == 0, metrics["audit"]
