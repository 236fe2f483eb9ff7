"""Per-minute time series of a run: the flight recorder.

Once a simulated minute the recorder reads the world's gauges (deals in flight and
overdue, dead letters, queued messages, each breaker's state) and the minute's
counts (orders live, commitments, deliveries of events already handled, each system's
calls, errors and throttles), and
appends one column value each. Memory stays bounded on long runs: past
``MAX_POINTS`` samples, neighbours are merged two by two (counts added, gauges kept
at their worst) and the step doubles, as a flight recorder compresses older tape.
"""

from __future__ import annotations

import operator
from collections.abc import Generator
from typing import Any

import simpy

from sim.world import World

__all__ = ["GAUGES", "MAX_POINTS", "Series", "record"]

STEP = 60.0
"""Simulated seconds between samples, until the tape is compressed."""
MAX_POINTS = 2880
"""Samples kept at most (two days of minutes); beyond, pairs are merged."""
GAUGES = ("in_flight", "overdue", "dead_letters", "backlog")
"""What is read as it stands at each sample (merged by keeping the worst)."""
COUNTS = ("live", "committed", "duplicates")
"""What is counted per interval (merged by adding)."""
SYSTEM_COUNTS = ("calls", "errors", "throttled")
BREAKER = {"closed": 0.0, "half_open": 0.5, "open": 1.0}


class Series:
    """The samples of one run, column by column.

    Attributes:
        step: Seconds each sample covers.
        t: Each sample's end time.
        columns: Run-wide column -> values (``GAUGES`` and ``COUNTS``).
        systems: System -> column -> values (``SYSTEM_COUNTS``, and ``breaker``: 1
            open or opened in the interval, 0.5 half-open, 0 closed).
    """

    def __init__(self, systems: list[str]) -> None:
        self.step = STEP
        self.t: list[float] = []
        self.columns: dict[str, list[float]] = {name: [] for name in (*GAUGES, *COUNTS)}
        self.systems: dict[str, dict[str, list[float]]] = {
            system: {name: [] for name in (*SYSTEM_COUNTS, "breaker")} for system in systems
        }

    def value(self, metric: str, system: str | None, index: int) -> float:
        """A hypothesis metric at sample ``index`` (see ``sim.drill.METRICS``)."""
        if metric == "live_per_minute":
            return self.columns["live"][index] * STEP / self.step
        if metric == "duplicates":
            return self.columns["duplicates"][index] * STEP / self.step
        if metric == "error_rate":
            assert system is not None
            calls = self.systems[system]["calls"][index]
            return self.systems[system]["errors"][index] / calls if calls else 0.0
        if metric == "throttled":
            assert system is not None
            return self.systems[system]["throttled"][index] * STEP / self.step
        return self.columns[metric][index]

    def as_json(self) -> dict[str, Any]:
        """The series as the run's JSON holds it."""
        return {
            "step_s": self.step,
            "t": self.t,
            **self.columns,
            "systems": self.systems,
        }

    def _halve(self) -> None:
        """Merge neighbouring samples two by two; the step doubles."""

        def pairs(values: list[float], merge: Any) -> list[float]:
            merged = list(map(merge, values[::2], values[1::2]))
            return merged + values[len(merged) * 2 :]  # an odd last sample stays as it is

        self.t = pairs(self.t, max)
        for name in GAUGES:
            self.columns[name] = pairs(self.columns[name], max)
        for name in COUNTS:
            self.columns[name] = pairs(self.columns[name], operator.add)
        for columns in self.systems.values():
            for name in SYSTEM_COUNTS:
                columns[name] = pairs(columns[name], operator.add)
            columns["breaker"] = pairs(columns["breaker"], max)
        self.step *= 2


def record(world: World) -> Series:
    """Start recording ``world``'s series (a SimPy process); the series fills as it runs."""
    series = Series(list(world.lines))
    world.env.process(_sample(world, series))
    return series


def _sample(world: World, series: Series) -> Generator[simpy.Event, Any, None]:
    env, recorder, broker = world.env, world.recorder, world.broker
    sla = world.scenario.sla.order_live
    pending, closed_at = recorder.pending, recorder.closed_at
    groups = list(broker.groups())
    lines = world.lines
    live = committed = duplicates = 0  # the counts as of the last sample
    seen = {system: (0, 0, 0) for system in lines}
    opens = dict.fromkeys(lines, 0)
    watching = world.watching
    rows = _rows(series, lines)
    while True:
        # one wake per sample: the step doubles as the tape is compressed
        tick = env.timeout(series.step)
        watching.add(tick)  # the sampler keeps no run going by itself
        yield tick
        watching.discard(tick)
        now = env.now
        series.t.append(now)
        columns = series.columns
        columns["in_flight"].append(len(pending))
        columns["overdue"].append(_overdue(pending, closed_at, now - sla))
        columns["dead_letters"].append(len(broker.dlq))
        columns["backlog"].append(sum(len(group.queue) for group in groups))
        columns["live"].append(len(recorder.cycle_time) - live)
        columns["committed"].append(len(recorder.commitment_latency) - committed)
        live, committed = len(recorder.cycle_time), len(recorder.commitment_latency)
        delivered_again = sum(group.duplicates for group in groups)
        columns["duplicates"].append(delivered_again - duplicates)
        duplicates = delivered_again
        breakers = world.client.breakers
        for system, line, (calls_of, errors_of, throttled_of, breaker_of) in rows:
            calls, errors, throttled = seen[system]
            calls_of.append(line.calls - calls)
            errors_of.append(line.errors - errors)
            throttled_of.append(line.rate_limited - throttled)
            seen[system] = (line.calls, line.errors, line.rate_limited)
            breaker = breakers.get(system)
            if breaker is None:
                breaker_of.append(0.0)
                continue
            # open at the sample, or opened (and perhaps closed again) since the last
            tripped = breaker.opens > opens[system]
            opens[system] = breaker.opens
            breaker_of.append(1.0 if tripped else BREAKER[breaker.state])
        if len(series.t) > MAX_POINTS and len(series.t) % 2 == 0:
            series._halve()  # pairs only: every sample after covers one whole step
            rows = _rows(series, lines)  # the columns are new lists now


def _rows(series: Series, lines: Any) -> list[tuple[str, Any, tuple[list[float], ...]]]:
    """Per system: its line and its four columns, looked up once, not per sample."""
    return [
        (system, line, tuple(series.systems[system][name] for name in (*SYSTEM_COUNTS, "breaker")))
        for system, line in lines.items()
    ]


def _overdue(pending: dict[str, Any], closed_at: dict[str, float], before: float) -> int:
    """Open deals closed before ``before``. Deals enter ``pending`` as they close, so
    the oldest come first: counting stops at the first one still in time."""
    count = 0
    for deal in pending:
        if closed_at[deal] >= before:
            break
        count += 1
    return count
