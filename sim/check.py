"""Simulation testing: every property, on many seeds, each with its own fault profile.

Like FoundationDB's simulator run overnight: each seed is a small world with its
own swarm of faults (``sim.swarm``), run until its last deal closed and its fault
windows passed, then healed and left to settle; then the inspector reads the
vendors' records and the broker's books. A property that fails names the seed,
the fault kinds it needed (shrunk: each kind switched off in turn, kept off if the
failure stays) and the one command that replays it. Some seeds are run twice, to
check that the same seed gives the same results.

``check_seed`` runs one seed; ``shrink`` narrows a failure; the ``check`` command
(``sim/check_cli.py``) runs many on a pool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from orchestrator.events import ORDER
from sim.event_invariants import double_effects, lost_events, order_violations, outbox_violations
from sim.invariants import (
    concurrency_violations,
    duplicate_effects,
    early_retries,
    saga_violations,
)
from sim.journal import EventLog
from sim.scenario import SYSTEMS, Scenario
from sim.swarm import Profile, apply, draw, heal, only, settle_bound
from sim.world import World

__all__ = [
    "PROPERTIES",
    "TWICE",
    "Run",
    "Verdict",
    "check_seed",
    "pattern_of",
    "patterns_of",
    "profile_of",
    "settled_world",
    "shrink",
]

TWICE = 20
"""Every ``TWICE``-th seed is run twice: the same seed must give the same results."""
EVENT_PATTERNS = ("hybrid", "outbox", "event_driven")


class Verdict(NamedTuple):
    """What the inspector found in one seed's world.

    Attributes:
        seed: The seed.
        pattern: The pattern it ran.
        kinds: The fault kinds that were on.
        violations: Property -> its violations, for each property that failed.
        deals: Deals closed.
        twice: Whether it was run twice (and compared).
    """

    seed: int
    pattern: str
    kinds: list[str]
    violations: dict[str, list[str]]
    deals: int
    twice: bool = False

    @property
    def held(self) -> bool:
        """Whether every property held."""
        return not self.violations


Property = Callable[["Run"], list[str]]


class Run(NamedTuple):
    """A healed and settled world, and what its event stream said."""

    world: World
    settled: bool
    bound: float
    endings: dict[str, tuple[str, Mapping[str, Any]]]


def _liveness(run: Run) -> list[str]:
    if run.settled:
        return []
    world = run.world
    stuck = sorted(world.recorder.pending)[:5]
    running = sorted(wf for b in world.recorder.books.values() for wf in b.running)[:5]
    return [
        f"not settled {run.bound:.0f}s after the faults stopped (a bound from the policies): "
        f"deals in flight {stuck}, workflows running {running}"
    ]


def _budgets(run: Run) -> list[str]:
    """A deal escalated, undone or failed on a transient error gave up only after its
    step spent the whole budget the scenario gives it, and its ending names that
    budget (a refusal, not retried, spends one attempt)."""
    scenario = run.world.scenario
    policy = scenario.policy
    declared = {
        "retry": policy.retry.max_attempts,
        "compensation_retry": policy.compensation_retry.max_attempts,
        "publish_retry": policy.publish_retry.max_attempts,
        "patterns.batch.max_attempts": scenario.patterns.batch.max_attempts,
    }
    # an undo that failed escalates; a forward step (or its publish) that failed
    # is undone or fails: each on its own budget
    owed = {
        ORDER.escalated: ("compensation_retry", "patterns.batch.max_attempts"),
        ORDER.compensated: ("retry", "publish_retry"),
        ORDER.failed: ("retry", "publish_retry"),
    }
    problems = []
    for deal, (topic, payload) in sorted(run.endings.items()):
        if topic not in owed:
            continue
        budget = payload.get("budget") or {}
        name, attempts = budget.get("name"), budget.get("attempts")
        ending = topic.split(".")[1]
        if name not in declared:
            problems.append(f"{deal} {ending} without naming its budget: {dict(payload)}")
        elif name not in owed[topic]:
            problems.append(f"{deal} {ending} on the {name} budget, not {owed[topic][0]}")
        elif budget.get("retryable") and attempts != declared[name]:
            problems.append(
                f"{deal} {ending} after {attempts} attempts of a {name} budget of {declared[name]}"
            )
    return problems


def _audit(run: Run) -> list[str]:
    if not run.settled:
        return []  # liveness says it; partial records are expected
    metrics = run.world.result()["metrics"]
    found = [f"{n} {check}" for check, n in metrics["audit"].items() if n]
    unexplained = metrics["revenue_leakage"]["by_cause"].get("unexplained")
    if unexplained:
        found.append(f"{unexplained} of revenue leakage no unfinished workflow explains")
    return found


def _settled(
    check: Callable[[World], list[str]], patterns: tuple[str, ...] = EVENT_PATTERNS
) -> Property:
    """``check`` read on a settled world of one of ``patterns`` (the event patterns)."""

    def settled_property(run: Run) -> list[str]:
        pattern = run.world.pattern.name
        return check(run.world) if run.settled and pattern in patterns else []

    return settled_property


def _concurrency(run: Run) -> list[str]:
    """With the bulkhead, no vendor works on more calls than its limit, unless a
    caller timed out first: it frees its slot while the vendor works on (the known
    limit of a bulkhead, in the README). Without it, a vendor over its limit
    refuses calls: that is its job."""
    world = run.world
    if not world.policy.bulkhead:
        return []
    timed_out = {name for name, line in world.lines.items() if line.timeouts}
    return [p for p in concurrency_violations(world) if p.split()[0] not in timed_out]


def _retry_after(run: Run) -> list[str]:
    """No throttled call comes back before its Retry-After. Copies of an event (the
    broker's duplicates, a crashed consumer's redelivery) make the same call, with
    the same key, on their own clock: with those in the weather the rule is not
    the client's to keep, so it is read only without them."""
    broker = run.world.scenario.broker
    if broker.duplicate_rate or broker.consumer_crash_rate:
        return []
    return early_retries(run.world)


