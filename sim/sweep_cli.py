"""``lifecycle-sandbox sweep``: a scenario over a grid of values, patterns and seeds.

Every flag is checked, and every point of the grid validated, before the first
run; the runs then go to a local process pool (or a Dask cluster), each result
into the ledger beside the ``--json`` file as it arrives. Ctrl-C keeps what
finished, and the same command again picks up where it stopped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sim.cli import (
    DurationOpt,
    OrdersOpt,
    ScenarioArg,
    SeedOpt,
    WorkersOpt,
    _check_json_path,
    _duration,
    _patterns,
    counting_bar,
    err,
    fail,
    out,
)

__all__ = ["sweep"]


def _ledger_path(json_path: Path) -> Path:
    return json_path.with_name(json_path.name + ".runs.jsonl")


def sweep(
    scenario: ScenarioArg,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="FIELD=V1,V2,... by the field's dotted path in the scenario file, e.g. "
            "systems.erp.concurrency=5,15,25 (repeat for a grid).",
            show_default=False,
        ),
    ] = None,
    patterns: Annotated[
        str | None,
        typer.Option("--patterns", help="Comma-separated patterns (default: the scenario's)."),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, max=500, help="Seeds per point and pattern.")
    ] = 1,
    seed: SeedOpt = None,
    orders: OrdersOpt = None,
    duration: DurationOpt = None,
    workers: WorkersOpt = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Run on the Dask scheduler at this address (tcp://host:8786), or "
            "'local' for a LocalCluster of --workers processes.",
        ),
    ] = None,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write the sweep here (default build/sweep-<scenario>.json); finished runs "
            "are kept beside it in <file>.runs.jsonl, so a rerun skips them.",
        ),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a page of plots here.")
    ] = None,
) -> None:
    """Vary scenario fields over a grid, times patterns and seeds, on a pool or a cluster."""
    from sim.scenario import ScenarioError
    from sim.sweep import Ledger, SweepError, assemble, parse_vary, plan

    if not vary:
        fail("--vary: give at least one, such as --vary systems.erp.concurrency=5,15,25")
    if duration is not None and orders is not None:
        fail("--orders and --duration exclude each other; pass one of them")
    seconds = _duration(duration)
    if dask is not None and not (dask == "local" or "://" in dask):
        fail(
            f"--dask {dask!r}: expected a scheduler address such as tcp://127.0.0.1:8786, or local"
        )
    if html is not None:
        _check_json_path(html, "--html")
    try:
        varies = [parse_vary(text) for text in vary]
    except SweepError as exc:
        fail(str(exc))
    names = _patterns(patterns) if patterns is not None else None
    try:
        loaded, tasks = plan(scenario, varies, names, seeds, seed, seconds, orders)
    except (ScenarioError, SweepError) as exc:
        fail(str(exc))
    json_path = json_path or Path("build") / f"sweep-{loaded.name}.json"
    _check_json_path(json_path)
    try:
        ledger = Ledger(_ledger_path(json_path))
    except (OSError, UnicodeDecodeError) as exc:
        fail(
            f"--json: cannot keep the ledger {_ledger_path(json_path)} ({exc}); "
            "choose another --json path"
        )
    todo = [task for task in tasks if task.id not in ledger.done]
    failed: dict[str, str] = {}
    count = workers or _cores()
    where = f"Dask at {dask}" if dask else f"{count} local worker(s)"
    err.print(
        f"{len(tasks)} runs ({len(tasks) - len(todo)} already in {ledger.path}), on {where}",
        highlight=False,
    )
    bar = counting_bar("sweep")
    progress = bar.add_task("runs", total=len(tasks), completed=len(tasks) - len(todo))

    def on_done(task: Any, result: dict[str, Any] | None, why: str | None) -> None:
        if result is not None:
            ledger.add(result)
        else:
            failed[task.id] = why or "failed"
        bar.advance(progress)

    interrupted = False
    try:
        with bar:
            _execute(todo, on_done, count, dask)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        ledger.close()
    document = assemble(tasks, ledger.done, failed, varies, loaded.name)
    _finish(document, json_path, html, interrupted)


def _cores() -> int:
    """The cores this process may use (a container's share, where the OS tells)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _execute(tasks: list[Any], on_done: Any, workers: int, dask: str | None) -> None:
    from sim.sweep_pool import PoolError, run_dask, run_here, run_local

    if not tasks:
        return
    if dask is not None:
        try:
            run_dask(tasks, dask, on_done, workers=workers)
        except PoolError as exc:
            fail(str(exc))
    elif workers == 1:
        run_here(tasks, on_done)
    else:
        run_local(tasks, min(workers, len(tasks)), on_done)


def _finish(
    document: dict[str, Any], json_path: Path, html: Path | None, interrupted: bool
) -> None:
    """Print the tables, write the document (and page), exit as the sweep ended."""
    for table in sweep_tables(document):
        out.print(table)
    for failure in document["failed"]:
        point = ", ".join(f"{k}={v}" for k, v in failure["point"].items())
        out.print(
            f"failed: {point} / {failure['pattern']} / seed {failure['seed']}: {failure['error']}",
            highlight=False,
            soft_wrap=True,
        )
    try:
        json_path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
    except OSError as exc:
        fail(f"--json: cannot write {json_path} ({exc.strerror}); the runs are in the ledger")
    out.print(f"wrote {json_path}", highlight=False)
    if html is not None:
        from sim.html_report import build

        page = build(document)
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            fail(f"--html: cannot write {html} ({exc.strerror}); choose another path")
        out.print(f"wrote {html} ({len(page.encode()) / 1024:,.0f} KiB)", highlight=False)
    if interrupted:
        left = document["sweep"]["runs"] - document["sweep"]["finished"]
        err.print(f"interrupted: {left} run(s) left; run the same command again to finish them")
        raise typer.Exit(130)
    if document["failed"]:
        raise typer.Exit(1)


def sweep_tables(document: dict[str, Any]) -> list[Table]:
    """One table per headline metric: a row per grid point, a column per pattern, each
    cell the mean and its 95% interval over the seeds."""
    from sim.report import interval_text
    from sim.sweep import LABELS, SHOWN

    info = document["sweep"]
    flags = list(info["vary"])
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for entry in document["summary"]:
        key = tuple(entry["point"][flag] for flag in flags)
        rows.setdefault(key, {})[entry["pattern"]] = entry["figures"]
    tables = []
    for path in SHOWN:
        table = Table(
            title=f"{LABELS[path]}: mean [95% interval] over {len(info['seeds'])} seed(s)",
            title_justify="left",
        )
        for flag in flags:
            table.add_column(flag.rsplit(".", 1)[-1] if len(flags) > 1 else flag)
        for pattern in info["patterns"]:
            table.add_column(pattern, justify="right")
        for key, by_pattern in rows.items():
            cells = [interval_text(by_pattern.get(p, {}).get(path)) for p in info["patterns"]]
            table.add_row(*key, *cells)
        tables.append(table)
    return tables
