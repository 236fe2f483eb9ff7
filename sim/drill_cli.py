"""``lifecycle-sandbox drill``: list the bundled drills, run one, read its debrief."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli import JsonOpt, SeedOpt, _check_json_path, _duration, _write_json, err, fail, out
from sim.report import duration_text

__all__ = ["DRILLS", "drill_app"]

DRILLS = Path(__file__).resolve().parent.parent / "drills"
"""Where the bundled drills are."""

drill_app: typer.Typer = typer.Typer(
    help="Failure drills for trainers: an incident, a hypothesis, actions and a debrief.",
    no_args_is_help=True,
)


@drill_app.command("list")
def list_drills() -> None:
    """The bundled drills, one line each."""
    from sim.drill import load_drill
    from sim.validation import ScenarioError

    for path in sorted(DRILLS.glob("*.yaml")):
        try:
            drill, _ = load_drill(path)
        except ScenarioError as exc:
            err.print(f"{path.name}: {exc}", highlight=False, markup=False)
            continue
        line = f"{path.relative_to(DRILLS.parent)}  {drill.title}"
        out.print(line, highlight=False, markup=False, soft_wrap=True)


@drill_app.command("run")
def run(
    drill_file: Annotated[Path, typer.Argument(help="Drill YAML file.", show_default=False)],
    no_actions: Annotated[
        bool, typer.Option("--no-actions", help="The baseline: nobody acts.")
    ] = False,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", help="You act: time moves on in steps, actions at a prompt."),
    ] = False,
    step: Annotated[
        str, typer.Option("--step", help="Simulated time each Enter moves on (--interactive).")
    ] = "5m",
    actions_file: Annotated[
        Path | None,
        typer.Option("--actions", help="Take these actions (a file --record wrote)."),
    ] = None,
    record_path: Annotated[
        Path | None,
        typer.Option("--record", help="Write the actions taken here, to replay with --actions."),
    ] = None,
    seed: SeedOpt = None,
    json_path: JsonOpt = None,
) -> None:
    """Run a drill with its answer key's actions (scripted), with none, with yours at a
    prompt (--interactive) or from a file (--actions), and debrief.

    The debrief scores the run against two more on the same seed: nobody acting (the
    baseline) and the answer key.
    """
    from sim.debrief import debrief
    from sim.drill import load_actions, load_drill
    from sim.drill_session import Session, run_drill
    from sim.validation import ScenarioError

    if sum((no_actions, interactive, actions_file is not None)) > 1:
        fail("--no-actions, --interactive and --actions exclude each other; pass one")
    seconds = _duration(step, "--step")
    assert seconds is not None
    _check_json_path(json_path)
    _check_json_path(record_path, "--record")
    try:
        drill, scenario = load_drill(drill_file)
        taken_file = load_actions(actions_file) if actions_file is not None else None
    except ScenarioError as exc:
        advice = "lifecycle-sandbox drill run"
        fail(
            str(exc).replace("lifecycle-sandbox validate", advice).replace("scenario YAML", "YAML")
        )
    given = taken_file.actions if taken_file is not None else None
    if taken_file is not None and taken_file.drill and taken_file.drill != drill.name:
        fail(
            f"--actions: {actions_file} was recorded in drill {taken_file.drill!r}, not "
            f"{drill.name!r}; pass that drill, or the actions of this one"
        )
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    mode = "baseline" if no_actions else "answer key"
    try:
        if interactive:
            from sim.console import play

            session = Session(drill, scenario, tell=True)
            play(
                session, seconds, input, lambda text: out.print(text, markup=False, highlight=False)
            )
            mine = session.finish()
            taken, mode = session.taken, "interactive"
        else:
            taken = list(given if given is not None else [] if no_actions else drill.answer_key)
            if given is not None:
                mode = f"actions from {actions_file}"
            mine = run_drill(drill, scenario, taken, tell=True)
        baseline = mine if no_actions else run_drill(drill, scenario, [])
        is_key = not no_actions and not interactive and given is None
        key = mine if is_key else run_drill(drill, scenario, list(drill.answer_key))
    except ValueError as exc:
        fail(f"{drill_file}: {exc}")
    unrecorded = _record(record_path, drill.name, taken) if record_path is not None else None
    report = debrief(drill, mine, baseline, key)
    report.update(
        {
            "file": str(drill_file),
            "seed": scenario.seed,
            "mode": mode,
            "series": mine.series.as_json(),
            "metrics": mine.metrics,
            "trace_hash": mine.trace_hash,
        }
    )
    show(report, drill.briefing)
    unwritten = _write_json(json_path, report)
    if unwritten or unrecorded:
        fail("; ".join(problem for problem in (unrecorded, unwritten) if problem))


def _record(path: Path, drill: str, taken: list[Any]) -> str | None:
    """Write the actions taken as a file ``--actions`` replays; the error, if any (the
    debrief is shown anyway)."""
    import yaml

    rows = [a.model_dump(mode="json", exclude_defaults=True, by_alias=True) for a in taken]
    for row, action in zip(rows, taken, strict=True):
        row["at"] = action.at  # seconds: the exact time replays exactly
    text = yaml.safe_dump({"drill": drill, "actions": rows}, sort_keys=False)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return f"--record: cannot write {path} ({exc.strerror}); the debrief is above"
    err.print(f"recorded {len(taken)} action(s) in {path}", highlight=False)
    return None


def show(report: dict[str, Any], briefing: str) -> None:
    """Print the debrief for people."""
    from sim.debrief import clock

    out.print(
        f"[bold]{escape(report['title'])}[/]: {escape(report['file'])}, seed "
        f"{report['seed']}, {report['mode']}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(briefing.strip(), highlight=False, markup=False)
    out.print()
    out.print("[bold]timeline[/]")
    for t, kind, text in report["timeline"]:
        out.print(f"  {clock(t)}  {kind:<12} {text}", highlight=False, markup=False, soft_wrap=True)
    table = Table("steady-state hypothesis", "before", "during", "after", title_justify="left")
    for verdict in report["hypothesis"]:
        table.add_row(verdict["check"], verdict["before"], verdict["during"], verdict["after"])
    out.print(table)
    detect, recover = report["time_to_detect_s"], report["time_to_recover_s"]
    out.print(
        f"time to detect: {'never broken' if detect is None else duration_text(detect)}; "
        f"time to recover: {'-' if recover is None else duration_text(recover)}",
        highlight=False,
    )
    hurt = report["hurt"]
    table = Table("harm", "this run", "nobody acting", "answer key", title_justify="left")
    for name in hurt["run"]:
        row = [hurt[who][name] for who in ("run", "baseline", "answer_key")]
        if any(row) or name == "total":  # a harm no run suffered says nothing
            table.add_row(name, *map(str, row))
    out.print(table)
    score = report["score"]
    gain = hurt["baseline"]["total"] - hurt["answer_key"]["total"]
    if score is None:
        out.print("score: none (the answer key does no better than nobody acting)", highlight=False)
    else:
        out.print(
            f"score: {score} of 100 (of the {gain} harms the answer key avoids against "
            "nobody acting, the share this run avoided)",
            highlight=False,
            soft_wrap=True,
        )
    if report["stories"]:
        out.print("[bold]the deals hurt most[/]")
        for deal, lines in report["stories"].items():
            out.print(f"  {deal}", highlight=False)
            for line in lines[:12]:
                out.print(f"    {line}", highlight=False, markup=False, soft_wrap=True)
            if len(lines) > 12:
                out.print(f"    ... {len(lines) - 12} more lines", highlight=False)
    if report["lesson"]:
        out.print("[bold]lesson[/]")
        out.print(report["lesson"].strip(), highlight=False, markup=False)
