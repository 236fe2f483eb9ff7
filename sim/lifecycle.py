"""The life of a subscription after its first order: amendments, renewals, cancellations.

Each deal gets a customer who keeps living after the sale, like a gym member who
adds a family card in spring, moves to the premium plan in autumn and renews, or
not, when the year is up. ``Lifecycle.follow`` is that member's diary, a SimPy
process per deal: it waits an exponential time for the next change (more often
over the month's last days, when customers tidy up their contracts), draws what
kind of change it is, and hands it to the world, which starts its saga.

The diary keeps what the customer asked for (seats, plan), not what the vendors
hold: amendments may fail or overtake each other, and the books at the end show
the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import simpy

from orchestrator.deal import Deal
from orchestrator.workflows.amendment import Amendment
from sim.rng import Streams
from sim.scenario import MONTH, Lifecycle, Plan

__all__ = ["Diary", "follow"]

Start = Callable[[Amendment], None]
"""Starts an amendment's saga (the world's)."""
Ended = Callable[[str], str | None]
"""How a deal's first order ended (``"completed"``, ...), or None while in flight."""


class Diary:
    """The random draws every customer's diary shares (one stream each, in event order)."""

    def __init__(self, knobs: Lifecycle, plans: Sequence[Plan], streams: Streams) -> None:
        self.knobs = knobs
        self.plans = list(plans)
        self.gaps = streams.draws("lifecycle.gaps", lambda gen, n: gen.exponential(1.0, n))
        self.dice = streams.draws("lifecycle.dice", lambda gen, n: gen.random(n))
        self.rate = knobs.per_second()
        factor = knobs.month_end.factor if knobs.month_end is not None else 1.0
        self.peak = self.rate * factor  # thinning: draw at the peak rate, keep some

    def busy(self, now: float) -> float:
        """The rate's share of its peak at ``now`` (1 over the month's last days)."""
        month_end = self.knobs.month_end
        if month_end is None:
            return 1.0
        into = now % MONTH
        return 1.0 if into >= MONTH - month_end.last else 1.0 / month_end.factor

    def kind(self) -> str:
        """Seats, plan or cancel, in the proportion of their rates."""
        knobs = self.knobs
        pick = self.dice() * (knobs.per_second() * MONTH)
        if pick < knobs.seat_changes_per_month:
            return "seats"
        if pick < knobs.seat_changes_per_month + knobs.plan_changes_per_month:
            return "plan"
        return "cancel"


def follow(
    env: simpy.Environment,
    diary: Diary,
    deal: Deal,
    start: Start,
    ended: Ended,
    going: Callable[[], bool],
) -> Generator[simpy.Event, Any, None]:
    """One deal's diary, from its close to its cancellation (a SimPy process).

    Args:
        env: The clock.
        diary: The shared draws and knobs.
        deal: The deal whose subscription lives on.
        start: Starts an amendment.
        ended: How the deal's first order ended, or None while in flight.
        going: Whether the run still takes new work (False once it drains).
    """
    knobs = diary.knobs
    seats, plan = deal.seats, deal.plan
    number = 0
    renewal_at = env.now + knobs.term
    while True:
        gap = diary.gaps() / diary.peak if diary.peak else float("inf")
        renewing = env.now + gap >= renewal_at
        yield env.timeout((renewal_at - env.now) if renewing else gap)
        outcome = ended(deal.id)
        if not going() or (outcome is not None and outcome != "completed"):
            return  # the run is over, or the first order never went live
        if not renewing and diary.dice() >= diary.busy(env.now):
            continue  # thinned: a quieter day of the month
        number += 1
        if renewing:
            renewed = diary.dice() < knobs.renewal_rate
            start(Amendment(deal.id, number, "renewal" if renewed else "cancel", wait=knobs.wait))
            if not renewed:
                return
            renewal_at += knobs.term
            continue
        kind = diary.kind()
        if kind == "plan" and len(diary.plans) < 2:
            kind = "seats"
        if kind == "cancel":
            start(Amendment(deal.id, number, "cancel", wait=knobs.wait))
            return
        if kind == "seats":
            low, high = knobs.seat_change
            wanted = max(1, round(seats * (1.0 + low + diary.dice() * (high - low))))
            seats = wanted if wanted != seats else seats + 1
            start(Amendment(deal.id, number, "seats", seats=seats, wait=knobs.wait))
            continue
        others = [p for p in diary.plans if p.name != plan]
        chosen = others[int(diary.dice() * len(others))]
        plan = chosen.name
        start(
            Amendment(
                deal.id, number, "plan", plan=plan, unit_price=chosen.unit_price, wait=knobs.wait
            )
        )
