"""The weather around a vendor: ``sim.faults.Faults`` driven by ``SystemKnobs``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.faults import EDGE_FRACTION, Faults, latency_sampler
from sim.knobs import Latency, SystemKnobs
from sim.rng import Streams
from sim.systems import Crm
from sim.systems.base import Vendor
from tests.support import erp_with_customer, order_params


def _faults(vendor: Vendor | None = None, seed: int = 1, **knobs: Any) -> Faults:
    knobs.setdefault("latency", "100ms")
    script = knobs.pop("script", None)
    return Faults(
        vendor or erp_with_customer(), SystemKnobs.model_validate(knobs), Streams(seed), script
    )


def _write(faults: Faults, now: float, n: int = 1) -> tuple[Any, ...]:
    fate = faults("createSalesOrder", order_params(n), f"D-{n}:order", now)
    faults.done()
    return fate


def _read(faults: Faults, now: float) -> tuple[Any, ...]:
    fate = faults("getCustomer", {"id": "CUS-000001"}, None, now)
    faults.done()
    return fate


# --- a quiet system ---------------------------------------------------------------


def test_quiet_system_passes_calls_to_the_vendor() -> None:
    faults = _faults()
    status, body, retry_after, latency, lost = _write(faults, 0.0)
    assert status == 201
    assert body["id"] == "SO-000001"
    assert retry_after is None
    assert latency == pytest.approx(0.1)
    assert lost is False
    assert faults.seen == 1
    assert faults.in_flight == 0
    assert faults.peak == 1


# --- rate limit (token bucket) ----------------------------------------------------


def test_token_bucket_allows_a_burst_then_429_with_time_to_next_token() -> None:
    faults = _faults(rate_limit={"per_second": 2, "burst": 3})
    statuses = [_write(faults, 0.0, n)[0] for n in range(1, 4)]
    assert statuses == [201, 201, 201]
    status, body, retry_after, latency, lost = _write(faults, 0.0, 4)
    assert status == 429
    assert body["code"] == "TOO_MANY_REQUESTS"
    assert retry_after == pytest.approx(0.5)  # one token per 0.5 s, bucket empty
    assert latency == pytest.approx(0.1 * EDGE_FRACTION)
    assert lost is False
    assert len(faults.vendor.orders) == 3  # type: ignore[attr-defined]
    # a quarter second later half a token has refilled: wait the other half
    status, _, retry_after, _, _ = _write(faults, 0.25, 5)
    assert status == 429
    assert retry_after == pytest.approx(0.25)
    # at the promised time the call passes
    assert _write(faults, 0.5, 6)[0] == 201
    assert _write(faults, 0.5, 7)[0] == 429


def test_token_bucket_refills_over_time_up_to_the_burst() -> None:
    faults = _faults(rate_limit={"per_second": 2, "burst": 3})
    for n in range(3):
        _write(faults, 0.0, n + 1)
    assert _write(faults, 0.0, 9)[0] == 429
    # 1 s later: two tokens back
    assert [_write(faults, 1.0, n)[0] for n in range(10, 13)] == [201, 201, 429]
    # a long quiet spell fills the bucket to the burst, not beyond
    assert [_write(faults, 100.0, n)[0] for n in range(20, 24)] == [201, 201, 201, 429]


def test_token_bucket_sustained_rate_matches_per_second() -> None:
    faults = _faults(rate_limit={"per_second": 5, "burst": 1})
    passed = sum(_read(faults, t * 0.01)[0] == 200 for t in range(1000))  # 10 s, 100 calls/s
    assert passed == pytest.approx(5 * 10, abs=2)


def test_no_rate_limit_means_no_429() -> None:
    faults = _faults()
    assert {_read(faults, 0.0)[0] for _ in range(500)} == {200}


# --- concurrency limit --------------------------------------------------------------


def test_concurrency_limit_answers_400_sss_request_limit_exceeded() -> None:
    faults = _faults(concurrency=2)
    first = faults("createSalesOrder", order_params(1), "k1", 0.0)
    second = faults("createSalesOrder", order_params(2), "k2", 0.0)
    status, body, retry_after, latency, lost = faults(
        "createSalesOrder", order_params(3), "k3", 0.0
    )
    assert (first[0], second[0]) == (201, 201)
    assert status == 400  # NetSuite style, not 429
    assert body["code"] == "SSS_REQUEST_LIMIT_EXCEEDED"
    assert retry_after is None
    assert latency == pytest.approx(0.1 * EDGE_FRACTION)
    assert lost is False
    assert len(faults.vendor.orders) == 2  # type: ignore[attr-defined]
    assert "k3" not in faults.vendor.keys  # refused at the door: no key stored
    assert faults.peak == 3


def test_done_frees_a_concurrency_slot() -> None:
    faults = _faults(concurrency=2)
    faults("getCustomer", {"id": "CUS-000001"}, None, 0.0)
    faults("getCustomer", {"id": "CUS-000001"}, None, 0.0)
    assert faults("getCustomer", {"id": "CUS-000001"}, None, 0.0)[0] == 400
    faults.done()  # the refused call
    assert faults("getCustomer", {"id": "CUS-000001"}, None, 0.0)[0] == 400
    faults.done()  # the second refused call
    faults.done()  # one of the two that got in
    assert faults.in_flight == 1
    assert faults("getCustomer", {"id": "CUS-000001"}, None, 0.0)[0] == 200
    assert faults.in_flight == 2


# --- outage windows -------------------------------------------------------------------


def test_down_window_answers_503_to_everything_inside_it_only() -> None:
    faults = _faults(outages=[{"start": "10s", "duration": "5s", "mode": "down"}])
    assert _write(faults, 9.999, 1)[0] == 201
    assert _write(faults, 10.0, 2)[0] == 503
    status, body, _, latency, lost = _read(faults, 14.9)
    assert status == 503
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert latency == pytest.approx(0.1 * EDGE_FRACTION)
    assert lost is False
    assert _write(faults, 15.0, 3)[0] == 201  # the window's end is open
    assert sorted(o.external_id for o in faults.vendor.orders.values()) == [  # type: ignore[attr-defined]
        "D-000001",
        "D-000003",
    ]


def test_read_only_window_refuses_writes_and_serves_reads() -> None:
    faults = _faults(outages=[{"start": 0, "duration": "1h", "mode": "read_only"}])
    assert _read(faults, 10.0)[0] == 200
    assert _write(faults, 10.0)[0] == 503
    assert faults.vendor.orders == {}  # type: ignore[attr-defined]
    assert _write(faults, 3600.0)[0] == 201


def test_degraded_window_fails_about_its_error_rate() -> None:
    faults = _faults(
        outages=[{"start": 0, "duration": "1h", "mode": "degraded", "error_rate": 0.3}]
    )
    n = 4000
    failed = sum(_read(faults, 1.0)[0] == 503 for _ in range(n))
    assert failed / n == pytest.approx(0.3, abs=0.03)
    after = sum(_read(faults, 3600.0)[0] == 503 for _ in range(200))
    assert after == 0


def test_several_windows_each_apply() -> None:
    faults = _faults(
        outages=[
            {"start": "1m", "duration": "1m", "mode": "down"},
            {"start": "5m", "duration": "1m", "mode": "read_only"},
        ]
    )
    assert [_write(faults, t, n)[0] for n, t in enumerate([30, 90, 150, 310, 400], 1)] == [
        201,
        503,
        201,
        503,
        201,
    ]


# --- random errors and lost responses ---------------------------------------------------


def test_timeout_rate_applies_the_write_but_loses_the_response() -> None:
    faults = _faults(timeout_rate=1.0)
    status, body, _, latency, lost = _write(faults, 0.0)
    assert lost is True
    assert status == 201
    assert latency == pytest.approx(0.1)
    assert body["id"] in faults.vendor.orders  # type: ignore[attr-defined]


def test_error_rate_answers_503_and_applies_nothing() -> None:
    faults = _faults(error_rate=1.0)
    status, body, _, _, lost = _write(faults, 0.0)
    assert status == 503
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert lost is False
    assert faults.vendor.orders == {}  # type: ignore[attr-defined]
    assert faults.vendor.keys == {}


def test_error_and_timeout_shares_match_their_rates() -> None:
    faults = _faults(error_rate=0.1, timeout_rate=0.2)
    n = 5000
    fates = [_write(faults, float(i), i) for i in range(1, n + 1)]
    errors = sum(f[0] == 503 for f in fates)
    lost = [f for f in fates if f[4]]
    assert errors / n == pytest.approx(0.1, abs=0.02)
    assert len(lost) / n == pytest.approx(0.2, abs=0.025)
    assert all(f[0] == 201 for f in lost)
    assert len(faults.vendor.orders) == n - errors  # type: ignore[attr-defined]


# --- scripted faults ---------------------------------------------------------------------


def test_scripted_faults_by_call_number() -> None:
    faults = _faults(script={2: "error", 3: "timeout", 4: "throttle", 5: "reject"})
    fates = [_write(faults, float(n), n) for n in range(1, 7)]
    orders = faults.vendor.orders  # type: ignore[attr-defined]
    assert [f[0] for f in fates] == [201, 503, 201, 429, 422, 201]
    assert [f[4] for f in fates] == [False, False, True, False, False, False]
    assert fates[3][2] == 1.0  # the scripted throttle asks for a second
    assert fates[4][1]["code"] == "SCRIPTED_REJECTION"
    # only calls 1, 3 (lost) and 6 reached the vendor
    assert sorted(o.external_id for o in orders.values()) == ["D-000001", "D-000003", "D-000006"]


def test_script_counts_every_call_to_the_system_reads_included() -> None:
    faults = _faults(script={2: "error"})
    assert _read(faults, 0.0)[0] == 200
    assert _write(faults, 0.0)[0] == 503
    assert _read(faults, 0.0)[0] == 200


def test_script_overrides_the_weather() -> None:
    faults = _faults(
        error_rate=1.0,
        outages=[{"start": 0, "duration": "1h", "mode": "down"}],
        script={1: "timeout"},
    )
    status, _, _, _, lost = _write(faults, 1.0)
    assert (status, lost) == (201, True)
    assert len(faults.vendor.orders) == 1  # type: ignore[attr-defined]
    assert _write(faults, 2.0, 2)[0] == 503


# --- latency forms --------------------------------------------------------------------------


def _latencies(latency: Any, n: int = 4000, seed: int = 3) -> np.ndarray:
    faults = _faults(latency=latency, seed=seed)
    return np.array([_read(faults, 0.0)[3] for _ in range(n)])


def test_fixed_latency() -> None:
    draws = _latencies("250ms", n=100)
    assert np.all(draws == 0.25)


def test_exponential_latency_has_its_mean() -> None:
    draws = _latencies({"mean": "300ms"})
    assert draws.mean() == pytest.approx(0.3, rel=0.06)
    assert np.median(draws) == pytest.approx(0.3 * math.log(2), rel=0.08)
    assert draws.min() >= 0


def test_lognormal_latency_matches_its_p50_and_p99() -> None:
    draws = _latencies({"p50": "120ms", "p99": "2s"}, n=6000)
    assert np.median(draws) == pytest.approx(0.12, rel=0.06)
    assert np.percentile(draws, 99) == pytest.approx(2.0, rel=0.2)
    assert draws.min() > 0


def test_latency_sampler_forms() -> None:
    gen = Streams(1).get("x")
    assert latency_sampler(Latency.model_validate("2s"))(gen, 3).tolist() == [2.0, 2.0, 2.0]
    fitted = latency_sampler(Latency.model_validate({"p50": "100ms", "p99": "100ms"}))(gen, 5)
    assert fitted == pytest.approx([0.1] * 5)  # p50 == p99: no spread


def test_latency_p50_seconds() -> None:
    assert Latency.model_validate("2s").p50_seconds == 2.0
    assert Latency.model_validate({"mean": 1}).p50_seconds == pytest.approx(math.log(2))
    assert Latency.model_validate({"p50": "120ms", "p99": "2s"}).p50_seconds == 0.12


# --- determinism -----------------------------------------------------------------------------


def test_streams_are_deterministic_per_name_and_seed() -> None:
    a = Streams(42).get("erp.latency").random(5).tolist()
    b = Streams(42).get("erp.latency").random(5).tolist()
    other_name = Streams(42).get("crm.latency").random(5).tolist()
    other_seed = Streams(43).get("erp.latency").random(5).tolist()
    assert a == b
    assert a != other_name
    assert a != other_seed


def test_draws_follow_the_stream_inorder_params() -> None:
    draws = Streams(5).draws("erp.latency", lambda gen, n: gen.random(n))
    expected = Streams(5).get("erp.latency").random(10).tolist()
    assert [draws() for _ in range(10)] == expected


def test_same_seed_same_weather_whatever_else_exists() -> None:
    knobs = {"latency": {"p50": "100ms", "p99": "1s"}, "error_rate": 0.2, "timeout_rate": 0.1}

    def fates(noise: bool) -> list[tuple[Any, ...]]:
        streams = Streams(11)
        crm = None
        if noise:  # another system on the same streams must not shift the ERP's dice
            crm = Faults(Crm(), SystemKnobs.model_validate(knobs), streams)
        faults = Faults(erp_with_customer(), SystemKnobs.model_validate(knobs), streams)
        out = []
        for n in range(300):
            if crm is not None:
                crm("getAccount", {"id": "ACC-1"}, None, 0.0)
                crm.done()
            fate = _write(faults, 0.0, n)
            out.append((fate[0], fate[3], fate[4]))
        return out

    quiet, noisy = fates(False), fates(True)
    assert quiet == noisy
    assert {f[0] for f in quiet} == {201, 503}
    assert any(f[2] for f in quiet)


def test_different_seed_different_weather() -> None:
    def latencies(seed: int) -> list[float]:
        faults = _faults(latency={"mean": "1s"}, seed=seed)
        return [_read(faults, 0.0)[3] for _ in range(20)]

    assert latencies(1) == latencies(1)
    assert latencies(1) != latencies(2)
