"""The incident of a drill: faults switched on at a time and off again.

An injection is a stagehand with a script: at ``at`` it turns a knob of the running
world (a system's error rate, its rate limit, its latency, an outage, the arrival
rate, a webhook sender's duplicates, the shape of its events) and, ``for`` later,
turns it back to what it was. Outages need no stagehand: they are windows the weather already knows.
Everything happens in simulated time, so the same drill and seed give the same
incident, to the event.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any

import numpy as np
import simpy

from orchestrator.events import webhook_topic
from sim.drill import Injection
from sim.faults import latency_sampler
from sim.world import World

__all__ = ["inject"]

Turn = Callable[[], Callable[[], None]]
"""Switches a fault on; returns what switches it off again."""


def inject(world: World, injections: list[Injection], note: Callable[[float, str], None]) -> None:
    """Schedule every injection on ``world``; ``note(at, text)`` hears each start and end.

    Raises:
        ValueError: An injection strikes a system the scenario has not.
    """
    for number, injection in enumerate(injections):
        system = injection.system
        if system is not None and system not in world.lines:
            raise ValueError(f"injections[{number}]: the scenario has no {system}")
        if injection.kind == "outage":
            faults = world.lines[system].faults  # type: ignore[index]
            rate = injection.rate or 0.0
            faults.outages.append((injection.at, injection.end, injection.mode, rate))
            world.env.process(_turn(world, injection, lambda: _nothing, note))
            continue
        world.env.process(_turn(world, injection, _switch(world, injection, number), note))


def _nothing() -> None:
    """An outage's off-switch: its window ends by itself (a standby cuts it short)."""


def _turn(
    world: World, injection: Injection, on: Turn, note: Callable[[float, str], None]
) -> Generator[simpy.Event, Any, None]:
    env = world.env
    yield env.timeout(injection.at)
    off = on()
    note(env.now, injection.label())
    active = world.faults_on.setdefault(injection.system or "", [])
    active.append(off)
    yield env.timeout(injection.for_)
    if off in active:  # not ended early (a standby took over)
        active.remove(off)
        off()
        note(env.now, f"{injection.label()}: over")


def _switch(world: World, injection: Injection, number: int) -> Turn:
    """The on-switch of one injection (its off-switch is what it returns)."""
    kind = injection.kind
    if kind == "surge":
        factor = injection.factor or 1.0

        def surge() -> Callable[[], None]:
            world.surge *= factor
            return lambda: setattr(world, "surge", world.surge / factor)

        return surge
    assert injection.system is not None
    system = injection.system
    faults = world.lines[system].faults
    if kind == "rate_limit":
        per_second = injection.per_second or 1.0
        burst = float(injection.burst or max(1, round(per_second)))

        def limit() -> Callable[[], None]:
            saved = (faults.refill, faults.burst, faults.tokens, faults.refilled_at)
            faults.refill, faults.burst = per_second, burst
            faults.tokens, faults.refilled_at = min(faults.tokens, burst), world.env.now

            def lift() -> None:
                faults.refill, faults.burst = saved[0], saved[1]
                faults.tokens, faults.refilled_at = saved[1], world.env.now

            return lift

        return limit
    if kind == "latency":
        factor = injection.factor or 1.0
        base = latency_sampler(world.scenario.knobs(system).latency)

        def slower(gen: np.random.Generator, n: int) -> np.ndarray:
            return base(gen, n) * factor

        # its own stream: the rest of the run draws what it would have drawn
        spiked = world.streams.draws(f"{system}.latency.injection{number}", slower)

        def slow() -> Callable[[], None]:
            saved, faults.latency = faults.latency, spiked
            return lambda: setattr(faults, "latency", saved)

        return slow
    if kind in ("errors", "lost_responses"):
        rate = injection.rate or 0.0

        def failing() -> Callable[[], None]:
            # each injection adds its own share and takes only that back, so two that
            # overlap on one system (errors and lost responses) end as they began
            faults.injected[number] = (rate if kind == "errors" else 0.0, rate)
            faults.reweather()

            def heal() -> None:
                faults.injected.pop(number, None)
                faults.reweather()

            return heal

        return failing
    if kind == "drift":
        return _drift(world, system, dict(injection.rename or {}))
    topic = webhook_topic(system)
    groups = [group for group in world.broker.groups() if group.topic == topic]
    if not groups:
        raise ValueError(f"{system} sends no webhooks in this scenario: nothing to {kind}")
    if kind == "reorder":
        spread = injection.spread or 1.0
        late = world.streams.draws(
            f"{system}.webhooks.injection{number}", lambda gen, n: gen.uniform(0.0, spread, n)
        )
        return _rechannel(groups, latency=late)
    assert kind == "duplicates"
    return _rechannel(groups, duplicate_rate=injection.rate or 0.0)


def _rechannel(groups: list[Any], **changes: Any) -> Turn:
    """The webhook groups' channel changed while the fault lasts (read per publish);
    when it ends, only the fields it changed go back (another fault may hold others)."""

    def changed() -> Callable[[], None]:
        saved = [{name: getattr(group.channel, name) for name in changes} for group in groups]
        for group in groups:
            group.channel = replace(group.channel, **changes)

        def back() -> None:
            for group, fields in zip(groups, saved, strict=True):
                group.channel = replace(group.channel, **fields)

        return back

    return changed


def _drift(world: World, system: str, rename: dict[str, str]) -> Turn:
    """The sender's events come in its next version's shape while the drift lasts."""
    vendor = world.vendors[system]
    if vendor.outlet is None:
        raise ValueError(f"{system} sends no webhooks in this scenario: nothing to drift")

    def drifted() -> Callable[[], None]:
        send = vendor.outlet
        assert send is not None

        def renamed(event_type: str, key: str, data: dict[str, Any], now: float) -> None:
            send(event_type, key, {rename.get(k, k): v for k, v in data.items()}, now)

        vendor.outlet = renamed
        return lambda: setattr(vendor, "outlet", send)

    return drifted
