"""Rules stated as tests, each on its own: the README's figures pin numbers, these pin
the rules behind them (a rule broken here fails here, whatever the figures say)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.client import Client
from orchestrator.errors import Throttled, Unavailable
from orchestrator.resilience import BreakerPolicy, Policy, RetryPolicy, backoff
from sim.metrics import Recorder
from tests.support import Plan

ROOT = Path(__file__).resolve().parents[2]
COMMAND = str(Path(sys.executable).with_name("lifecycle-sandbox"))


@pytest.mark.parametrize("jitter", ["none", "full", "equal"])
def test_no_backoff_exceeds_its_cap_whatever_the_jitter(jitter: str) -> None:
    policy = RetryPolicy(max_attempts=30, base=0.5, multiplier=3.0, cap=20.0, jitter=jitter)  # type: ignore[arg-type]
    late = [backoff(policy, attempt, f"D-{n}:order") for n in range(40) for attempt in (12, 25)]
    assert all(0.0 <= delay <= 20.0 for delay in late)
    low = {"none": 20.0, "full": 0.0, "equal": 10.0}[jitter]
    assert min(late) >= low  # jitter shortens a capped delay, never stretches it
    if jitter != "none":
        assert max(late) < 20.0 and len(set(late)) > 40  # and spreads the crowd
    # Retry-After comes on top of the capped delay: never sooner, never uncapped
    assert 60.0 + low <= backoff(policy, 25, "k", retry_after=60.0) <= 80.0


def client_with_breaker() -> Client:
    return Client(
        Policy(
            retry=RetryPolicy(max_attempts=6, base=1.0, cap=2.0, jitter="none"),
            breaker=BreakerPolicy(failure_threshold=2, cool_down=30.0),
        )
    )


def test_throttling_never_opens_the_breaker() -> None:
    client = client_with_breaker()
    throttled = [Throttled("erp", "createSalesOrder", 429, retry_after=1.0)] * 5
    plan = Plan({"erp.createSalesOrder": [*throttled, {"id": "SO-1"}]}, strict=True)
    assert plan.run(client.call("D-1", "order", "erp", "createSalesOrder", {})) == {"id": "SO-1"}
    breaker = client.breakers["erp"]
    assert breaker.state == "closed" and breaker.opens == 0  # busy is not down


def test_failures_between_throttles_still_open_the_breaker() -> None:
    client = client_with_breaker()
    down = Unavailable("erp", "createSalesOrder", 503)
    busy = Throttled("erp", "createSalesOrder", 429, retry_after=1.0)
    plan = Plan({"erp.createSalesOrder": [down, down, busy, {"id": "SO-1"}]}, strict=True)
    plan.run(client.call("D-1", "order", "erp", "createSalesOrder", {}))
    breaker = client.breakers["erp"]
    assert breaker.opens == 1  # two failures in a row open it
    # nothing was sent while it was open: the trial waited out the cool-down
    # (it opened on the second failure, at t=1 after the first sleep; the trial, the
    # third call, came after three sleeps)
    assert sum(plan.slept[:3]) >= 1.0 + 30.0
    # a throttled trial answered: the vendor is up (busy), so the circuit closed
    assert breaker.state == "closed"


def test_the_slas_leave_business_rejections_out_and_count_every_failure() -> None:
    recorder = Recorder(sla_live=100.0, sla_commitment=10.0)
    for deal in ("on-time", "late", "rejected", "undone", "overdue", "refused-late"):
        recorder.close(deal, 0.0)
    recorder.observe("order.accepted", "on-time", {}, 5.0)
    recorder.observe("order.live", "on-time", {}, 50.0)
    recorder.observe("order.accepted", "late", {}, 20.0)  # committed past 10 s
    recorder.observe("order.live", "late", {}, 150.0)  # live past 100 s
    recorder.observe("order.rejected", "rejected", {}, 3.0)  # a business "no"
    recorder.observe("order.accepted", "undone", {}, 4.0)
    recorder.observe("order.compensated", "undone", {}, 60.0)
    recorder.observe("order.rejected", "refused-late", {}, 40.0)  # "no", after 40 s
    summary = recorder.summary(now=200.0)  # "overdue" is still in flight
    assert summary["orders_rejected"] == 2
    # live SLA: live in time over every deal due (live, went wrong, or overdue);
    # the rejections are no breach and no success
    assert summary["sla_compliance"] == round(1 / 4, 4)  # on-time / (2 live + undone + overdue)
    # commitment SLA: accepted in time over every deal that asked and got an answer
    # or waited too long, rejections left out
    assert summary["commitment_sla_compliance"] == round(2 / 4, 4)  # on-time, undone


def test_a_run_with_retries_and_redeliveries_is_the_same_in_two_processes(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "webhook_storm.yaml"
    files = [tmp_path / "a.json", tmp_path / "b.json"]
    for hashing, path in enumerate(files, 1):
        subprocess.run(
            [COMMAND, "run", str(scenario), "--orders", "300", "--seed", "11",
             "--json", str(path)],
            cwd=ROOT, check=True, capture_output=True, timeout=120,
            env={**os.environ, "PYTHONHASHSEED": str(hashing)},  # sets iterate otherwise
        )  # fmt: skip
    first, second = (path.read_bytes() for path in files)
    assert first == second
    metrics = json.loads(first)["metrics"]
    assert sum(s["retries"] for s in metrics["systems"].values()) > 0
    assert metrics["broker"]["redelivered"] > 0 and metrics["broker"]["delivered"] > 0


def test_the_next_call_with_a_key_waits_out_the_retry_after_its_last_attempt_got() -> None:
    client = Client(Policy(retry=RetryPolicy(max_attempts=2, base=1.0, jitter="none")))
    busy = Throttled("erp", "createSalesOrder", 429, retry_after=30.0)
    plan = Plan({"erp.createSalesOrder": [busy, busy, {"id": "SO-1"}]}, strict=True)
    with pytest.raises(Throttled):
        plan.run(client.call("D-1", "order", "erp", "createSalesOrder", {}))
    given_up_at = plan.now
    # the saga's look-up of the uncertain step: same workflow, same step, same key
    plan.run(client.call("D-1", "order", "erp", "createSalesOrder", {}))
    assert plan.now - given_up_at >= 30.0  # it came back no sooner than the vendor said
    assert client.embargo == {}
