"""The SimPy runtime: it runs orchestrator workflows in simulated time.

The driver is the kitchen that cooks the workflow's order slips. For each effect
a workflow yields it does the real thing in the simulated world, then sends the
result back in (``gen.send``) or throws the failure in (``gen.throw``), exactly
as SimPy's own ``Process`` resumes a process generator.

A ``Call`` takes a bulkhead slot for its system (if the policy caps concurrency),
goes through the system's weather to the vendor model, waits out the latency (or
the caller's timeout, whichever is shorter), and comes back as a body or an error.
A caller that times out frees its bulkhead slot at once, while the vendor goes on
working on the abandoned request until its latency is over: so a timeout shorter
than the vendor's slow tail lets a bulkhead overrun the vendor's concurrency limit.
The loop is written flat, with no sub-process per call: this is the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy

from orchestrator.effects import Call, Now, Publish, Sleep, Workflow
from orchestrator.errors import CallError, Retryable, Throttled, TimeoutUnknown, classify
from sim.bulkhead import Bulkhead
from sim.faults import Faults
from sim.journal import EventLog
from sim.sample import Sample
from sim.trace import Trace

__all__ = ["Drop", "Line", "Runtime", "Sink"]


@dataclass(slots=True)
class Line:
    """The orchestrator's line to one system: its weather, bulkhead and counters.

    Attributes:
        faults: The system behind its weather.
        bulkhead: Caps the orchestrator's concurrent calls, or None.
        calls: Calls sent (retries included).
        retries: Calls that were retries.
        errors: Calls that failed technically (5xx, throttled, timed out).
        rejected: Calls refused for business reasons (4xx other than throttling).
        rate_limited: Calls refused by a rate or concurrency limit.
        timeouts: Calls whose response never came in time.
        held: Seconds of bulkhead slots held, summed over calls.
        waits: Seconds each call that had to wait for a bulkhead slot waited.
        tokens: Seconds each throttled call was told to wait for a rate-limit
            token (its Retry-After).
        latencies: Seconds the vendor took over each call (it works on past a
            caller's timeout).
        blind: The system drops the correlation header (its records of a call
            cannot be joined to the deal).
    """

    faults: Faults
    bulkhead: Bulkhead | None = None
    calls: int = 0
    retries: int = 0
    errors: int = 0
    rejected: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    held: float = 0.0
    waits: Sample = field(default_factory=Sample)
    tokens: Sample = field(default_factory=Sample)
    latencies: Sample = field(default_factory=Sample)
    blind: bool = False

    def fold(self) -> None:
        """Fold long samples into their sketches."""
        self.waits.fold()
        self.tokens.fold()
        self.latencies.fold()


class Sink(Protocol):
    """Where published events go; the broker is one."""

    def publish(self, effect: Publish, now: float) -> None:
        """Accept one event at simulated time ``now``.

        Raises:
            Retryable: The sink cannot take events now (the broker is down).
        """


class Drop:
    """A sink that drops every event (for runs without a broker)."""

    def publish(self, effect: Publish, now: float) -> None:
        """Drop the event."""


Process = Generator[simpy.Event, Any, Any]


class Runtime:
    """Interprets effects in simulated time.

    Args:
        env: The SimPy environment.
        lines: The line to each system, by system name.
        sink: Receives published events (the broker).
        trace: The run's trace.
    """

    def __init__(
        self,
        env: simpy.Environment,
        lines: Mapping[str, Line],
        sink: Sink | None = None,
        trace: Trace | None = None,
        journal: EventLog | None = None,
    ) -> None:
        self.env = env
        self.lines = dict(lines)
        self.sink: Sink = sink or Drop()
        self.trace = trace or Trace()
        self.journal = journal
        self.on_crash: Callable[[CallError, str | None], None] | None = None
        self.sleeps = 0
        self.uncorrelated: set[str] = set()
        """Deals some of whose calls or events lost their correlation id."""

    def start(self, workflow: Workflow, correlation: str | None = None) -> simpy.Process:
        """Run ``workflow`` as a new SimPy process.

        A ``CallError`` the workflow lets escape goes to ``on_crash`` (with
        ``correlation``, the deal it was for) instead of stopping the simulation.
        """
        return self.env.process(self.run(workflow, correlation, guard=True))

    def run(
        self, workflow: Workflow, correlation: str | None = None, guard: bool = False
    ) -> Process:
        """Drive ``workflow`` to its end; a SimPy process body (use ``yield from``).

        Args:
            workflow: The workflow.
            correlation: The deal it is for (told to ``on_crash``).
            guard: Hand an escaping ``CallError`` to ``on_crash``, if set.

        Returns:
            The workflow's return value. Its uncaught exception propagates.
        """
        env = self.env
        lines = self.lines
        journal = self.journal
        times, labels, statuses = self.trace.columns
        at, label, code = times.append, labels.append, statuses.append
        send = workflow.send
        throw = workflow.throw
        value: Any = None
        error: BaseException | None = None
        effect: Any  # dispatched on its exact type below: faster than isinstance
        while True:
            try:
                if error is None:
                    effect = send(value)
                else:
                    effect, error = throw(error), None
            except StopIteration as stop:
                return stop.value
            except CallError as escaped:  # free on the happy path (zero-cost try)
                if not guard or self.on_crash is None:
                    raise
                self.on_crash(escaped, correlation)
                return None
            kind = type(effect)
            if kind is Call:
                line = lines[effect.system]
                line.calls += 1
                if effect.attempt > 1:
                    line.retries += 1
                bulkhead = line.bulkhead
                if bulkhead is not None:
                    turn = bulkhead.acquire()
                    if turn is not None:
                        asked = env.now
                        yield turn
                        line.waits.values.append(env.now - asked)
                faults = line.faults
                now = env.now
                status, body, retry_after, latency, lost = faults(
                    effect.operation, effect.params, effect.key, now
                )
                line.latencies.values.append(latency)
                timeout = effect.timeout
                if latency < timeout:
                    yield env.timeout(latency)
                    faults.done()
                    if lost:  # the response got lost on its way back
                        yield env.timeout(timeout - latency)
                else:
                    # The caller gives up; the vendor, which cannot know, works on.
                    lost = True
                    env.timeout(latency).callbacks.append(faults.done)
                    yield env.timeout(timeout)
                if bulkhead is not None:
                    bulkhead.release()
                    line.held += env.now - now
                at(now)
                label(effect.key or effect.operation)
                if line.blind:
                    self.uncorrelated.add(effect.correlation or "")
                if journal is not None:
                    journal.call(now, effect, 0 if lost else status, env.now - now, line.blind)
                if lost:
                    code(0)
                    line.errors += 1
                    line.timeouts += 1
                    error = TimeoutUnknown(effect.system, effect.operation, 0, "TIMEOUT")
                    continue
                code(status)
                if status < 300:
                    value = body
                    continue
                error = classify(effect.system, effect.operation, status, body, retry_after)
                if isinstance(error, Retryable):
                    line.errors += 1
                    if type(error) is Throttled:
                        line.rate_limited += 1
                        if retry_after is not None:
                            line.tokens.values.append(retry_after)
                else:
                    line.rejected += 1
            elif kind is Now:
                value = env.now
            elif kind is Sleep:
                self.sleeps += 1
                yield env.timeout(effect.seconds)
                value = None
            elif kind is Publish:
                at(env.now)
                label(f"{effect.topic} {effect.key}")
                try:
                    self.sink.publish(effect, env.now)
                except Retryable as refused:  # the broker is down: the producer copes
                    code(503)
                    error = refused
                    continue
                code(1)
                value = None
            else:
                error = TypeError(f"a workflow yielded {effect!r}, which is not an effect")