PROPERTIES: dict[str, Property] = {
    "liveness": _liveness,
    "saga outcome": lambda run: saga_violations(run.world) if run.settled else [],
    "one effect per step": lambda run: duplicate_effects(run.world),
    "concurrency limits": _concurrency,
    "retry-after": _retry_after,
    "budgets": _budgets,
    "audit": _audit,
    "nothing lost": _settled(lost_events),
    "no double effects": _settled(double_effects),
    "newest version wins": _settled(order_violations),
    "outbox": _settled(outbox_violations, ("outbox",)),
}
"""Every property a check reads, by the name its report gives."""


def patterns_of(base: Scenario) -> list[str]:
    """The patterns a seed may draw: those the scenario has the systems for."""
    from orchestrator.patterns import PATTERNS

    return [name for name in PATTERNS if base.missing_systems(name) is None]


def pattern_of(base: Scenario, seed: int, pattern: str | None = None) -> str:
    """The pattern a seed runs: ``pattern`` if given, else the seed's draw."""
    choices = patterns_of(base)
    return pattern or choices[seed % len(choices)]


def profile_of(base: Scenario, seed: int, kinds: list[str] | None = None) -> Profile:
    """The seed's profile, with only ``kinds`` of its faults if given."""
    profile = draw(seed, base)
    return only(profile, kinds) if kinds is not None else profile


def check_seed(
    base: Scenario,
    seed: int,
    deals: int = 200,
    pattern: str | None = None,
    kinds: list[str] | None = None,
    journal: EventLog | None = None,
) -> Verdict:
    """Run one seed's world, heal it, let it settle, and read every property.

    Args:
        base: The scenario the profiles are drawn over.
        seed: The seed: its profile, its pattern (unless ``pattern``) and its world.
        deals: Deals to close.
        pattern: Run this pattern instead of the seed's.
        kinds: Switch on only these of the profile's fault kinds (a replay).
        journal: Where the run's events go (a replay with ``--events``).
    """
    profile = profile_of(base, seed, kinds)
    name = pattern_of(base, seed, pattern)
    run = settled_world(apply(base, profile), seed, name, deals, journal)
    violations = {}
    for label, prop in PROPERTIES.items():
        found = prop(run)
        if found:
            violations[label] = found
    twice = seed % TWICE == 0
    if twice and not violations:
        again = settled_world(apply(base, profile), seed, name, deals, None)
        if again.world.result() != run.world.result():
            violations["determinism"] = [f"seed {seed} gave other results the second time"]
    return Verdict(seed, name, list(profile["kinds"]), violations, deals, twice)


def settled_world(
    scenario: Scenario, seed: int, pattern: str, deals: int, journal: EventLog | None = None
) -> Run:
    """Close ``deals`` deals under the scenario's faults; once the last closed and the
    last outage ended, heal the world and let it settle within the policies' bound."""
    world = World(scenario, seed, pattern, journal=journal)
    endings: dict[str, tuple[str, Mapping[str, Any]]] = {}
    ends = set(ORDER)

    def tap(topic: str, key: str, payload: Mapping[str, Any], now: float) -> None:
        if topic in ends:
            endings.setdefault(key, (topic, payload))

    world.broker.tap(tap)
    world.start(deals)
    env = world.env
    faults_end = max(
        (o.end for name in SYSTEMS if scenario.has(name) for o in scenario.knobs(name).outages),
        default=0.0,
    )
    while world.arriving or env.now < faults_end:
        env.run(until=env.now + 600.0)
    heal(world)
    bound = settle_bound(scenario)
    settled = world.drain(cap=bound)
    if journal is not None:
        journal.flush()
    return Run(world, settled, bound, endings)


def shrink(base: Scenario, verdict: Verdict, deals: int) -> tuple[list[str], Verdict]:
    """The fewest fault kinds of the seed's profile that still break a property the
    verdict broke (each kind switched off in turn, left off if it still fails), and
    the verdict of the seed with just those: what its replay line reruns."""
    kinds = list(verdict.kinds)
    broken = set(verdict.violations)
    found = verdict
    for kind in list(kinds):
        fewer = [k for k in kinds if k != kind]
        try:
            again = check_seed(base, verdict.seed, deals, verdict.pattern, fewer)
        except Exception:  # another failure (the world broke): not this one, keep the kind
            continue
        if broken & set(again.violations):
            kinds, found = fewer, again
    return kinds, found
