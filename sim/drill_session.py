"""A drill in progress: the world, its incident scheduled, its series recording.

A session is the exercise floor: the clock stands still between steps, the
instructor (or the trainee) moves it on with ``advance``, and any allowed action
can be taken at the present moment with ``act``; ``finish`` runs the drill to its
horizon, lets every deal end, and hands back what the run left behind. A scripted
run is a session whose actions are all scheduled up front; an interactive one
takes them as the trainee types them, and keeps them (``taken``) so that the
session replays as a scripted run.
"""

from __future__ import annotations

import io

from sim.debrief import SETTLE, DrillRun, Moment, hurt_of, stories_of
from sim.drill import Action, Drill
from sim.incidents import inject
from sim.journal import Journal
from sim.operator import Refused, act
from sim.scenario import Scenario
from sim.series import record
from sim.world import World, fewer_gc_pauses

__all__ = ["Session", "run_drill"]

STILL = 3600.0
"""After the horizon: an hour in which nothing settles closes the books."""


class Session:
    """One run of a drill, moved on by its caller.

    Args:
        drill: The drill.
        scenario: Its scenario, overrides applied.
        tell: Keep the event log, for the stories of the deals hurt most.
    """

    def __init__(self, drill: Drill, scenario: Scenario, tell: bool = False) -> None:
        self.drill = drill
        self.log = io.StringIO() if tell else None
        self.journal = Journal(self.log) if self.log is not None else None
        self.world = World(scenario, scenario.seed, journal=self.journal)
        self.moments: list[Moment] = []
        inject(self.world, drill.injections, lambda t, text: self.note(t, "fault", text))
        self.series = record(self.world)
        self.taken: list[Action] = []
        self.pending: list[Action] = []
        self.world.start()

    @property
    def now(self) -> float:
        """Simulated seconds since the drill began."""
        return float(self.world.env.now)

    def note(self, t: float, kind: str, text: str) -> None:
        """Add a line to the timeline."""
        self.moments.append(Moment(t, kind, text))

    def schedule(self, actions: list[Action]) -> None:
        """Take each action at its time (a scripted run): ``advance`` stops the clock
        there and takes it, exactly as a trainee typing it at that moment would."""
        self.pending = sorted([*self.pending, *actions], key=lambda a: a.at)

    def act(self, action: Action) -> str:
        """Take ``action`` now; what it did (or why it was refused), as logged."""
        if action.do not in self.drill.allowed:
            allowed = ", ".join(self.drill.allowed) or "none"
            text = f"{action.label()}: refused: this drill does not allow it (allowed: {allowed})"
            self.note(self.now, "refused", text)
            return text
        try:
            did = act(self.world, action)
        except Refused as exc:
            text = f"{action.label()}: refused: {exc}"
            self.note(self.now, "refused", text)
            return text
        self.taken.append(action.model_copy(update={"at": self.now}))
        text = f"{action.label()}: {did}"
        self.note(self.now, "action", text)
        return text

    def advance(self, seconds: float) -> float:
        """Move the drill on by ``seconds`` (not past its horizon), taking the scheduled
        actions on the way; the time now."""
        until = min(self.now + seconds, self.drill.horizon)
        with fewer_gc_pauses():
            while self.pending and self.pending[0].at <= until:
                action = self.pending.pop(0)
                self._run_to(action.at)
                self.act(action)
            self._run_to(until)
        return self.now

    def _settled(self) -> tuple[int, ...]:
        groups = list(self.world.broker.groups())
        return (
            len(self.world.recorder.ended),
            sum(g.applied + g.dead_lettered + g.lost for g in groups),
        )

    def _run_to(self, until: float) -> None:
        if until > self.now:
            self.world.env.run(until=until)

    def finish(self) -> DrillRun:
        """Run to the horizon, let every deal end, and sum up.

        The books close when the world is quiet, or when an hour went by in which
        nothing settled (no deal ended, no message was handled or given up on: what
        is stuck stays stuck, however long the outbox's relay polls), a day at most.
        """
        self.advance(self.drill.horizon)
        world = self.world
        for _ in range(int(SETTLE // STILL)):
            before = self._settled()
            if world.drain(STILL) or self._settled() == before:
                break
        result = world.result()
        stories: dict[str, list[str]] = {}
        if self.journal is not None and self.log is not None:
            self.journal.flush()
            stories = stories_of(world, self.log.getvalue(), self.drill.start, self.drill.end)
        metrics = result["metrics"]
        return DrillRun(
            metrics,
            self.series,
            self.moments,
            hurt_of(world, metrics),
            stories,
            result["trace_hash"],
        )


def run_drill(
    drill: Drill, scenario: Scenario, actions: list[Action], tell: bool = False
) -> DrillRun:
    """Run ``drill`` with ``actions`` (none: the baseline), each at its time.

    Args:
        drill: The drill.
        scenario: Its scenario, overrides applied.
        actions: The operator's actions.
        tell: Keep the event log, for the stories of the deals hurt most.
    """
    session = Session(drill, scenario, tell)
    session.schedule(actions)
    return session.finish()
