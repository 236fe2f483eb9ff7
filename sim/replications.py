"""Replications: one scenario on several seeds, and how sure its figures are.

One seed is one day at the office; a review board asks whether the next day would
say the same. The same scenario runs on ``N`` seeds derived from its own (numpy's
``SeedSequence``: the same seeds every time), each metric is summarised as its
mean, standard deviation and 95% confidence interval (Student's t), and two
patterns are compared seed by seed: the same seed gives both the same deals and
weather, so the difference of a metric is taken per seed and a paired t-test says
whether its mean is distinguishable from zero at the 5% level. A difference that
is not is within the seed-to-seed noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["METRICS", "compare_patterns", "derive_seeds", "summarise"]

METRICS: tuple[tuple[str, str], ...] = (
    ("orders live", "orders_completed"),
    ("compensated", "orders_compensated"),
    ("escalated", "orders_escalated"),
    ("failed before commitment", "orders_failed"),
    ("commitments revoked", "commitments_revoked"),
    ("in flight at the end", "orders_in_flight"),
    ("rejected (business no)", "orders_rejected"),
    ("commitments failed", "commitments_failed"),
    ("cycle time p50 (s)", "cycle_time_s.p50"),
    ("cycle time p95 (s)", "cycle_time_s.p95"),
    ("cycle time p99 (s)", "cycle_time_s.p99"),
    ("commitment p50 (s)", "commitment_latency_s.p50"),
    ("commitment p95 (s)", "commitment_latency_s.p95"),
    ("commitment p99 (s)", "commitment_latency_s.p99"),
    ("SLA: order live", "sla_compliance"),
    ("SLA: commitment", "commitment_sla_compliance"),
    ("manual reconciliation", "manual_reconciliation_items"),
    ("data quality exceptions", "data_quality_exceptions"),
    ("dead-letter queue", "dlq_depth"),
)
"""``(label, dotted path in a run's metrics)`` of each replicated figure."""
LEVEL = 0.05


def derive_seeds(seed: int, count: int) -> list[int]:
    """``count`` seeds derived from ``seed``; the first is ``seed`` itself, so one
    replication is the plain run."""
    spawned = np.random.SeedSequence(seed).generate_state(max(count - 1, 0), dtype=np.uint32)
    return [seed, *(int(s) for s in spawned)]


def value(metrics: Mapping[str, Any], path: str) -> float | None:
    """The figure at a dotted path, or None where the run has none."""
    found: Any = metrics
    for part in path.split("."):
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return float(found) if isinstance(found, int | float) else None


def _interval(values: Sequence[float]) -> dict[str, Any]:
    n = len(values)
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(1 - LEVEL / 2, n - 1)) * sd / math.sqrt(n) if n > 1 else 0.0
    return {
        "n": n,
        "mean": round(mean, 6),
        "sd": round(sd, 6),
        "ci95": [round(mean - half, 6), round(mean + half, 6)],
    }


def summarise(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each metric over the runs (one per seed): mean, sd, 95% interval."""
    found = {}
    for _, path in METRICS:
        values = [v for run in runs if (v := value(run, path)) is not None]
        if values:
            found[path] = _interval(values)
    return found


def compare_patterns(by_pattern: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """For each pair of patterns and each metric: the mean difference per seed, its
    95% interval, the paired t-test's p-value, and whether it exceeds the noise."""
    found = []
    for a, b in combinations(by_pattern, 2):
        for label, path in METRICS:
            pairs = [
                (x, y)
                for run_a, run_b in zip(by_pattern[a], by_pattern[b], strict=True)
                if (x := value(run_a, path)) is not None and (y := value(run_b, path)) is not None
            ]
            if len(pairs) < 2:
                continue
            diffs = [y - x for x, y in pairs]
            interval = _interval(diffs)
            if interval["sd"] == 0.0:  # the same difference on every seed: no noise at all
                p_value = 1.0 if interval["mean"] == 0.0 else 0.0
            else:
                p_value = float(
                    stats.ttest_rel([y for _, y in pairs], [x for x, _ in pairs]).pvalue
                )
            found.append(
                {
                    "metric": label,
                    "path": path,
                    "a": a,
                    "b": b,
                    "difference": interval["mean"],
                    "ci95": interval["ci95"],
                    "p_value": round(p_value, 6),
                    "significant": p_value < LEVEL,
                }
            )
    return found
