"""``lifecycle-sandbox check``: every property on many seeds, each with its own faults.

Seeds run on a local process pool (``--workers``); each comes back as a verdict. A
failure is shrunk to the fewest fault kinds that still break it and printed with
the one command that replays it (``--replay SEED --only ...``), which reruns that
world alone, with ``--events`` for its event log.
"""

from __future__ import annotations

import functools
import json
import shlex
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.table import Table

from sim.cli import (
    ScenarioArg,
    WorkersOpt,
    _check_pattern,
    _scenario,
    counting_bar,
    err,
    fail,
    out,
)

__all__ = ["check"]


class SeedTask(NamedTuple):
    """One seed of a check, as a pool task."""

    scenario: str
    seed: int
    deals: int
    pattern: str | None

    @property
    def id(self) -> str:
        """The seed, as the pool names it."""
        return str(self.seed)


@functools.lru_cache(maxsize=4)
def _loaded(path: str) -> Any:
    from sim.scenario import load

    return load(path)


def run_seed(task: SeedTask) -> dict[str, Any]:
    """A pool's task function: one seed's verdict, as a dict."""
    from sim.check import check_seed

    verdict = check_seed(_loaded(task.scenario), task.seed, task.deals, task.pattern)
    return verdict._asdict()


def check(
    scenario: ScenarioArg,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, max=1_000_000, help="Seeds to check.")
    ] = 100,
    first: Annotated[int, typer.Option("--first-seed", min=0, help="The first seed.")] = 1,
    deals: Annotated[
        int, typer.Option("--deals", min=1, max=100_000, help="Deals each seed closes.")
    ] = 200,
    pattern: Annotated[
        str | None,
        typer.Option("--pattern", help="Run every seed with this pattern (default: drawn)."),
    ] = None,
    workers: WorkersOpt = None,
    replay: Annotated[
        int | None,
        typer.Option("--replay", min=0, help="Rerun this one seed and say what it broke."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="With --replay: only these of its fault kinds (comma-separated; none: none).",
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option("--events", help="With --replay: write the run's event log here (JSONL)."),
    ] = None,
) -> None:
    """Check every property on many seeds, each with its own drawn fault profile."""
    from sim.check import patterns_of
    from sim.swarm import KINDS

    loaded = _scenario(scenario)
    if pattern is not None:
        _check_pattern(pattern, "--pattern")
        if pattern not in patterns_of(loaded):
            fail(f"--pattern {pattern}: {loaded.missing_systems(pattern)}")
    kinds = None
    if only is not None:
        if replay is None:
            fail("--only goes with --replay SEED: it narrows the faults of one seed")
        kinds = [kind.strip() for kind in only.split(",") if kind.strip() not in ("", "none")]
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            fail(f"--only: unknown fault kind {unknown[0]!r}; expected some of: {', '.join(KINDS)}")
    if events is not None and replay is None:
        fail("--events goes with --replay SEED: a check of many seeds keeps no event log")
    if replay is not None:
        _replay(loaded, scenario, replay, deals, pattern, kinds, events)
        return
    _many(loaded, scenario, range(first, first + seeds), deals, pattern, workers)


def _replay(
    loaded: Any,
    path: Path,
    seed: int,
    deals: int,
    pattern: str | None,
    kinds: list[str] | None,
    events: Path | None,
) -> None:
    from sim.check import check_seed, profile_of
    from sim.journal import Journal

    profile = profile_of(loaded, seed, kinds)
    out.print(f"profile of seed {seed}: {json.dumps(profile, sort_keys=True)}", highlight=False)
    handle = None
    if events is not None:
        try:
            handle = events.open("w", encoding="utf-8")
        except OSError as exc:
            fail(f"--events: cannot write {events} ({exc.strerror}); choose another path")
    try:
        journal = Journal(handle) if handle is not None else None
        verdict = check_seed(loaded, seed, deals, pattern, kinds, journal)
    except Exception as exc:  # the world itself broke: a finding, reported as one
        verdict = _crashed(loaded, seed, deals, pattern, kinds, exc)
    finally:
        if handle is not None:
            handle.close()
    if events is not None:
        out.print(f"wrote {events}", highlight=False)
    if verdict.held:
        out.print(f"seed {seed} ({verdict.pattern}): every property held", highlight=False)
        return
    # the kinds asked for stay on the line: without --only it would run them all
    _report({**verdict._asdict(), "kinds": None}, verdict.kinds, path, deals)
    raise typer.Exit(1)


