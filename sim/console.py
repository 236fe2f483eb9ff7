"""The trainee's console: a drill played at a prompt, simulated time in steps.

Plain lines in, plain lines out, so that it works over any SSH session and in a
pseudo-terminal test: after each step the console prints a dashboard (the
hypothesis checks as of the last minute, each system's calls, errors and breaker,
queued and dead-lettered messages, the alerts that fired) and waits at a prompt.
Time stands still at the prompt: that is the pause. The trainee types

- nothing (Enter) or ``next``: one step on;
- ``run 30m``: that long on;
- an action as ``do key=value ...``, e.g. ``pause_consumers group=erp-order`` or
  ``map_fields system=billing rename.amountPaid=amount``: taken now;
- ``actions``: what the drill allows; ``help``; ``end`` (or Ctrl-D, Ctrl-C): run to
  the end, debrief, and keep the recording.

Every action taken is kept with its time and can be written out as an answer key
(``--record``): the session replays as a scripted run (``--actions``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sim.debrief import clock
from sim.drill import ACTIONS, Action
from sim.drill_session import Session
from sim.knobs import parse_duration

__all__ = ["play"]

HELP = """\
Enter or `next`: one step on    `run 30m`: that long on    `end`: to the end
an action: `do key=value ...`, e.g. `pause_consumers group=erp-order`
`actions`: what this drill allows    `help`: this"""


def play(
    session: Session, step: float, ask: Callable[[str], str], say: Callable[[str], None]
) -> None:
    """Play ``session`` at a prompt until the trainee ends it or time runs out.

    Args:
        session: The drill in progress.
        step: Simulated seconds each Enter moves on.
        ask: Reads one line after showing a prompt (``input``); EOF ends the drill.
        say: Prints one block of text.
    """
    drill = session.drill
    say(f"{drill.title}\n{drill.briefing.strip()}\n\n{HELP}")
    fired: set[str] = set()
    while session.now < drill.horizon:
        say(dashboard(session, fired))
        try:
            line = ask(f"drill {clock(session.now)}> ").strip()
        except (EOFError, KeyboardInterrupt):  # the trainee is done: what was typed stays
            say("")
            line = "end"
        if line in ("", "next"):
            session.advance(step)
        elif line == "end":
            session.advance(drill.horizon)
        elif line == "help":
            say(HELP)
        elif line == "actions":
            say("\n".join(f"  {name}: {ACTIONS[name]}" for name in drill.allowed) or "  none")
        elif line.startswith("run "):
            try:
                session.advance(parse_duration(line[4:].strip()))
            except ValueError as exc:
                say(f"run: {exc}")
        else:
            say(_take(session, line))


def _take(session: Session, line: str) -> str:
    """Parse and take one typed action; what happened, or what is wrong with it."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        return f"cannot read that: {exc}"
    fields: dict[str, Any] = {"at": session.now, "do": words[0]}
    for word in words[1:]:
        name, sep, value = word.partition("=")
        if not sep:
            return f"{word!r}: expected key=value, e.g. group=erp-order"
        if name.startswith("rename."):
            fields.setdefault("rename", {})[name.removeprefix("rename.")] = value
        else:
            fields[name] = value
    try:
        action = Action.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'action'}: {e['msg']}" for e in exc.errors()
        )
        return f"not an action: {problems} (`actions` lists them)"
    return session.act(action)


def dashboard(session: Session, fired: set[str]) -> str:
    """The state of the drill as of the last sampled minute, and new alerts."""
    series, drill = session.series, session.drill
    lines = [f"-- {clock(session.now)} of {clock(drill.horizon)} --"]
    if not series.t:
        return "\n".join([*lines, "  (no minute sampled yet)"])
    last = len(series.t) - 1
    checks = []
    for check in drill.hypothesis:
        value = series.value(check.metric, check.system, last)
        held = check.holds(value)
        checks.append(f"{'ok ' if held else 'BAD'} {check.label()} (now {value:g})")
        if not held and check.label() not in fired:  # the debrief times it from the series
            fired.add(check.label())
            checks[-1] += "  <- ALERT"
    lines += ["hypothesis:", *(f"  {c}" for c in checks)]
    columns = series.columns
    lines.append(
        f"deals in flight {columns['in_flight'][last]:g}, overdue {columns['overdue'][last]:g}; "
        f"queued {columns['backlog'][last]:g}, dead letters {columns['dead_letters'][last]:g}"
    )
    health = []
    for system, of in series.systems.items():
        breaker = {0.0: "closed", 0.5: "half-open", 1.0: "OPEN"}[of["breaker"][last]]
        calls, errors = of["calls"][last], of["errors"][last]
        health.append(f"  {system:<13} {calls:>5g} calls {errors:>4g} errors  breaker {breaker}")
    lines += ["last minute:", *health]
    return "\n".join(lines)
