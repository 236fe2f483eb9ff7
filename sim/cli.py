"""The ``lifecycle-sandbox`` command: run, compare and validate scenarios.

Every mistake a user can make at the command line (a missing file, a typo in a
scenario, an unknown pattern, a bad duration) ends with one message on stderr that
says where and what to do, and exit code 2. Results already computed are never
lost: an interrupted run still writes what it measured, marked ``interrupted``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from contracts.cli import contracts_app
from contracts.guard import run_guarded
from orchestrator.patterns import PATTERNS

if TYPE_CHECKING:
    from sim.journal import EventLog
    from sim.scenario import Scenario

ProgressCallback = Callable[[float], None]

__all__ = ["app", "main"]

app = typer.Typer(
    name="lifecycle-sandbox",
    help="Simulate and contract-test ERP <-> SaaS customer-lifecycle integration patterns.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(contracts_app, name="contracts")
out = Console()
err = Console(stderr=True)
SHOW_PROGRESS_AFTER = 1.0
"""Seconds of wall time before a run shows a progress bar."""

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", min=0, help="Random seed (default: the scenario's).")
]
OrdersOpt = Annotated[
    int | None,
    typer.Option("--orders", min=1, help="Close exactly N deals and run until each has ended."),
]
DurationOpt = Annotated[
    str | None,
    typer.Option("--duration", help="Simulated time to run, e.g. 8h or 2h30m (default: horizon)."),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, max=256, help="Local processes (default: the cores)."),
]
NoOwnershipOpt = Annotated[
    bool,
    typer.Option(
        "--no-ownership",
        help="Let the last writer win instead of each field's owner (the anti-pattern).",
    ),
]
NoReconciliationOpt = Annotated[
    bool,
    typer.Option(
        "--no-reconciliation",
        help="Leave out the scenario's reconciliation job (to see the drift it repairs).",
    ),
]


def _seeds_option(help_text: str) -> Any:
    """The ``--seeds N`` option (1 to 500), with its command's help."""
    return typer.Option("--seeds", min=1, max=500, help=help_text)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit with code 2."""
    # The message quotes what the user typed: escaped, so "[x]" is not read as markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _scenario(path: Path, no_reconciliation: bool = False, no_ownership: bool = False) -> Scenario:
    from sim.scenario import ScenarioError, load

    try:
        loaded = load(path)
    except ScenarioError as exc:
        fail(str(exc))
    if no_reconciliation:
        loaded = loaded.model_copy(update={"reconciliation": None})
    if no_ownership:
        policy = loaded.policy.model_copy(update={"ownership": False})
        loaded = loaded.model_copy(update={"policy": policy})
    return loaded


def _duration(text: str | None, flag: str = "--duration") -> float | None:
    """A duration flag in seconds (None when not given); exit 2 when it is no duration."""
    from sim.knobs import parse_duration

    if text is None:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        fail(f"{flag}: {exc}")
    if seconds <= 0:
        fail(f"{flag}: expected a positive duration such as 5m, got {text!r}")
    return seconds


def _patterns(text: str) -> list[str]:
    known = ", ".join(PATTERNS)
    names = [name.strip() for name in text.split(",")]
    if not any(names):
        fail(f"--patterns: expected a comma-separated list of: {known}")
    for position, name in enumerate(names, 1):
        if not name:
            fail(f"--patterns {text!r}: pattern {position} is empty; expected names of: {known}")
        _check_pattern(name, "--patterns")
        if names.index(name) < position - 1:
            fail(f"--patterns {text!r}: {name!r} is named twice; name each pattern once")
    return names


def _check_pattern(name: str, flag: str) -> None:
    if name not in PATTERNS:
        fail(f"{flag}: unknown pattern {name!r}; expected one of: {', '.join(PATTERNS)}")


def counting_bar(label: str) -> Any:
    """A transient bar on stderr counting done of total (runs of a sweep, seeds of a
    check), with the time elapsed."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True)


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    """A progress callback that shows a bar once the run has taken over a second."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=1.0)
    started = bar.get_time()  # rich's monotonic clock: display only, never results
    shown = False

    def update(done: float) -> None:
        nonlocal shown
        bar.update(task, completed=done)
        if not shown and bar.get_time() - started > SHOW_PROGRESS_AFTER:
            bar.start()
            shown = True

    try:
        yield update
    finally:
        if shown:
            bar.stop()


def _check_systems(path: Path, scenario: Scenario, patterns: list[str]) -> None:
    """Refuse, before anything runs, a pattern the scenario lacks a system for."""
    for pattern in patterns:
        problem = scenario.missing_systems(pattern)
        if problem:
            fail(f"{path}: {problem}; or choose another pattern")


def _simulate(
    scenario: Scenario,
    seed: int | None,
    pattern: str,
    duration: float | None,
    orders: int | None,
    events: Path | None = None,
    spans: EventLog | None = None,
    series: bool = True,
) -> dict[str, Any]:
    from sim.journal import Journal, Logs
    from sim.series import record
    from sim.world import World

    seed = scenario.seed if seed is None else seed
    with _events_file(events) as out:
        logs: list[EventLog] = [Journal(out)] if out is not None else []
        if spans is not None:
            logs.append(spans)
        journal = logs[0] if len(logs) == 1 else Logs(*logs) if logs else None
        world = World(scenario, seed, pattern, journal=journal)
        sampled = record(world) if series else None
        with _progress(f"{scenario.name} / {pattern}") as progress:
            world.run(duration, orders, progress)
        if journal is not None:
            journal.flush()
    result = world.result()
    return {**result, "series": sampled.as_json()} if sampled is not None else result


@contextmanager
def _events_file(path: Path | None) -> Iterator[IO[str] | None]:
    """The ``--events`` file, open for the run (written as the run goes)."""
    if path is None:
        yield None
        return
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"--events: cannot write {path} ({exc.strerror}); choose another path")
    with handle:
        yield handle


def _check_json_path(path: Path | None, flag: str = "--json") -> None:
    """Make an output file's folder if missing; refuse an unwritable path before any run."""
    if path is None:
        return
    if path.is_dir():
        fail(f"{flag}: {path} is a directory; give a file path such as {path / 'out.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{flag}: cannot make the folder of {path} ({exc.strerror}); choose another path")


