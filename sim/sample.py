"""A sample of durations that stays small however long the run: exact, then sketched.

A stopwatch log is fine for a day; for a month of a million deals it is a phone
book. ``Sample`` keeps the values themselves (an ``array`` the hot path appends
to) until there are ``EXACT_LIMIT`` of them; from then on, at each ``fold``, the
values are poured into a DDSketch (``ddsketch``, Datadog's relative-error quantile
sketch) and the array starts again. So a run of any length holds at most
``EXACT_LIMIT`` values plus a sketch of a few thousand buckets.

The error bound: below ``EXACT_LIMIT`` values a quantile is exact (numpy's linear
interpolation). Past it, DDSketch guarantees that a quantile is within
``RELATIVE_ACCURACY`` (0.5%) of a value of the sample at that rank; values are
first rounded to a logarithmic grid of relative step ``GRID`` (0.1%, so that a
fold of 65,536 values makes a few thousand weighted adds instead of 65,536), which
adds at most half a step. A reported quantile is within 0.6% of the sample's value
at that rank, then rounded to the millisecond like every figure (numpy's exact
figure interpolates between the two values around the rank; the sketch does not,
which only matters where neighbouring values differ a lot).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

import numpy as np
from ddsketch import DDSketch

__all__ = ["EXACT_LIMIT", "GRID", "RELATIVE_ACCURACY", "Sample", "quantiles"]

EXACT_LIMIT = 65_536
"""Values kept exactly before a sample turns into a sketch."""
RELATIVE_ACCURACY = 0.005
"""DDSketch's relative accuracy once a sample is sketched."""
GRID = 0.001
"""Relative step of the grid values are rounded to before they enter the sketch."""
_STEP = math.log1p(GRID)
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


class Sample:
    """Durations in seconds: exact up to ``EXACT_LIMIT`` values, a sketch past it.

    Append to ``values`` (an ``array('d')``: the cheapest thing on a hot path) and
    call ``fold`` now and then (a run does, between its steps). ``fold`` empties
    ``values`` in place, so a loop may keep a reference to it.

    Attributes:
        values: Values not yet poured into the sketch.
        sketch: The sketch of the values folded so far, or None while exact.
    """

    __slots__ = ("_folded", "_total", "sketch", "values")

    def __init__(self, values: Iterable[float] = ()) -> None:
        self.values = array("d", values)
        self.sketch: DDSketch | None = None
        self._folded = 0
        self._total = 0.0

    def __len__(self) -> int:
        return self._folded + len(self.values)

    def append(self, value: float) -> None:
        """Add one value (the hot path appends to ``values`` directly)."""
        self.values.append(value)

    def fold(self, force: bool = False) -> None:
        """Pour the values into the sketch once there are ``EXACT_LIMIT`` of them
        (any number, with ``force``, once the sample is sketched)."""
        values = self.values
        if len(values) < EXACT_LIMIT and not (force and self.sketch is not None and values):
            return
        sketch = self.sketch
        if sketch is None:
            sketch = self.sketch = DDSketch(RELATIVE_ACCURACY)
        data = np.array(values, dtype=float)  # a copy: the array is emptied below
        self._total += float(data.sum())
        positive = data[data > 0]
        grid, counts = np.unique(np.rint(np.log(positive) / _STEP), return_counts=True)
        for point, count in zip(np.exp(grid * _STEP).tolist(), counts.tolist(), strict=True):
            sketch.add(point, count)
        for other in data[data <= 0].tolist():  # zeros and the odd negative: as they are
            sketch.add(other)
        self._folded += len(values)
        del values[:]  # in place: a hot loop may hold on to the array

    def merge(self, other: Sample) -> None:
        """Add every value of ``other`` to this sample."""
        if other.sketch is not None:
            if self.sketch is None:
                self.sketch = DDSketch(RELATIVE_ACCURACY)
            self.sketch.merge(other.sketch)
            self._folded += other._folded
            self._total += other._total
        self.values.extend(other.values)
        self.fold(force=self.sketch is not None)

    def total(self) -> float:
        """The sum of every value."""
        return self._total + sum(self.values)

    def quantiles(self, zeros: int = 0) -> dict[str, float | None]:
        """``{"p50", "p95", "p99"}`` in seconds (None when empty), rounded to ms.

        Args:
            zeros: Count this many more values of exactly 0 (calls that did not
                wait, without storing a zero for each).
        """
        if self.sketch is None:
            return quantiles(self.values, zeros)
        self.fold(force=True)
        sketch = self.sketch
        n = self._folded
        found: dict[str, float | None] = {}
        for name, q in QUANTILES:
            rank = q * (n + zeros - 1)
            if rank < zeros:
                found[name] = 0.0
                continue
            value = sketch.get_quantile_value((rank - zeros) / max(n - 1, 1))
            found[name] = round(float(value), 3) if value is not None else None
        return found


def quantiles(values: Iterable[float], zeros: int = 0) -> dict[str, float | None]:
    """``{"p50", "p95", "p99"}`` of ``values`` (and ``zeros`` more zeros) in seconds,
    exact (None when empty), rounded to ms."""
    data = np.fromiter(values, dtype=float)
    if zeros:
        data = np.concatenate([np.zeros(zeros), data])
    if data.size == 0:
        return {"p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(data, [50, 95, 99]).tolist()
    return {"p50": round(p50, 3), "p95": round(p95, 3), "p99": round(p99, 3)}
