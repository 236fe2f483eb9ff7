"""The live command's whole session: the outbox over the order store's HTTP face,
the vendors' webhooks brought to the receivers, and one clock for both sides."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import mocks.live_run
from live.runtime import LiveRuntime
from mocks.clock import WallClock
from mocks.live_run import mocks_clock, run_live
from mocks.serve import serving
from mocks.shop import open_vendors
from mocks.vendor import VendorMock
from sim.scenario import load
from tests.support import quiet_scenario

ROOT = Path(__file__).resolve().parents[2]


def capture(monkeypatch: pytest.MonkeyPatch) -> dict[str, VendorMock]:
    """The mocks the live command serves, kept for the test to read their models."""
    opened: dict[str, VendorMock] = {}

    def keep(*args: Any, **kwargs: Any) -> dict[str, VendorMock]:
        opened.update(open_vendors(*args, **kwargs))
        return opened

    monkeypatch.setattr(mocks.live_run, "open_vendors", keep)
    return opened


def seconds(text: str) -> float:
    found = re.fullmatch(r"(?:(\d+)m)?([\d.]+)s", text)
    assert found, text
    return 60 * int(found.group(1) or 0) + float(found.group(2))


def test_the_outbox_runs_live_and_commits_on_the_stores_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = capture(monkeypatch)
    scenario = load(ROOT / "scenarios" / "erp_month_end_outage.yaml")
    lines = run_live(scenario, "outbox", 12, 5, 8400, True, 50.0)
    assert "deals closed 12: live 12," in lines[1], lines
    store = opened["oms"].vendor
    assert {c.status for c in store.commitments.values()} == {"accepted"}
    assert not store.unpublished  # the relay published every outbox entry
    # the store stamps committedAt with the mocks' clock: aligned, a commitment takes
    # two round trips (the simulator says 0.2 s p50), not also the time the mocks were
    # up before the runtime started (about 20 runtime seconds at 50x here, unaligned)
    p50 = seconds(re.search(r"commitment p50 (\S+)", lines[2]).group(1))  # type: ignore[union-attr]
    assert p50 < 10.0, lines[2]


def test_the_runtime_reads_the_mocks_clock_once_aligned() -> None:
    clock = WallClock(50.0)
    time.sleep(0.05)  # the mocks have been up a while: 2.5 s of their time
    runtime = LiveRuntime({}, {}, 50.0)
    assert abs(runtime.now() - clock.now()) > 2.0
    runtime.align(clock.now())
    assert abs(runtime.now() - clock.now()) < 0.2  # 4 ms of real time, at most


def test_a_runtime_at_another_time_scale_than_the_mocks_is_refused() -> None:
    clock = WallClock(10.0)
    scenario = load(ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml")
    with serving(open_vendors(scenario, clock, systems=("crm",)), clock) as urls:
        with pytest.raises(
            ConnectionError, match=r"run at 10x time, this run at 20x; pass --time-scale 10"
        ):
            mocks_clock(urls, 20.0)
        assert mocks_clock(urls, 10.0) >= 0.0


def test_webhooks_reach_the_receivers_and_each_payment_is_posted_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = capture(monkeypatch)
    scenario = quiet_scenario(
        pattern="hybrid",
        systems={
            "crm": {"latency": "100ms"},
            "erp": {"latency": "300ms"},
            # invoices collected within the run, each announced signed
            "billing": {
                "latency": "200ms",
                "payments": {"delay": "20s"},
                "webhooks": {"secret": "whsec_live"},
            },
            "provisioning": {"latency": "200ms", "webhooks": {}},
            "support": {"latency": "150ms"},
            "oms": {"latency": "10ms"},
        },
        # timeouts that a loaded test machine's real milliseconds, times 20, stay under
        policy={"timeout": "30s", "breaker": None},
    )
    lines = run_live(scenario, "hybrid", 12, 11, 8400, True, 20.0)
    forwarded = next(line for line in lines if line.startswith("webhooks forwarded"))
    assert "provisioning 12;" in forwarded and "dead-lettered 0" in forwarded, forwarded
    erp, billing, store = (opened[name].vendor for name in ("erp", "billing", "oms"))
    paid = {i.id for i in billing.invoices.values() if i.status == "paid"}
    assert paid, forwarded
    # signed by billing, verified by its receiver, remembered in the order store
    assert sum(k.startswith("billing:") for k in store.seen) >= len(paid)
    posted = Counter(p.reference for p in erp.payments.values())
    assert set(posted) == paid and max(posted.values()) == 1, posted  # each once, none missed
