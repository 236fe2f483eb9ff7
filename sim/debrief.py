"""Running a drill, and the debrief after it.

The debrief is the instructor's flip chart after a fire drill: what happened when
(faults, alerts, actions, breakers opening, dead letters piling up, the first
overdue deal, recovery), whether the steady state held before, during and after, how
long it took to notice (time to detect: the first alert after the first fault) and
to recover (the hypothesis holding again, for good), and the score. The score runs
the same drill and seed twice more: once with nobody acting (the baseline) and once
with the answer key's actions; each run's harm is counted (deals not live, live late
or still open when the books close, dead letters left for people, events a consumer
group never settled, records the audit finds wrong), and the trainee's share of the
expert's improvement over the baseline is the score. The deals hurt most are told
from the event log.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sim.drill import Drill
from sim.series import Series
from sim.world import World

__all__ = ["DrillRun", "Moment", "clock", "debrief", "hurt_of", "stories_of"]

SETTLE = 86400.0
"""After the horizon, the world runs on this long at most to let every deal end."""
HURT = {
    "compensated": "orders_compensated",
    "escalated": "orders_escalated",
    "failed": "orders_failed",
    "abandoned": "orders_abandoned",
    "revoked": "commitments_revoked",
}
"""Endings that hurt a customer, and the metric that counts each (a business "no",
``rejected``, does not)."""
STORIES = 3
"""Deals told from the event log."""


class Moment(NamedTuple):
    """One line of the timeline."""

    t: float
    kind: str
    text: str


class DrillRun(NamedTuple):
    """What one run of a drill left behind."""

    metrics: dict[str, Any]
    series: Series
    moments: list[Moment]
    hurt: dict[str, int]
    stories: dict[str, list[str]]
    trace_hash: str


def hurt_of(world: World, metrics: dict[str, Any]) -> dict[str, int]:
    """Deals hurt by ending, live late, still open; the dead letters left for people
    and the records the audit found wrong (a duplicate subscription, a payment
    posted twice)."""
    recorder = world.recorder
    counts = {ending: int(metrics[key]) for ending, key in HURT.items()}
    counts["late"] = len(recorder.cycle_time) - recorder.live_in_sla
    counts["open"] = int(metrics["orders_in_flight"])
    counts["dead_letters"] = int(metrics["dlq_depth"])
    # events a consumer group never settled: still open (paused, failing) or lost
    counts["events_unsettled"] = sum(len(g.open) + g.lost for g in world.broker.groups())
    counts["records_wrong"] = int(metrics["data_quality_exceptions"])
    counts["total"] = sum(counts.values())
    return counts


def stories_of(world: World, log: str, start: float, end: float) -> dict[str, list[str]]:
    """The event log of the deals hurt most: those that ended worst, first."""
    order = ("escalated", "abandoned", "failed", "compensated", "revoked")
    rank = {ending: n for n, ending in enumerate(order)}
    recorder = world.recorder
    ended, closed_at = recorder.ended, recorder.closed_at
    # still open when the books close is worst of all; then by ending, those closed
    # while the incident ran first
    hurt = [deal for deal in recorder.pending] + [
        deal for deal, ending in ended.items() if ending in rank and deal in closed_at
    ]

    def badness(deal: str) -> tuple[int, bool, str]:
        during = start <= closed_at[deal] <= end
        return (rank.get(ended.get(deal, ""), -1), not during, deal)

    worst = sorted(hurt, key=badness)[:STORIES]
    lines: dict[str, list[str]] = {deal: [] for deal in worst}
    marks = [f'"correlation":"{deal}"' for deal in worst]
    for raw in log.splitlines():
        if not any(mark in raw for mark in marks):
            continue  # parse only the few deals told, not the whole log
        entry = json.loads(raw)
        deal = entry.get("correlation")
        if deal in lines:
            lines[deal].append(_told(entry))
    for deal in worst:
        ending = ended.get(deal, "still open")
        lines[deal].append(f"ends {ending}")
    return lines


def _told(entry: dict[str, Any]) -> str:
    at = clock(float(entry["t"]))
    if entry["kind"] == "call":
        what = f"{entry['system']}.{entry['operation']} #{entry['attempt']}: {entry['outcome']}"
        return f"{at}  {what} ({entry['status']})" if entry["status"] else f"{at}  {what}"
    reason = f": {entry['reason']}" if entry.get("reason") else ""
    group = f" to {entry['group']}" if entry.get("group") else ""
    return f"{at}  {entry['kind']} {entry['topic']}{group}{reason}"


def clock(t: float) -> str:
    """Simulated time as ``h:mm:ss`` from the start of the run."""
    whole = int(t)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def debrief(drill: Drill, run: DrillRun, baseline: DrillRun, key: DrillRun) -> dict[str, Any]:
    """The debrief of ``run``, scored against the baseline and the answer key.

    Returns:
        ``timeline`` (``[t, kind, text]``), ``hypothesis`` (each check's verdict per
        phase), ``time_to_detect_s``, ``time_to_recover_s``, ``hurt`` (per run),
        ``score`` (0-100, or None when the answer key does no better than the
        baseline) and ``stories``.
    """
    series = run.series
    phases = {
        "before": (0.0, drill.start),
        "during": (drill.start, drill.end),
        "after": (drill.end, float("inf")),
    }
    verdicts = []
    first_alert: float | None = None
    broken_until = drill.start
    alerts: list[Moment] = []
    for check in drill.hypothesis:
        verdict: dict[str, Any] = {"check": check.label()}
        for phase, (lo, hi) in phases.items():
            broken = [
                t
                for i, t in enumerate(series.t)
                if lo < t <= hi and not check.holds(series.value(check.metric, check.system, i))
            ]
            verdict[phase] = "held" if not broken else f"broken from {clock(broken[0])}"
            if broken and phase != "before":
                alerts.append(Moment(broken[0], "alert", f"{check.label()} broken"))
                first_alert = broken[0] if first_alert is None else min(first_alert, broken[0])
                broken_until = max(broken_until, broken[-1])
        verdicts.append(verdict)
    ever_broken = first_alert is not None
    last = len(series.t) - 1
    still_broken = last >= 0 and any(
        not check.holds(series.value(check.metric, check.system, last))
        for check in drill.hypothesis
    )
    # recovered: the steady state holds from then on to the end; never, if it does not
    recovered = broken_until + series.step if ever_broken and not still_broken else None
    moments = [*run.moments, *alerts, *_changes(run.series)]
    if recovered is not None:
        moments.append(Moment(recovered, "recovered", "the steady state holds again, for good"))
    moments.sort(key=lambda m: (m.t, m.kind, m.text))
    hurt = {"run": run.hurt, "baseline": baseline.hurt, "answer_key": key.hurt}
    gain = baseline.hurt["total"] - key.hurt["total"]
    score = None
    if gain > 0:
        score = max(0, min(100, round(100 * (baseline.hurt["total"] - run.hurt["total"]) / gain)))
    return {
        "drill": drill.name,
        "title": drill.title,
        "timeline": [[round(m.t, 3), m.kind, m.text] for m in moments],
        "hypothesis": verdicts,
        "time_to_detect_s": None if first_alert is None else round(first_alert - drill.start, 3),
        "time_to_recover_s": None if recovered is None else round(recovered - drill.start, 3),
        "hurt": hurt,
        "score": score,
        "stories": run.stories,
        "lesson": drill.lesson,
    }


def _changes(series: Series) -> list[Moment]:
    """Breakers opening, dead letters piling up, the first overdue deal."""
    found = []
    for system, columns in series.systems.items():
        was = 0.0
        for t, state in zip(series.t, columns["breaker"], strict=True):
            if state == 1.0 and was != 1.0:
                found.append(Moment(t, "breaker", f"{system} breaker open"))
            was = state
    peak = 0.0
    for t, depth in zip(series.t, series.columns["dead_letters"], strict=True):
        if depth > peak and (peak == 0 or depth >= 2 * peak):
            found.append(Moment(t, "dead letters", f"{depth:g} in the dead-letter queue"))
            peak = depth
    overdue = next((t for t, n in zip(series.t, series.columns["overdue"], strict=True) if n), None)
    if overdue is not None:
        found.append(Moment(overdue, "sla", "the first deal is past its order-live SLA"))
    return found
