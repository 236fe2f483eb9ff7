"""The parts of a drill one by one: injections switch a knob and switch it back, the
operator's actions act on the running world, the series stays bounded."""

from __future__ import annotations

from typing import Any

import pytest

import sim.series
from sim.drill import Action, Injection
from sim.incidents import inject
from sim.operator import Refused, act
from sim.series import record
from sim.world import World
from tests.support import quiet_scenario


def world(**overrides: Any) -> World:
    scenario = quiet_scenario(pattern="hybrid", **overrides)
    return World(scenario, 3)


def books_balance(w: World) -> None:
    """Every event a group accepted is applied, dead-lettered, lost or still open."""
    for group in w.broker.groups():
        settled = group.applied + group.dead_lettered + group.lost + len(group.open)
        assert group.accepted == settled, group.name


def injection(**fields: Any) -> Injection:
    return Injection.model_validate({"at": 60, "for": 60, **fields})


def test_an_injection_turns_its_knob_for_its_window_only() -> None:
    w = world()
    faults = w.lines["erp"].faults
    before = (faults.error_rate, faults.lost_rate, faults.refill, faults.latency)
    notes: list[tuple[float, str]] = []
    found = [
        injection(kind="errors", system="erp", rate=0.5),
        injection(kind="rate_limit", system="erp", per_second=2),
        injection(kind="latency", system="erp", factor=10),
    ]
    inject(w, found, lambda t, text: notes.append((t, text)))
    w.env.run(until=90)
    assert faults.error_rate == 0.5 and faults.refill == 2.0 and faults.latency is not before[3]
    w.env.run(until=150)
    assert (faults.error_rate, faults.lost_rate, faults.refill, faults.latency) == before
    assert [t for t, _ in notes] == [60.0] * 3 + [120.0] * 3


def test_an_outage_is_a_window_the_weather_knows_and_standby_ends_it() -> None:
    w = world()
    notes: list[tuple[float, str]] = []
    slow = injection(kind="latency", system="erp", factor=10)
    inject(
        w, [injection(kind="outage", system="erp"), slow], lambda t, text: notes.append((t, text))
    )
    faults = w.lines["erp"].faults
    normal = faults.latency
    assert faults.outages[-1] == (60.0, 120.0, "down", 0.0)
    w.env.run(until=90)
    assert faults.latency is not normal
    did = act(w, Action(at=90, do="standby", system="erp"))
    assert did == "erp switched to its standby (2 fault(s) ended)"
    assert faults.outages[-1] == (60.0, 90.0, "down", 0.0) and faults.latency is normal
    w.env.run(until=200)
    assert [text for t, text in notes if t > 90] == []  # no "over" for what the standby ended


def test_a_paused_group_holds_its_messages_until_resumed() -> None:
    w = world()
    group = next(g for g in w.broker.groups() if g.name == "fulfilment")
    act(w, Action(at=0, do="pause_consumers", group="fulfilment"))
    w.run(duration=1800)
    held = group.accepted - group.applied
    assert held > 0 and group.applied == 0  # nothing fulfilled while paused
    act(w, Action(at=1800, do="resume_consumers", group="fulfilment"))
    w.drain(3600)
    assert group.applied == group.accepted
    books_balance(w)


def test_replayed_dead_letters_are_handled_again_and_the_books_still_balance() -> None:
    w = world(policy={"timeout": "2s", "retry": {"max_attempts": 1}, "breaker": None})
    down = injection(kind="errors", system="billing", rate=1.0, **{"for": 1200})
    inject(w, [down], lambda t, text: None)
    w.run(duration=900)
    w.env.run(until=1300)  # billing is back
    lettered = sum(d.message.topic == "order.accepted" for d in w.broker.dlq)
    assert lettered > 0
    replayed = act(w, Action(at=1300, do="replay_dead_letters", topic="order.accepted"))
    assert replayed == f"replayed {lettered} dead letters of order.accepted"
    assert not any(d.message.topic == "order.accepted" for d in w.broker.dlq)
    books_balance(w)  # moved from dead-lettered back to open
    w.drain(7200)
    assert not any(d.message.topic == "order.accepted" for d in w.broker.dlq)
    books_balance(w)
    assert w.recorder.summary(w.env.now)["orders_completed"] > 0


def test_scaling_a_group_changes_its_workers() -> None:
    w = world()
    group = next(g for g in w.broker.groups() if g.name == "fulfilment")
    before = group.consumers
    did = act(w, Action(at=0, do="scale_consumers", group="fulfilment", consumers=1))
    assert did == f"fulfilment: {before} -> 1 consumers" and before > 1
    w.run(duration=1800)
    w.drain(7200)
    assert group.consumers == 1 and group.surplus == 0  # the extra workers went home
    assert group.applied == group.accepted
    books_balance(w)


