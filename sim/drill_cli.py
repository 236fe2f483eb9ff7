"""``lifecycle-sandbox drill``: list the bundled drills, run one, read its debrief."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli import JsonOpt, SeedOpt, _check_json_path, _write_json, err, fail, out

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
    seed: SeedOpt = None,
    json_path: JsonOpt = None,
) -> None:
    """Run a drill with its answer key's actions (scripted), or with none, and debrief.

    The debrief scores the run against two more on the same seed: nobody acting (the
    baseline) and the answer key.
    """
    from sim.debrief import debrief, run_drill
    from sim.drill import load_drill
    from sim.validation import ScenarioError

    _check_json_path(json_path)
    try:
        drill, scenario = load_drill(drill_file)
    except ScenarioError as exc:
        fail(str(exc).replace("lifecycle-sandbox validate", "lifecycle-sandbox drill run"))
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    try:
        actions = [] if no_actions else list(drill.answer_key)
        mine = run_drill(drill, scenario, actions, tell=True)
        baseline = mine if no_actions else run_drill(drill, scenario, [])
        key = mine if not no_actions else run_drill(drill, scenario, list(drill.answer_key))
    except ValueError as exc:
        fail(f"{drill_file}: {exc}")
    report = debrief(drill, mine, baseline, key)
    report.update(
        {
            "file": str(drill_file),
            "seed": scenario.seed,
            "mode": "baseline" if no_actions else "answer key",
            "series": mine.series.as_json(),
            "metrics": mine.metrics,
            "trace_hash": mine.trace_hash,
        }
    )
    show(report, drill.briefing)
    unwritten = _write_json(json_path, report)
    if unwritten:
        fail(unwritten)


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
        f"time to detect: {'never broken' if detect is None else _span(detect)}; "
        f"time to recover: {'-' if recover is None else _span(recover)}",
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


def _span(seconds: float) -> str:
    from sim.report import duration_text

    return str(duration_text(seconds))
