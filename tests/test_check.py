"""``lifecycle-sandbox check``: swarm profiles, every property, and failures that
replay from one line. Each planted bug is one a property must catch."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import orchestrator.client
import orchestrator.saga
import sim.broker
import sim.check
from sim.check import check_seed, patterns_of
from sim.cli import app
from sim.scenario import load
from sim.swarm import KINDS, apply, draw, only, settle_bound
from sim.world import World

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = "scenarios/b2b_saas_quote_to_cash.yaml"
README = ROOT / "README.md"
DEALS = 60


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def swapped_budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The planted bug: undo steps retried on the forward budget."""
    compensate = orchestrator.saga.Saga.compensate

    def on_the_forward_budget(self: orchestrator.saga.Saga) -> Any:
        policy = self.client.policy
        self.client.policy = dataclasses.replace(policy, compensation_retry=policy.retry)
        try:
            return (yield from compensate(self))
        finally:
            self.client.policy = policy

    monkeypatch.setattr(orchestrator.saga.Saga, "compensate", on_the_forward_budget)
    yield


def test_every_property_holds_on_a_bounded_number_of_seeds() -> None:
    result = invoke("check", str(ROOT / BUNDLED), "--seeds", "24", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "every property held on every seed" in result.output
    assert "24 seeds of 200 deals" in result.output and "1 run twice" in result.output
    for name in sim.check.PROPERTIES:
        assert re.search(rf"{name}\s+│\s+24 │\s+0 │", result.output), name


def test_a_broken_build_fails_with_the_seed_and_the_line_that_replays_it(
    swapped_budgets: None,
) -> None:
    result = invoke("check", BUNDLED, "--seeds", "30", "--workers", "1")
    assert result.exit_code == 1
    output = result.output
    assert "FAILED: 2 of 30 seeds broke a property" in output
    assert "budgets: D-000048 escalated on the retry budget, not compensation_retry" in output
    line = re.search(r"replay: lifecycle-sandbox (check .*)", output)
    assert line is not None
    assert line.group(1) == (
        f"check {BUNDLED} --replay 5 --deals 200 --pattern sync_chain --only outages"
    )
    again = invoke(*line.group(1).split())
    assert again.exit_code == 1 and "escalated on the retry budget" in again.output
    assert f"replay: lifecycle-sandbox {line.group(1)}" in again.output  # it replays itself
    # the README shows this very report
    block = README.read_text().split("<!-- check-failure -->")[1]
    shown = [row.strip() for row in block.strip().strip("`").strip().splitlines()]
    printed = [row.strip() for row in output.strip().splitlines()]
    assert [row for row in shown if row.startswith(("seed ", "  ", "budgets", "replay", "FAILED"))]
    for row in shown:
        if row.startswith(("FAILED", "seed 5", "budgets:", "replay:")):
            assert row in printed, row


def test_the_replay_of_a_fixed_build_holds_and_writes_its_event_log(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    result = invoke(
        "check", BUNDLED, "--replay", "5", "--deals", "40", "--only", "outages",
        "--events", str(log),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "every property held" in result.output
    first = json.loads(log.read_text().splitlines()[0])
    assert isinstance(first, dict) and first


def first_failing(pattern: str, kind: str | None = None) -> Any:
    """The verdict of the first seed (of 60) that breaks a property, with ``pattern``
    and (if named) a profile that has the fault kind ``kind`` on."""
    base = load(ROOT / BUNDLED)
    return next(
        v
        for seed in range(1, 60)
        if (kind is None or kind in draw(seed, base)["kinds"])
        and not (v := check_seed(base, seed, DEALS, pattern)).held
    )


def test_forward_steps_on_the_compensation_budget_break_the_budgets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = orchestrator.client.Client.call

    def patient(self: orchestrator.client.Client, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("retry") is None:  # the planted bug: forward calls on the undo budget
            kwargs["retry"] = self.policy.compensation_retry
        return call(self, *args, **kwargs)

    monkeypatch.setattr(orchestrator.client.Client, "call", patient)
    found = first_failing("sync_chain")
    assert any("compensation_retry budget, not retry" in p for p in found.violations["budgets"])


def test_a_broker_that_drops_a_failed_delivery_breaks_liveness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the planted bug: a failed delivery is neither redelivered nor dead-lettered
    monkeypatch.setattr(sim.broker.Broker, "_again", lambda self, group, envelope, exc: None)
    found = first_failing("hybrid", "errors")
    assert "not settled" in found.violations["liveness"][0]


def test_compensating_out_of_order_breaks_the_saga_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    compensate = orchestrator.saga.Saga.compensate

    def forwards(self: orchestrator.saga.Saga) -> Any:
        self.done.reverse()  # the planted bug: undo the oldest step first
        return (yield from compensate(self))

    monkeypatch.setattr(orchestrator.saga.Saga, "compensate", forwards)
    found = first_failing("sync_chain")
    assert any("out of reverse commit order" in p for p in found.violations["saga outcome"])


def test_without_idempotency_keys_a_lost_response_makes_a_second_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def keyless(base: Any, profile: Any) -> Any:
        scenario = apply(base, profile)
        policy = scenario.policy.model_copy(update={"idempotency_keys": False})
        return scenario.model_copy(update={"policy": policy})

    monkeypatch.setattr(sim.check, "apply", keyless)
    found = first_failing("sync_chain", "lost_responses")
    assert "one effect per step" in found.violations


def test_a_run_that_differs_the_second_time_fails_determinism(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = iter(range(100))
    result = World.result

    def drifting(self: World) -> dict[str, Any]:
        return {**result(self), "drift": next(runs)}  # the planted bug: a hidden clock

    monkeypatch.setattr(World, "result", drifting)
    verdict = check_seed(load(ROOT / BUNDLED), sim.check.TWICE, DEALS)
    assert verdict.twice and "determinism" in verdict.violations


def test_profiles_are_drawn_per_seed_and_narrowed_by_kind() -> None:
    base = load(ROOT / BUNDLED)
    profiles = [draw(seed, base) for seed in range(200)]
    assert draw(7, base) == draw(7, base)
    combos = {tuple(p["kinds"]) for p in profiles}
    assert len(combos) > 90  # of 128 possible mixes in 200 seeds: rare ones occur
    drawn = {k for p in profiles for k in p["kinds"]}
    assert drawn == set(KINDS) - {"webhook_delays"}  # no system here sends webhooks
    storm = load(ROOT / "scenarios" / "webhook_storm.yaml")
    assert any("webhook_delays" in draw(seed, storm)["kinds"] for seed in range(20))
    budgets = {
        (p["policy"]["retry"]["max_attempts"], p["policy"]["compensation_retry"]["max_attempts"])
        for p in profiles
    }
    assert any(forward != undo for forward, undo in budgets)  # a swap is visible
    assert {p["policy"]["breaker"] is None for p in profiles} == {True, False}
    narrowed = only(profiles[2], ["outages"])
    assert narrowed["policy"] == profiles[2]["policy"]
    assert all(set(knobs) <= {"outages"} for knobs in narrowed["systems"].values())
    scenario = apply(base, narrowed)
    assert scenario.knobs("erp").error_rate == 0.0  # the base's own faults are out
    assert settle_bound(scenario) > scenario.copy_horizon()
    assert set(patterns_of(base)) >= {"sync_chain", "hybrid"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--only", "errors"), "--only goes with --replay"),
        (("--replay", "3", "--only", "bogus"), "unknown fault kind 'bogus'"),
        (("--events", "x.jsonl"), "--events goes with --replay"),
        (("--pattern", "nonsense"), "nonsense"),
        (("--seeds", "0"), "--seeds"),
    ],
)
def test_bad_flags_exit_2_with_one_message(args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(app, ["check", BUNDLED, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