def _write_json(path: Path | None, document: dict[str, Any]) -> str | None:
    """Write the results; the error message if that failed (results are printed anyway)."""
    if path is None:
        return None
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return f"--json: cannot write {path} ({exc.strerror}); the results are printed above"
    return None


def _prepare(duration: str | None, orders: int | None, json_path: Path | None) -> float | None:
    """Check the flags every run shares, before any work; the duration in seconds."""
    if duration is not None and orders is not None:
        fail("--orders and --duration exclude each other; pass one of them")
    _check_json_path(json_path)
    return _duration(duration)


def _report(
    loaded: Scenario,
    results: list[dict[str, Any]],
    json_path: Path | None,
    document: dict[str, Any],
) -> None:
    """Write the JSON, print the tables, and exit as the runs ended."""
    from sim.report import events_table, metrics_table, queueing_table, systems_table

    unwritten = _write_json(json_path, document)
    out.print(metrics_table(results, f"{loaded.name}, seed {results[0]['seed']}"))
    out.print(systems_table(results))
    out.print(queueing_table(results))
    events = events_table(results)
    if events is not None:
        out.print(events)
    for result in results:
        out.print(f"trace hash {result['pattern']} {result['trace_hash']}", highlight=False)
    if unwritten:
        fail(unwritten)
    if results[-1]["interrupted"]:
        raise typer.Exit(130)


