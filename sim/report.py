"""Terminal reports: the metrics of one or several runs as rich tables.

One column per run, one row per metric, in the order an executive reads them:
did orders go live, how fast did sales get a commitment, what needs a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from orchestrator.workflows import LATER, Declaration

__all__ = ["duration_text", "events_table", "metrics_table", "systems_table"]


def duration_text(seconds: float | None) -> str:
    """``1.6s``, ``28m05s`` or ``2h05m``: seconds as people read them."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def _quantiles(key: str) -> Callable[[Mapping[str, Any]], str]:
    def show(metrics: Mapping[str, Any]) -> str:
        q = metrics[key]
        return " ".join(duration_text(q[p]) for p in ("p50", "p95", "p99"))

    return show


def _share(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda metrics: "-" if metrics[key] is None else f"{metrics[key] * 100:.1f}%"


def _count(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda metrics: f"{metrics[key]:,}"


ROWS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    ("deals closed", _count("deals")),
    ("orders live", _count("orders_completed")),
    ("orders compensated", _count("orders_compensated")),
    ("orders escalated", _count("orders_escalated")),
    ("orders in flight", _count("orders_in_flight")),
    ("business rejections", _count("orders_rejected")),
    ("failed before commitment", _count("orders_failed")),
    ("abandoned (no compensation)", _count("orders_abandoned")),
    ("commitments failed", _count("commitments_failed")),
    ("commitments revoked", _count("commitments_revoked")),
    ("commitment p50 p95 p99", _quantiles("commitment_latency_s")),
    ("cycle time p50 p95 p99", _quantiles("cycle_time_s")),
    ("onboarding p50 p95 p99", _quantiles("onboarding_duration_s")),
    ("SLA: order live", _share("sla_compliance")),
    ("SLA: commitment", _share("commitment_sla_compliance")),
    ("manual reconciliation", _count("manual_reconciliation_items")),
    ("data quality exceptions", _count("data_quality_exceptions")),
    ("dead-letter queue", _count("dlq_depth")),
]


def _receivers(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda metrics: f"{sum(r[key] for r in metrics['receivers'].values()):,}"


EVENT_ROWS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    ("payment sync p50 p95 p99", _quantiles("payment_sync_latency_s")),
    ("webhook duplicates absorbed", _receivers("duplicates_absorbed")),
    ("stale updates discarded", _receivers("stale_discarded")),
    ("signatures refused", _count("signatures_refused")),
    ("events lost", lambda metrics: f"{metrics['broker']['lost']:,}"),
    ("publishes refused, broker down", lambda metrics: f"{metrics['broker']['refused']:,}"),
]
"""Rows shown when a run had vendor webhooks."""


def _booked(books: str, key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda metrics: f"{metrics[books][key]:,}"


def workflow_rows(declaration: Declaration) -> list[tuple[str, Callable[[Mapping[str, Any]], str]]]:
    """The rows of a workflow kept in books (``amendments requested``, ...)."""
    noun = declaration.noun
    books = f"{noun}s"
    return [
        (f"{books} requested", _booked(books, "requested")),
        (f"{books} {declaration.done_as}", _booked(books, declaration.done_as)),
        (f"{books} undone", _booked(books, "compensated")),
        (f"{books} rejected", _booked(books, "rejected")),
        (f"{books} escalated", _booked(books, "escalated")),
        (f"{books} in flight", _booked(books, "in_flight")),
        (f"{noun} p50 p95 p99", lambda metrics: _quantiles("latency_s")(metrics[books])),
    ]


def _money(side: str) -> Callable[[Mapping[str, Any]], str]:
    def show(metrics: Mapping[str, Any]) -> str:
        amounts = metrics["revenue_leakage"][side]
        return " ".join(f"{cur} {amount:,.0f}" for cur, amount in amounts.items()) or "0"

    return show


def _seats(metrics: Mapping[str, Any]) -> str:
    drift = metrics["entitlement_drift"]
    return f"{drift['seats_billed_not_provisioned']:,} / {drift['seats_provisioned_not_billed']:,}"


def _reconciled(metrics: Mapping[str, Any]) -> str:
    found = metrics["reconciliation"]
    return f"{found['drift_found']:,} / {found['repaired']:,} / {found['left_for_people']:,}"


def _detection(metrics: Mapping[str, Any]) -> str:
    return _quantiles("detection_lag_s")(metrics["reconciliation"])


LIFECYCLE_ROWS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    *(row for declaration in LATER for row in workflow_rows(declaration)),
    ("billed, not in the ERP", _money("billed_not_invoiced")),
    ("in the ERP, not billed", _money("invoiced_not_billed")),
    ("seats billed-not-granted / granted-not-billed", _seats),
]
"""Rows shown when a run had workflows after the first order (amendments)."""

RECONCILIATION_ROWS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    ("reconciliation: found / repaired / for people", _reconciled),
    ("drift detected after p50 p95 p99", _detection),
]
"""Rows shown when a run reconciled."""


