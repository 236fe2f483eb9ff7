"""Retry backoff and the circuit breaker: pure functions and a small state machine."""

from __future__ import annotations

import pytest

from orchestrator.resilience import Breaker, BreakerPolicy, RetryPolicy, backoff, jitter_fraction


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.5, multiplier=2.0, cap=3.0, jitter="none")
    delays = [backoff(policy, attempt, "k") for attempt in range(1, 6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_stays_under_the_exponential_delay_and_is_a_function_of_the_key() -> None:
    policy = RetryPolicy(base=1.0, multiplier=2.0, cap=100.0, jitter="full")
    for attempt in range(1, 7):
        delay = backoff(policy, attempt, "D-1:order")
        assert 0.0 <= delay < 2.0 ** (attempt - 1)
        assert delay == backoff(policy, attempt, "D-1:order")  # replayable
    spread = {backoff(policy, 3, f"D-{n}:order") for n in range(50)}
    assert len(spread) > 40  # retries of different workflows do not stampede together


def test_equal_jitter_keeps_at_least_half_the_delay() -> None:
    policy = RetryPolicy(base=2.0, multiplier=2.0, cap=100.0, jitter="equal")
    for n in range(20):
        delay = backoff(policy, 2, f"k{n}")
        assert 2.0 <= delay < 4.0


def test_retry_after_is_the_earliest_moment_and_jitter_spreads_the_crowd() -> None:
    plain = RetryPolicy(base=0.5, jitter="none")
    assert backoff(plain, 1, "k", retry_after=7.0) == 7.5
    jittered = RetryPolicy(base=4.0, jitter="full")
    waits = [backoff(jittered, 1, f"D-{n}:sub", retry_after=10.0) for n in range(50)]
    assert all(10.0 <= w < 14.0 for w in waits)
    assert len({round(w, 6) for w in waits}) > 40  # not all back at the same instant
    ignoring = RetryPolicy(base=0.5, jitter="none", honor_retry_after=False)
    assert backoff(ignoring, 1, "k", retry_after=7.0) == 0.5


def test_jitter_fraction_is_in_the_unit_interval() -> None:
    values = [jitter_fraction(f"key{n}", n % 5) for n in range(500)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert 0.4 < sum(values) / len(values) < 0.6


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=3, cool_down=10.0))
    breaker.failure(1.0)
    breaker.failure(2.0)
    breaker.success()  # a success resets the count
    breaker.failure(3.0)
    breaker.failure(4.0)
    assert breaker.state == "closed" and breaker.allow(4.0)
    breaker.failure(5.0)
    assert breaker.state == "open" and breaker.opens == 1
    assert not breaker.allow(14.9)
    assert breaker.retry_at() == 15.0


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=1, cool_down=10.0))
    breaker.failure(0.0)
    assert breaker.allow(10.0)  # the trial
    assert breaker.state == "half_open"
    assert not breaker.allow(10.5)  # only one trial at a time
    breaker.success()
    assert breaker.state == "closed" and breaker.allow(10.6)


@pytest.mark.parametrize("trial_fails_at", [11.0, 30.0])
def test_a_failed_trial_opens_the_circuit_again(trial_fails_at: float) -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=2, cool_down=10.0))
    breaker.failure(0.0)
    breaker.failure(1.0)
    assert breaker.allow(11.0)
    breaker.failure(trial_fails_at)
    assert breaker.state == "open" and breaker.opens == 2
    assert not breaker.allow(trial_fails_at + 9.9)
    assert breaker.allow(trial_fails_at + 10.0)