@app.command()
def run(
    scenario: ScenarioArg,
    seed: SeedOpt = None,
    pattern: Annotated[
        str | None,
        typer.Option(
            "--pattern",
            help="sync_chain, hybrid, outbox, event_driven or batch (default: the scenario's).",
        ),
    ] = None,
    orders: OrdersOpt = None,
    duration: DurationOpt = None,
    json_path: JsonOpt = None,
    no_reconciliation: NoReconciliationOpt = False,
    no_ownership: NoOwnershipOpt = False,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Write the run's event log here, one JSON line per call and event "
            "(filter one deal with jq on .correlation).",
        ),
    ] = None,
    seeds: Annotated[
        int,
        _seeds_option(
            "Run on this many seeds (derived from the scenario's) and report each "
            "metric's mean, standard deviation and 95% confidence interval."
        ),
    ] = 1,
    otlp: Annotated[
        str | None,
        typer.Option(
            "--otlp",
            help="Export each deal as an OpenTelemetry trace to this OTLP/HTTP collector "
            "(e.g. http://127.0.0.1:4318).",
        ),
    ] = None,
) -> None:
    """Run one scenario with one integration pattern and print its metrics."""
    seconds = _prepare(duration, orders, json_path)
    if seeds > 1 and (events is not None or otlp is not None):
        fail("--events and --otlp record one run; drop --seeds, or them")
    if events is not None:
        _check_json_path(events, "--events")
    if pattern is not None:
        _check_pattern(pattern, "--pattern")
    loaded = _scenario(scenario, no_reconciliation, no_ownership)
    name = pattern or loaded.pattern
    _check_systems(scenario, loaded, [name])
    if seeds > 1:
        _replicate(loaded, [name], seed, seeds, seconds, orders, json_path)
        return
    spans = None
    if otlp is not None:
        from sim.otlp import OtlpError, Spans, traces_url

        try:
            url = traces_url(otlp)
        except OtlpError as exc:
            fail(str(exc))
        spans = Spans(url, loaded.name, loaded.seed if seed is None else seed)
    result = _simulate(loaded, seed, name, seconds, orders, events, spans)
    refused = 0
    if spans is not None:
        sent, refused = spans.close()
        note = f"; the collector refused {refused:,} (they are lost)" if refused else ""
        err.print(f"traces: {sent:,} spans sent to {url}{note}", highlight=False)
    _report(loaded, [result], json_path, result)
    if refused:
        raise typer.Exit(1)


@app.command()
def compare(
    scenario: ScenarioArg,
    patterns: Annotated[
        str, typer.Option("--patterns", help="Comma-separated patterns to compare.")
    ] = ",".join(PATTERNS),
    seed: SeedOpt = None,
    orders: OrdersOpt = None,
    duration: DurationOpt = None,
    json_path: JsonOpt = None,
    no_reconciliation: NoReconciliationOpt = False,
    no_ownership: NoOwnershipOpt = False,
    seeds: Annotated[
        int,
        _seeds_option(
            "Run each pattern on this many seeds (derived from the scenario's) and "
            "say which differences exceed the seed-to-seed noise (paired t-test, 5%)."
        ),
    ] = 1,
) -> None:
    """Run one scenario through several patterns and compare them side by side."""
    seconds = _prepare(duration, orders, json_path)
    names = _patterns(patterns)
    loaded = _scenario(scenario, no_reconciliation, no_ownership)
    _check_systems(scenario, loaded, names)
    if seeds > 1:
        _replicate(loaded, names, seed, seeds, seconds, orders, json_path)
        return
    results: list[dict[str, Any]] = []
    for name in names:
        results.append(_simulate(loaded, seed, name, seconds, orders))
        if results[-1]["interrupted"]:
            break
    _report(loaded, results, json_path, {"results": results})


def _replicate(
    loaded: Scenario,
    names: list[str],
    seed: int | None,
    count: int,
    seconds: float | None,
    orders: int | None,
    json_path: Path | None,
) -> None:
    """``compare --seeds``: every pattern on every seed, summarised and tested."""
    from sim.replications import compare_patterns, derive_seeds, summarise
    from sim.report import replications_table

    derived = derive_seeds(loaded.seed if seed is None else seed, count)
    first: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    interrupted = False
    for name in names:
        for n, each in enumerate(derived):
            # only the first seed's run is kept whole, so only it records the series
            result = _simulate(loaded, each, name, seconds, orders, series=n == 0)
            if result["interrupted"]:  # Ctrl-C: half a run is no replication
                interrupted = True
                break
            if n == 0:
                first.append(result)  # the plain run's tables, series and report
            runs[name].append(result["metrics"])
        if interrupted:
            break
    runs = {name: found for name, found in runs.items() if found}
    if not runs:
        fail("interrupted before the first seed finished; nothing to summarise")
    summary = {name: summarise(metrics) for name, metrics in runs.items()}
    common = min(len(found) for found in runs.values())  # pairs need both patterns' seed
    differences = compare_patterns({name: found[:common] for name, found in runs.items()})
    done = sum(len(found) for found in runs.values())
    out.print(replications_table(f"{loaded.name}, over {common} seed(s)", summary))
    if len(names) > 1:
        _print_differences(differences)
    document = {
        "results": first,
        "interrupted": interrupted,
        "replications": {
            "seeds": derived[: max(len(found) for found in runs.values())],
            "runs": runs,
            "summary": summary,
            "differences": differences,
        },
    }
    unwritten = _write_json(json_path, document)
    if unwritten:
        fail(unwritten)
    if interrupted:
        err.print(
            f"interrupted: {done} of {len(names) * count} runs finished; the summary is "
            "theirs (the interrupted run is left out)",
            highlight=False,
        )
        raise typer.Exit(130)