def _master(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda metrics: f"{metrics['master_data'][key]:,}"


MASTER_DATA_ROWS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    (
        "master-data edits at owner / stray",
        lambda m: f"{m['master_data']['edits_at_owner']:,} / {m['master_data']['stray_edits']:,}",
    ),
    ("stray edits overwritten by the owner", _master("stray_edits_overwritten")),
    ("accounts merged", _master("merges")),
    ("fields off their owner's value", _master("fields_off_owner")),
    (
        "SKUs retired / orders refused for one",
        lambda m: (
            f"{m['master_data']['skus_retired']:,} / "
            f"{m['master_data']['orders_refused_retired_sku']:,}"
        ),
    ),
    (
        "price changes at owner / stray / stray overwritten",
        lambda m: (
            f"{m['master_data']['price_changes']:,} / "
            f"{m['master_data']['stray_price_changes']:,} / "
            f"{m['master_data']['stray_prices_overwritten']:,}"
        ),
    ),
    ("first invoices priced apart, billing vs ERP", lambda m: f"{m['audit']['price_mismatch']:,}"),
]
"""Rows shown when a run had master-data edits."""


def metrics_table(results: Sequence[Mapping[str, Any]], title: str) -> Table:
    """Business metrics, one column per run (named by its pattern)."""
    table = Table(title=escape(title), title_justify="left")
    table.add_column("metric")
    for result in results:
        name = result["pattern"] + (" (interrupted)" if result.get("interrupted") else "")
        table.add_column(name, justify="right")
    rows = list(ROWS)
    if any(result["metrics"].get("receivers") for result in results):
        rows += EVENT_ROWS
    if any(result["metrics"][f"{d.noun}s"]["requested"] for result in results for d in LATER):
        rows += LIFECYCLE_ROWS
    if any(result["metrics"]["reconciliation"]["runs"] for result in results):
        rows += RECONCILIATION_ROWS
    if any(
        result["metrics"]["master_data"]["edits_at_owner"]
        + result["metrics"]["master_data"]["stray_edits"]
        for result in results
    ):
        rows += MASTER_DATA_ROWS
    for label, show in rows:
        table.add_row(label, *(show(result["metrics"]) for result in results))
    return table


def events_table(results: Sequence[Mapping[str, Any]]) -> Table | None:
    """Per topic and run: published / duplicates / reordered / lost / dead-lettered and
    the lag from publish to applied (p50, p99); None when no topic saw a fault."""
    topics: list[str] = []
    for result in results:
        for topic, stats in result["metrics"]["broker"]["topics"].items():
            faulty = stats["duplicates"] or stats["reordered"] or stats["lost"]
            if (faulty or stats["dead_lettered"] or stats["redelivered"]) and topic not in topics:
                topics.append(topic)
    if not topics:
        return None
    table = Table(
        title="events: published / duplicates / reordered / lost / dead-lettered, lag p50 p99",
        title_justify="left",
    )
    table.add_column("topic")
    for result in results:
        table.add_column(result["pattern"], justify="right")
    for topic in sorted(topics):
        cells = []
        for result in results:
            s = result["metrics"]["broker"]["topics"].get(topic)
            if s is None:
                cells.append("-")
                continue
            lag = s["lag_s"]
            cells.append(
                f"{s['published']:,} / {s['duplicates']:,} / {s['reordered']:,} / "
                f"{s['lost']:,} / {s['dead_lettered']:,}, "
                f"{duration_text(lag['p50'])} {duration_text(lag['p99'])}"
            )
        table.add_row(topic, *cells)
    return table