def _many(
    loaded: Any,
    path: Path,
    seeds: range,
    deals: int,
    pattern: str | None,
    workers: int | None,
) -> None:
    from sim.check import PROPERTIES, TWICE, Verdict, shrink
    from sim.sweep_cli import _cores
    from sim.sweep_pool import run_here, run_local

    tasks = [SeedTask(str(path), seed, deals, pattern) for seed in seeds]
    count = min(workers or _cores(), len(tasks))
    verdicts: dict[int, dict[str, Any]] = {}
    bar = counting_bar("check")
    progress = bar.add_task("seeds", total=len(tasks))

    def on_done(task: Any, result: dict[str, Any] | None, why: str | None) -> None:
        if result is None:  # the world itself broke: that is a finding too
            result = _crashed(loaded, task.seed, deals, pattern, None, why)._asdict()
        verdicts[task.seed] = result
        bar.advance(progress)

    started = bar.get_time()  # rich's monotonic clock: for the rate shown, never results
    interrupted = False
    try:
        with bar:
            if count == 1:
                run_here(tasks, on_done, run_seed)
            else:
                run_local(tasks, count, on_done, run_seed)
    except KeyboardInterrupt:
        interrupted = True
    wall = bar.get_time() - started
    done = [verdicts[seed] for seed in sorted(verdicts)]
    failing = [v for v in done if v["violations"]]
    out.print(_summary(done, list(PROPERTIES), loaded.name))
    twice = sum(1 for v in done if v["twice"])
    out.print(
        f"{len(done)} seeds of {deals} deals in {wall:.1f}s ({len(done) / max(wall, 1e-9):.1f} "
        f"seeds/s on {count} worker(s)); {twice} run twice (every {TWICE}th) for determinism",
        highlight=False,
    )
    if interrupted:
        err.print(f"interrupted: {len(tasks) - len(done)} seed(s) not checked")
        raise typer.Exit(130)
    if not failing:
        out.print("every property held on every seed", highlight=False)
        return
    first = failing[0]
    verdict = Verdict(**first)
    kinds, shrunk = shrink(loaded, verdict, deals)
    out.print(f"FAILED: {len(failing)} of {len(done)} seeds broke a property", highlight=False)
    _report({**first, "violations": shrunk.violations}, kinds, path, deals)
    others = ", ".join(str(v["seed"]) for v in failing[1:11])
    if others:
        out.print(f"also failing: seeds {others}{' ...' if len(failing) > 11 else ''}")
    raise typer.Exit(1)


def _crashed(
    loaded: Any,
    seed: int,
    deals: int,
    pattern: str | None,
    kinds: list[str] | None,
    why: object,
) -> Any:
    """The verdict of a seed whose world raised: its pattern and faults, and why."""
    from sim.check import Verdict, pattern_of, profile_of

    name = pattern_of(loaded, seed, pattern)
    drawn = list(profile_of(loaded, seed, kinds)["kinds"])
    reason = why if isinstance(why, str) else f"{type(why).__name__}: {why}"
    return Verdict(seed, name, drawn, {"crash": [reason]}, deals)


def _summary(verdicts: list[dict[str, Any]], names: list[str], scenario: str) -> Table:
    table = Table(title=f"check: {scenario}", title_justify="left")
    table.add_column("property")
    table.add_column("held", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("first failing seed", justify="right")
    for name in [*names, "determinism", "crash"]:
        failed = [v["seed"] for v in verdicts if name in v["violations"]]
        if name in ("determinism", "crash") and not failed:
            continue
        table.add_row(
            name,
            str(len(verdicts) - len(failed)),
            str(len(failed)),
            str(failed[0]) if failed else "",
        )
    return table


def _report(verdict: dict[str, Any], kinds: list[str], path: Path, deals: int) -> None:
    """The failure, its shrunk faults, and the command that replays it."""
    seed = verdict["seed"]
    drawn = ", ".join(verdict["kinds"] if verdict["kinds"] is not None else kinds) or "none"
    shrunk = ", ".join(kinds) or "none"
    out.print(
        f"seed {seed} (pattern {verdict['pattern']}; faults drawn: {drawn}; shrunk to: {shrunk})",
        highlight=False,
        soft_wrap=True,
    )
    for name, problems in verdict["violations"].items():
        for problem in problems[:3]:
            out.print(f"  {name}: {problem}", highlight=False, soft_wrap=True)
        if len(problems) > 3:
            out.print(f"  {name}: ... {len(problems) - 3} more", highlight=False)
    line = f"lifecycle-sandbox check {shlex.quote(str(path))} --replay {seed} --deals {deals}"
    line += f" --pattern {verdict['pattern']}"
    if kinds != verdict["kinds"]:
        line += f" --only {','.join(kinds) or 'none'}"
    out.print(f"replay: {line}", highlight=False, soft_wrap=True)