def _print_differences(differences: list[dict[str, Any]]) -> None:
    out.print("differences larger than the seed-to-seed noise (paired t-test, 5%):")
    shown = [d for d in differences if d["significant"]]
    for d in shown:
        out.print(
            f"  {d['metric']}: {d['b']} - {d['a']} = {d['difference']:.4g} "
            f"[{d['ci95'][0]:.4g}, {d['ci95'][1]:.4g}], "
            + ("p<1e-06" if d["p_value"] < 1e-6 else f"p={d['p_value']:.3g}"),
            highlight=False,
            soft_wrap=True,
        )
    if not shown:
        out.print("  none", highlight=False)


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario file and say what is wrong with it, line by line."""
    from sim.report import duration_text
    from sim.scenario import MONTH

    loaded = _scenario(scenario)
    deals = loaded.workload.arrivals_per_hour * loaded.horizon / 3600
    expected = f"about {deals:,.0f} deals"
    life = loaded.workload.lifecycle
    if life is not None:
        # each deal lives on for half the horizon on average, amending as it goes,
        # more often over the months' last days
        peaks = life.month_end
        busier = 1 + (peaks.factor - 1) * peaks.last / MONTH if peaks is not None else 1.0
        amendments = deals * life.per_second() * busier * loaded.horizon / 2
        expected += f", {amendments:,.0f} amendments"
    out.print(
        f"{scenario}: valid scenario {loaded.name!r} (horizon {duration_text(loaded.horizon)}, "
        f"pattern {loaded.pattern}, {loaded.workload.arrivals_per_hour:g} deals/hour; "
        f"{expected})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
def report(
    results: Annotated[
        Path, typer.Argument(help="JSON of `run`, `compare` or `drill run`.", show_default=False)
    ],
    html: Annotated[Path, typer.Option("--html", help="Write the page here.")],
) -> None:
    """One self-contained HTML page (no network, no script) for a run, compare or drill."""
    from sim.html_report import build

    _check_json_path(html, "--html")
    try:
        document = json.loads(results.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{results}: no such file; pass the JSON a `--json` option wrote")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{results}: cannot read it ({exc}); pass the JSON a `--json` option wrote")
    except json.JSONDecodeError as exc:
        fail(f"{results}:{exc.lineno}: not JSON ({exc.msg}); pass the JSON a `--json` option wrote")
    if not isinstance(document, dict):
        fail(f"{results}: expected a JSON object, got {type(document).__name__}")
    try:
        page = build(document)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        fail(f"{results}: {exc}")
    try:
        html.write_text(page, encoding="utf-8")
    except OSError as exc:
        fail(f"--html: cannot write {html} ({exc.strerror}); choose another path")
    out.print(f"wrote {html} ({len(page.encode()) / 1024:,.0f} KiB)", highlight=False)


# The CLI is where the layers meet: the mocks' commands sit above the simulator (they
# import this module's helpers, so they are added once those exist).
from mocks.cli import api_app, live, mocks_app  # noqa: E402
from sim.check_cli import check  # noqa: E402
from sim.drill_cli import drill_app  # noqa: E402
from sim.sweep_cli import sweep  # noqa: E402

app.add_typer(drill_app, name="drill")
app.add_typer(mocks_app, name="mocks")
app.add_typer(api_app, name="api")
app.command()(live)
app.command()(sweep)
app.command()(check)


def main() -> None:
    """Entry point of the ``lifecycle-sandbox`` console script.

    A crash exits 3 with one line (see :mod:`contracts.guard`), never 1. Once the
    command is done (its files closed, its output flushed), the process leaves at
    once: tearing down a large run's millions of objects one by one took longer
    than a second, for nothing.
    """
    try:
        run_guarded(app, "lifecycle-sandbox")
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    leave(code)


def leave(code: object) -> NoReturn:
    """Flush the output and end the process with ``code`` (as ``sys.exit`` reads it),
    without the interpreter's teardown."""
    import logging
    import os
    import sys

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