def systems_table(results: Sequence[Mapping[str, Any]]) -> Table:
    """Per-system calls / errors / retries / rate-limited / breaker opens per run."""

    def cell(s: Mapping[str, Any]) -> str:
        return (
            f"{s['calls']:,} / {s['errors']:,} / {s['retries']:,} / "
            f"{s['rate_limited']:,} / {s['breaker_opens']:,}"
        )

    return _per_system(
        "calls / errors / retries / rate-limited / breaker opens",
        results,
        "systems",
        list(results[0]["metrics"]["systems"]),
        cell,
    )


def _per_system(
    title: str,
    results: Sequence[Mapping[str, Any]],
    key: str,
    systems: Sequence[str],
    cell: Callable[[Mapping[str, Any]], str],
) -> Table:
    """A row per system, a column per run, each cell ``cell`` of ``metrics[key][system]``."""
    table = Table(title=title, title_justify="left")
    table.add_column("system")
    for result in results:
        table.add_column(result["pattern"], justify="right")
    for system in systems:
        table.add_row(system, *(cell(r["metrics"][key][system]) for r in results))
    return table


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    """``0ms``, ``412ms``, ``2.38s``, ``28m05s``: a short wait at its own scale."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.2f}s" if value < 60 else duration_text(value)


def queueing_table(results: Sequence[Mapping[str, Any]]) -> Table:
    """Per system: offered calls/s, utilisation, time waiting for a slot and for a
    rate-limit token, vendor latency (one run: each figure in its column; several:
    utilisation / slot wait p95 / latency p95 per run)."""
    systems = [
        name
        for name in results[0]["metrics"]["queueing"]
        if any(r["metrics"]["queueing"][name]["offered_per_s"] for r in results)
    ]
    if len(results) == 1:
        table = Table(
            title="queueing: offered, utilisation, waits (mean p95), latency (p50 p95 p99)",
            title_justify="left",
        )
        for column in ("system", "calls/s", "slots", "busy", "in flight", "slot wait"):
            table.add_column(column, justify="left" if column == "system" else "right")
        for column in ("token wait", "latency"):
            table.add_column(column, justify="right")
        figures = results[0]["metrics"]["queueing"]
        for name in systems:
            q = figures[name]
            slot, token, latency = q["slot_wait_s"], q["token_wait_s"], q["latency_s"]
            table.add_row(
                name,
                f"{q['offered_per_s']:.3g}",
                str(q["slots"] or "-"),
                _percent(q["utilisation"]),
                f"{q['in_flight_mean']:.3g}",
                f"{_seconds(slot['mean'])} {_seconds(slot['p95'])}",
                f"{_seconds(token['mean'])} {_seconds(token['p95'])}",
                " ".join(_seconds(latency[k]) for k in ("p50", "p95", "p99")),
            )
        return table

    def cell(q: Mapping[str, Any]) -> str:
        return (
            f"{_percent(q['utilisation'])} / {_seconds(q['slot_wait_s']['p95'])} / "
            f"{_seconds(q['latency_s']['p95'])}"
        )

    return _per_system(
        "queueing: utilisation / slot wait p95 / latency p95", results, "queueing", systems, cell
    )


def interval_text(figure: Mapping[str, Any] | None) -> str:
    """``mean [low, high]`` of a replicated figure, ``-`` when there is none."""
    if figure is None:
        return "-"
    if figure["n"] < 2:
        return f"{figure['mean']:.4g} (1 seed: no interval)"
    low, high = figure["ci95"]
    return f"{figure['mean']:.4g} [{low:.4g}, {high:.4g}]"


def replications_table(title: str, summary: Mapping[str, Mapping[str, Any]]) -> Table:
    """Each replicated metric's mean and 95% interval per pattern (one pattern: its
    mean, standard deviation and interval in columns of their own)."""
    from sim.replications import METRICS

    table = Table(title=escape(title), title_justify="left")
    table.add_column("metric")
    names = list(summary)
    if len(names) == 1:
        for column in ("mean", "sd", "95% interval"):
            table.add_column(
                f"{names[0]} {column}" if column == "mean" else column, justify="right"
            )
        for label, path in METRICS:
            figure = summary[names[0]].get(path)
            if figure is None:
                table.add_row(label, "-", "-", "-")
                continue
            low, high = figure["ci95"]
            table.add_row(
                label, f"{figure['mean']:.4g}", f"{figure['sd']:.3g}", f"[{low:.4g}, {high:.4g}]"
            )
        return table
    for name in names:
        table.add_column(f"{name}: mean [95% interval]", justify="right")
    for label, path in METRICS:
        table.add_row(label, *(interval_text(summary[name].get(path)) for name in names))
    return table
