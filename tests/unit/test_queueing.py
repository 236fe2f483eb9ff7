"""Queueing figures per system, checked against Erlang C, and the sample they rest on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.queueing import erlang_c
from sim.sample import EXACT_LIMIT, Sample, quantiles
from sim.scenario import load
from sim.world import World

ROOT = Path(__file__).resolve().parents[2]


def test_erlang_c_matches_the_textbook_values() -> None:
    # M/M/1 is the case with a closed form: C = rho, W = rho / (mu - lambda)
    single = erlang_c(0.5, 1.0, 1)
    assert math.isclose(single["wait_probability"], 0.5)
    assert math.isclose(single["mean_wait_s"], 1.0)
    # M/M/2 at 80%: C = 2 rho^2 / (1 + rho) = 0.7111
    double = erlang_c(1.0, 1.6, 2)
    assert math.isclose(double["wait_probability"], 2 * 0.8**2 / 1.8)
    assert math.isclose(double["mean_wait_s"], 0.7111111 / 0.25, rel_tol=1e-6)
    with pytest.raises(ValueError, match="grows without bound"):
        erlang_c(2.0, 1.0, 2)


def test_the_simulated_queue_waits_as_erlang_c_says() -> None:
    """The bundled M/M/2 scenario (4 h, about 14,400 calls) against the formula.

    The tolerances are three standard deviations of each estimate across seeds at
    this run length (measured over 12 seeds of 2 h and scaled by the square root of
    the length: the mean wait's SD is about 11% at 4 h, as waits at 80% load are
    strongly correlated; the share that waited 1.6 points; utilisation 0.3 points).
    """
    world = World(load(ROOT / "scenarios" / "erlang_c.yaml"), 7)
    world.run()
    figures = world.result()["metrics"]["queueing"]["provisioning"]
    calls = world.lines["provisioning"].calls
    theory = erlang_c(1.0, 1.6, 2)
    assert figures["slots"] == 2
    assert figures["utilisation"] == pytest.approx(theory["utilisation"], abs=0.01)
    assert figures["waited"] / calls == pytest.approx(theory["wait_probability"], abs=0.05)
    assert figures["slot_wait_s"]["mean"] == pytest.approx(theory["mean_wait_s"], rel=0.35)
    assert figures["slot_wait_s"]["p50"] == pytest.approx(theory["p50_wait_s"], rel=0.35)
    # Little's law ties the time-average queue to the arrival rate and the mean wait
    little = figures["offered_per_s"] * figures["slot_wait_s"]["mean"]
    assert figures["waiting_mean"] == pytest.approx(little, rel=0.01)
    assert figures["in_flight_mean"] == pytest.approx(1.6, rel=0.05)
    # the other systems answer in 5 ms with nothing in the way
    assert figures["latency_s"]["mean"] == pytest.approx(1.6, rel=0.05)
    crm = world.result()["metrics"]["queueing"]["crm"]
    assert crm["slot_wait_s"]["p99"] == 0.0 and crm["latency_s"]["p50"] == 0.005


def test_without_a_bulkhead_nothing_waits_for_a_slot() -> None:
    scenario = load(ROOT / "scenarios" / "erlang_c.yaml")
    scenario = scenario.model_copy(
        update={"policy": scenario.policy.model_copy(update={"bulkhead": False})}
    )
    world = World(scenario, 7)
    world.run(duration=600.0)
    figures = world.result()["metrics"]["queueing"]["provisioning"]
    assert figures["waited"] == 0 and figures["slots"] is None
    assert figures["utilisation"] is None
    assert figures["in_flight_mean"] > 1.2  # the vendor works on every call at once


def test_a_throttled_call_counts_its_retry_after_as_a_token_wait(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "erlang_c.yaml").read_text(encoding="utf-8")
    throttled = text.replace(
        "support: {latency: {fixed: 5ms}}",
        "support: {latency: {fixed: 5ms}, rate_limit: {per_second: 0.5, burst: 2}}",
    )
    assert throttled != text
    (tmp_path / "throttled.yaml").write_text(throttled, encoding="utf-8")
    world = World(load(tmp_path / "throttled.yaml"), 7)
    world.run(duration=300.0)
    metrics = world.result()["metrics"]
    support = metrics["queueing"]["support"]
    refused = metrics["systems"]["support"]["rate_limited"]
    assert refused > 50
    assert len(world.lines["support"].tokens) == refused  # each 429 said how long
    assert 0 < support["token_wait_s"]["mean"] <= 2.0  # a token every 2 s
    assert support["token_wait_s"]["p99"] > 0
    assert metrics["queueing"]["billing"]["token_wait_s"]["mean"] == 0.0


def test_a_sample_is_exact_below_its_limit_and_close_past_it() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(0.0, 1.5, 3 * EXACT_LIMIT + 17)
    sample = Sample()
    for start in range(0, values.size, 10_000):
        sample.values.extend(values[start : start + 10_000].tolist())
        sample.fold()
    assert sample.sketch is not None and len(sample.values) < EXACT_LIMIT
    assert len(sample) == values.size
    assert sample.total() == pytest.approx(float(values.sum()), rel=1e-9)
    exact = quantiles(values)
    sketched = sample.quantiles()
    for name in ("p50", "p95", "p99"):
        assert sketched[name] == pytest.approx(exact[name], rel=0.006)
    # zeros counted without storing them move the quantiles as stored zeros would
    with_zeros = quantiles(values, zeros=values.size)
    assert sample.quantiles(zeros=values.size)["p95"] == pytest.approx(with_zeros["p95"], rel=0.006)
    assert sample.quantiles(zeros=values.size)["p50"] == pytest.approx(
        with_zeros["p50"], rel=0.02, abs=0.002
    )
    small = Sample([3.0, 1.0, 2.0])
    small.fold()
    assert small.sketch is None and small.quantiles()["p50"] == 2.0


def test_merging_samples_keeps_every_value() -> None:
    a, b = Sample([1.0] * EXACT_LIMIT), Sample([2.0, 4.0])
    a.fold()
    b.merge(a)
    assert len(b) == EXACT_LIMIT + 2
    assert b.total() == pytest.approx(EXACT_LIMIT + 6.0)
