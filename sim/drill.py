"""A failure drill: the briefing, the incident, the hypothesis and the answer key.

A drill is a fire drill on paper first: what the trainee is told (``briefing``),
the building it happens in (a base scenario with ``overrides``), what "all is
well" means (the steady-state ``hypothesis``: thresholds checked every minute
before, during and after the incident), the fire itself (``injections``: any of a
system's knobs changed at a time for a while), what the trainee may do
(``allowed`` actions) and what an expert does, when (``answer_key``). Drill files
are YAML, validated like scenarios: an error names the file, line and field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from sim.knobs import Duration, Rate, Strict
from sim.scenario import SYSTEMS, VENDORS, Scenario, load
from sim.validation import ScenarioError, read_yaml, validate

__all__ = [
    "ACTIONS",
    "METRICS",
    "Action",
    "Check",
    "Drill",
    "Injection",
    "Taken",
    "load_actions",
    "load_drill",
]


def _known(system: str | None) -> None:
    """Refuse a system no scenario can have."""
    if system is not None and system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")


METRICS = {
    "in_flight": "deals closed and not ended yet",
    "overdue": "deals open longer than the order-live SLA",
    "dead_letters": "messages in the dead-letter queue",
    "backlog": "messages waiting in the consumer groups' queues",
    "live_per_minute": "orders that went live in the minute",
    "duplicates": "deliveries, in the minute, of events a consumer group had handled already",
    "error_rate": "a system's technical failures per call in the minute (system: ...)",
    "throttled": "a system's calls refused by a rate or concurrency limit in the minute",
}
"""What a hypothesis check can watch, each sampled once a simulated minute."""
PER_SYSTEM = frozenset({"error_rate", "throttled"})

ACTIONS = {
    "open_breaker": "trip a system's breaker open now, for its cool-down (system)",
    "close_breaker": "close a system's breaker now (system)",
    "pause_consumers": "stop a consumer group taking messages (group)",
    "resume_consumers": "let a paused group take messages again (group)",
    "replay_dead_letters": "hand the dead letters back to their groups (topic: only those)",
    "set_timeout": "the orchestrator's call timeout (seconds)",
    "set_retries": "the orchestrator's retry budget (attempts)",
    "scale_consumers": "a consumer group's workers (group, consumers)",
    "standby": "switch a system to its healthy standby: the faults on it now end (system)",
    "map_fields": "hotfix a webhook receiver to read renamed fields (system, rename: new -> old)",
    "switch_protection": "idempotency keys, dedupe or ordering on or off (protection, enabled)",
    "repair": "a person runs the reconciliation now and repairs what it finds",
}
"""Every operator action, with what it takes."""

Metric = Literal[
    "in_flight",
    "overdue",
    "dead_letters",
    "backlog",
    "live_per_minute",
    "duplicates",
    "error_rate",
    "throttled",
]
ActionName = Literal[
    "open_breaker",
    "close_breaker",
    "pause_consumers",
    "resume_consumers",
    "replay_dead_letters",
    "set_timeout",
    "set_retries",
    "scale_consumers",
    "standby",
    "map_fields",
    "switch_protection",
    "repair",
]
Kind = Literal[
    "outage",
    "rate_limit",
    "latency",
    "errors",
    "lost_responses",
    "surge",
    "duplicates",
    "reorder",
    "drift",
]


class Check(Strict):
    """One threshold of the steady-state hypothesis, checked every simulated minute.

    Attributes:
        metric: What is watched (``METRICS``).
        system: The system, for ``error_rate`` and ``throttled``.
        at_most: The metric must stay at or below this.
        at_least: The metric must stay at or above this.
    """

    metric: Metric
    system: str | None = None
    at_most: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if (self.at_most is None) == (self.at_least is None):
            raise ValueError("give exactly one of at_most or at_least")
        if (self.metric in PER_SYSTEM) != (self.system is not None):
            needs = "needs" if self.metric in PER_SYSTEM else "takes no"
            raise ValueError(f"{self.metric} {needs} a system")
        _known(self.system)
        return self

    def label(self) -> str:
        """The check as people say it: ``error_rate(erp) <= 0.05``."""
        name = f"{self.metric}({self.system})" if self.system else self.metric
        if self.at_most is not None:
            return f"{name} <= {self.at_most:g}"
        return f"{name} >= {self.at_least:g}"

    def holds(self, value: float) -> bool:
        """Whether ``value`` keeps within the threshold."""
        if self.at_most is not None:
            return value <= self.at_most
        assert self.at_least is not None
        return value >= self.at_least


class Injection(Strict):
    """One fault of the incident: a knob changed at ``at`` for ``for``.

    Attributes:
        at: When it starts (simulated time from the start of the run).
        for_: How long it lasts (``for`` in the file).
        kind: ``outage`` (``mode``: down, degraded with ``rate``, read_only),
            ``rate_limit`` (``per_second``, ``burst``), ``latency`` (times
            ``factor``), ``errors`` (5xx at ``rate``), ``lost_responses`` (work done,
            answer lost, at ``rate``), ``surge`` (arrivals times ``factor``),
            ``duplicates`` (a webhook sender's duplicates at ``rate``), ``reorder``
            (its deliveries delayed anywhere up to ``spread``, so that later events
            overtake earlier ones on an unordered channel), ``drift``
            (a webhook sender's events renamed as its next version has them:
            ``rename``, old field -> new, in the event's data).
        system: The system it strikes (not for ``surge``).
    """

    at: Annotated[Duration, Field(ge=0, le=30 * 86400)]
    for_: Annotated[Duration, Field(alias="for", gt=0, le=30 * 86400)]
    kind: Kind
    system: str | None = None
    mode: Literal["down", "degraded", "read_only"] = "down"
    rate: Rate | None = None
    factor: Annotated[float, Field(gt=0)] | None = None
    per_second: Annotated[float, Field(gt=0)] | None = None
    burst: Annotated[int, Field(ge=1)] | None = None
    rename: dict[str, str] | None = None
    spread: Annotated[Duration, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        needs: dict[str, tuple[str, ...]] = {
            "reorder": ("spread",),
            "drift": ("rename",),
            "rate_limit": ("per_second",),
            "latency": ("factor",),
            "errors": ("rate",),
            "lost_responses": ("rate",),
            "surge": ("factor",),
            "duplicates": ("rate",),
        }
        missing = [f for f in needs.get(self.kind, ()) if getattr(self, f) is None]
        if self.kind == "outage" and self.mode == "degraded" and self.rate is None:
            missing.append("rate")
        if missing:
            raise ValueError(f"a {self.kind} injection needs {', '.join(missing)}")
        if (self.kind == "surge") != (self.system is None):
            raise ValueError("a surge strikes the workload: no system; every other kind needs one")
        _known(self.system)
        return self

    @property
    def end(self) -> float:
        """When it is over."""
        return self.at + self.for_

    def label(self) -> str:
        """What it is, in a few words: ``erp outage (down)``."""
        kind, rate = self.kind, f"{self.rate or 0.0:.0%}"
        if kind == "outage":
            what = f"outage ({self.mode}{', ' + rate if self.mode == 'degraded' else ''})"
        elif kind == "rate_limit":
            what = f"rate limit {self.per_second:g}/s"
        elif kind == "reorder":
            what = f"webhooks delayed up to {self.spread or 0:g}s, out of order"
        elif kind == "drift":
            what = "events renamed " + ", ".join(
                f"{a} -> {b}" for a, b in (self.rename or {}).items()
            )
        elif kind in ("latency", "surge"):
            what = f"{'latency' if kind == 'latency' else 'arrivals'} x{self.factor:g}"
        else:
            what = f"{kind.replace('_', ' ')} {rate}"
        return f"{self.system} {what}" if self.system else what


class Action(Strict):
    """One operator action at a simulated time.

    Attributes:
        at: When it is taken.
        do: Which action (``ACTIONS``).
        system: For breakers and standby.
        group: For consumer groups.
        topic: For replaying dead letters of one topic only.
        seconds: For ``set_timeout``.
        attempts: For ``set_retries``.
        consumers: For ``scale_consumers``.
        rename: For ``map_fields``: a field's new name -> the name the receiver reads.
        protection: For ``switch_protection``: which one.
        enabled: For ``switch_protection``: on (default) or off.
    """

    at: Annotated[Duration, Field(ge=0, le=30 * 86400)]
    do: ActionName
    system: str | None = None
    group: str | None = None
    topic: str | None = None
    seconds: Annotated[Duration, Field(gt=0)] | None = None
    attempts: Annotated[int, Field(ge=1, le=50)] | None = None
    consumers: Annotated[int, Field(ge=0, le=512)] | None = None
    rename: dict[str, str] | None = None
    protection: Literal["idempotency_keys", "dedupe", "ordering"] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _complete(self) -> Self:
        needs: dict[str, tuple[str, ...]] = {
            "switch_protection": ("protection",),
            "map_fields": ("system", "rename"),
            "open_breaker": ("system",),
            "close_breaker": ("system",),
            "standby": ("system",),
            "pause_consumers": ("group",),
            "resume_consumers": ("group",),
            "set_timeout": ("seconds",),
            "set_retries": ("attempts",),
            "scale_consumers": ("group", "consumers"),
        }
        missing = [f for f in needs.get(self.do, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.do} needs {', '.join(missing)}")
        _known(self.system)
        return self

    def label(self) -> str:
        """The action as the log says it: ``pause_consumers erp-order``."""
        args = [self.system, self.group, self.topic, self.protection]
        if self.protection is not None:
            args.append("on" if self.enabled else "off")
        args += [f"{self.seconds:g}s" if self.seconds is not None else None]
        args += [str(self.attempts) if self.attempts is not None else None]
        args += [str(self.consumers) if self.consumers is not None else None]
        return " ".join([self.do, *(a for a in args if a)])


class Drill(Strict):
    """A drill file.

    Attributes:
        name: Short name (the file's stem by convention).
        title: One line for ``drill list``.
        briefing: What the trainee is told before it starts.
        scenario: The base scenario, relative to the drill file.
        overrides: Scenario fields replaced for the drill (merged key by key).
        pattern: The integration pattern (default: the scenario's).
        seed: The seed (default: the scenario's).
        duration: How long deals keep arriving (default: until an hour after the
            last fault); then the world runs on, closing no more, until every deal
            has ended (a day at most), so every score counts whole deals.
        hypothesis: The steady state.
        injections: The incident.
        allowed: The actions the trainee may take.
        answer_key: What an expert does, and when.
        lesson: What the debrief explains once it is over.
    """

    name: str
    title: str
    briefing: str
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    pattern: str | None = None
    seed: int | None = None
    duration: Annotated[Duration, Field(gt=0, le=30 * 86400)] | None = None
    hypothesis: list[Check] = Field(min_length=1)
    injections: list[Injection] = Field(min_length=1)
    allowed: list[ActionName] = Field(default_factory=list)
    answer_key: list[Action] = Field(default_factory=list)
    lesson: str = ""

    @model_validator(mode="after")
    def _key_allowed(self) -> Self:
        for n, injection in enumerate(self.injections):
            if injection.end > self.horizon:
                raise ValueError(
                    f"injections[{n}] lasts until {injection.end:g}s, past the drill's duration "
                    f"({self.horizon:g}s); shorten it or lengthen duration"
                )
            for m, other in enumerate(self.injections[:n]):
                same = (other.kind, other.system) == (injection.kind, injection.system)
                if same and injection.at < other.end and other.at < injection.end:
                    raise ValueError(
                        f"injections[{m}] and injections[{n}] overlap on the same knob "
                        f"({injection.kind} {injection.system or ''}); make them one, or one "
                        "after the other"
                    )
        for n, action in enumerate(self.answer_key):
            if action.at >= self.horizon:
                raise ValueError(
                    f"answer_key[{n}] at {action.at:g}s comes after the drill's duration "
                    f"({self.horizon:g}s)"
                )
            if action.do not in self.allowed:
                raise ValueError(
                    f"answer_key[{n}] does {action.do!r}, which the drill does not allow "
                    f"(allowed: {', '.join(self.allowed) or 'none'})"
                )
        return self

    @property
    def horizon(self) -> float:
        """How long deals arrive."""
        return self.duration if self.duration is not None else self.end + 3600.0

    @property
    def start(self) -> float:
        """When the incident starts."""
        return min(i.at for i in self.injections)

    @property
    def end(self) -> float:
        """When the last fault is over."""
        return max(i.end for i in self.injections)


def load_drill(path: str | Path) -> tuple[Drill, Scenario]:
    """Read and validate a drill file and the scenario it runs in (with its overrides).

    Raises:
        ScenarioError: The drill file or its scenario is missing, is not YAML, or does
            not validate; the message names the file, line and field.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    drill = validate(Drill, data, path, lines)
    base_path = (path.parent / drill.scenario).resolve()
    if not base_path.is_file():
        line = lines.get(("scenario",), 0)
        raise ScenarioError(
            f"{path}:{line}: scenario: no scenario file at {base_path}; give a path "
            "relative to the drill file, e.g. ../scenarios/erp_month_end_outage.yaml"
        )
    load(base_path)  # its own errors, in its own file's lines
    base, _ = read_yaml(base_path)
    merged = _merged(base, drill.overrides)
    if drill.pattern is not None:
        merged["pattern"] = drill.pattern
    if drill.seed is not None:
        merged["seed"] = drill.seed
    # an error in the overrides is the drill's: its lines, under "overrides"
    mine = {where[1:]: n for where, n in lines.items() if where[:1] == ("overrides",)}
    try:
        scenario = validate(Scenario, merged, path, mine)
    except ScenarioError as exc:
        # the fields are the scenario's, as the drill's overrides set them
        raise ScenarioError(re.sub(r"(line \d+: )", r"\1overrides.", str(exc))) from None
    named = [("hypothesis", n, c.system) for n, c in enumerate(drill.hypothesis)]
    named += [("injections", n, i.system) for n, i in enumerate(drill.injections)]
    named += [("answer_key", n, a.system) for n, a in enumerate(drill.answer_key)]
    for field, n, system in named:
        if system is not None and system not in VENDORS and not scenario.has(system):
            line = lines.get((field, n), 0)
            raise ScenarioError(
                f"{path}:{line}: {field}.{n}: the scenario has no {system} "
                f"(systems.{system} is null); name another system or configure it"
            )
    return drill, scenario


def _merged(base: Any, changes: Any) -> Any:
    """``base`` with ``changes`` laid over it, mapping by mapping."""
    if isinstance(base, dict) and isinstance(changes, dict):
        out = dict(base)
        for key, value in changes.items():
            out[key] = _merged(base.get(key), value) if key in base else value
        return out
    return changes


class Taken(Strict):
    """A file of actions with their times (what ``drill run --record`` writes).

    Attributes:
        drill: The drill they were taken in (its name).
        actions: The actions.
    """

    drill: str = ""
    actions: list[Action] = Field(default_factory=list)


def load_actions(path: str | Path) -> Taken:
    """Read an actions file.

    Raises:
        ScenarioError: It is missing, is not YAML, or does not validate.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    return validate(Taken, data, path, lines)