def test_an_action_that_cannot_apply_says_why() -> None:
    w = world(policy={"timeout": "2s", "breaker": None})
    with pytest.raises(Refused, match="no circuit breaker"):
        act(w, Action(at=0, do="open_breaker", system="erp"))
    with pytest.raises(Refused, match="no consumer group 'nope'"):
        act(w, Action(at=0, do="pause_consumers", group="nope"))


def test_the_series_stays_bounded_and_keeps_its_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.series, "MAX_POINTS", 16)
    w = world()
    series = record(w)
    w.run(duration=4 * 3600)
    assert len(series.t) <= 16 and series.step > 60.0
    assert sum(series.systems["crm"]["calls"]) <= w.lines["crm"].calls
    # the last samples cover the run's end: counts lost only in the unsampled tail
    assert w.lines["crm"].calls - sum(series.systems["crm"]["calls"]) < 200
    assert sum(series.columns["live"]) <= len(w.recorder.cycle_time)


def test_a_manual_repair_runs_the_reconciliation_now() -> None:
    w = world()
    w.run(duration=600)
    did = act(w, Action(at=600, do="repair"))
    assert did.startswith("a person runs the reconciliation now")
    w.env.run(until=1800)
    summary = w.recorder.reconciliation_summary()
    assert summary["runs"] >= 1, summary


def test_a_reorder_injection_makes_later_webhooks_overtake_earlier_ones() -> None:
    def reordered(injected: bool) -> int:
        systems = {
            "crm": {"latency": "100ms"},
            "erp": {"latency": "300ms"},
            "billing": {
                "latency": "200ms",
                "payments": {"delay": "30s", "failure_rate": 0.5, "retry_every": "1m"},
                "webhooks": {"secret": "whsec_x"},
            },
            "provisioning": {"latency": "200ms"},
            "support": {"latency": "150ms"},
            "oms": {"latency": "10ms"},
        }
        w = world(systems=systems)
        if injected:
            spread = injection(kind="reorder", system="billing", spread=600, **{"for": 3600})
            inject(w, [spread], lambda t, text: None)
        w.run(duration=3 * 3600)
        return sum(g.reordered for g in w.broker.groups() if g.topic == "billing.webhook")

    assert reordered(False) == 0
    assert reordered(True) > 0


def test_the_score_is_the_share_of_the_answer_keys_gain_a_run_achieves() -> None:
    from sim.debrief import DrillRun, debrief
    from sim.drill import Drill
    from sim.series import Series

    drill = Drill.model_validate(
        {
            "name": "x",
            "title": "x",
            "briefing": "x",
            "scenario": "x.yaml",
            "hypothesis": [{"metric": "dead_letters", "at_most": 0}],
            "injections": [{"at": 60, "for": 60, "kind": "errors", "system": "erp", "rate": 1}],
        }
    )

    def ran(harm: int, dead: list[float]) -> DrillRun:
        series = Series(["erp"])
        series.t = [60.0 * (n + 1) for n in range(len(dead))]
        series.columns = {name: [0.0] * len(dead) for name in series.columns}
        series.columns["dead_letters"] = dead
        series.systems = {"erp": {name: [0.0] * len(dead) for name in series.systems["erp"]}}
        return DrillRun({}, series, [], {"total": harm}, {}, "")

    healed = [0.0, 3.0, 1.0, 0.0, 0.0]
    baseline, key = ran(100, [0.0, 3.0, 3.0, 3.0, 3.0]), ran(20, healed)
    report = debrief(drill, ran(60, healed), baseline, key)
    assert report["score"] == 50  # (100 - 60) of (100 - 20)
    # broken at 2:00 and 3:00 (samples at 1:00 .. 5:00), holding from 4:00 on
    assert report["time_to_detect_s"] == 60.0 and report["time_to_recover_s"] == 180.0
    # broken at the end is never "recovered", whatever came before
    assert debrief(drill, baseline, baseline, key)["time_to_recover_s"] is None
    assert debrief(drill, baseline, baseline, key)["score"] == 0


def test_faults_that_overlap_on_one_system_each_take_back_only_their_own() -> None:
    w = world()
    faults = w.lines["erp"].faults
    before = (faults.error_rate, faults.lost_rate)
    inject(
        w,
        [
            injection(kind="errors", system="erp", rate=0.2),  # 60 s to 120 s
            Injection.model_validate(
                {"at": 90, "for": 60, "kind": "lost_responses", "system": "erp", "rate": 0.1}
            ),
        ],
        lambda t, text: None,
    )
    w.env.run(until=100)
    assert faults.error_rate == pytest.approx(before[0] + 0.2)
    assert faults.lost_rate == pytest.approx(before[1] + 0.3)
    w.env.run(until=130)  # the errors ended first: the lost responses are still on
    assert faults.error_rate == before[0]
    assert faults.lost_rate == pytest.approx(before[1] + 0.1)
    w.env.run(until=200)
    assert (faults.error_rate, faults.lost_rate) == before
