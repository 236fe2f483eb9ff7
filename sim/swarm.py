"""Swarm fault profiles: each seed draws its own mix of faults, and its own policy.

A flight instructor who always fails the same engine trains one reflex. Swarm
testing rolls, for every session, which instruments fail and how badly: errors on
one system, lost responses on another, a throttle here, an outage there, copies of
events reordered, a breaker that trips early or not at all, budgets that differ
between forward steps and compensation. Rare combinations then turn up on their
own, which one kind of fault at a time never reaches.

``draw(seed, base)`` is the profile of a seed: the fault kinds switched on, their
strengths and the drawn policy, as plain data (JSON). ``apply`` turns a profile into
a scenario over the base one; ``heal`` stops every fault of a running world (the
healing phase after the schedule, as TigerBeetle's VOPR does); ``settle_bound``
says, from the policies, how long after healing every workflow must have ended.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario import SYSTEMS, Scenario

if TYPE_CHECKING:
    from sim.world import World

__all__ = ["KINDS", "Profile", "apply", "draw", "heal", "only", "settle_bound"]

KINDS = (
    "errors",
    "lost_responses",
    "throttling",
    "concurrency_limits",
    "outages",
    "broker_duplicates",
    "reordering",
    "webhook_delays",
)
"""The fault kinds a profile switches on or off, one coin each."""

Profile = dict[str, Any]
"""``{"seed", "kinds": [...], "systems": {...}, "broker": {...}, "policy": {...}}``:
what a seed switched on, as overrides of the base scenario's fields."""

VENDORS = tuple(name for name in SYSTEMS if name != "oms")


def draw(seed: int, base: Scenario) -> Profile:
    """The fault profile of ``seed`` over ``base`` (its arrivals set the horizon of
    the outages; its webhook senders get the webhook delays).

    Each kind is on with probability one half, with a strength drawn for it; the
    breaker, the bulkhead and the forward and compensation retry budgets are drawn
    for every profile, independently of each other.
    """
    gen = np.random.default_rng([seed, 0x5357524D])  # "SWRM": a stream of its own
    on = [kind for kind in KINDS if gen.random() < 0.5]
    systems: dict[str, dict[str, Any]] = {name: {} for name in VENDORS}
    broker: dict[str, Any] = {}

    def some() -> list[str]:
        count = int(gen.integers(1, len(VENDORS) + 1))
        return sorted(str(s) for s in gen.choice(VENDORS, size=count, replace=False))

    if "errors" in on:
        for name in some():
            systems[name]["error_rate"] = _round(gen.uniform(0.01, 0.25))
    if "lost_responses" in on:
        for name in some():
            systems[name]["timeout_rate"] = _round(gen.uniform(0.005, 0.1))
    if "throttling" in on:
        for name in some():
            rate = _round(gen.uniform(0.5, 8.0))
            systems[name]["rate_limit"] = {"per_second": rate, "burst": int(gen.integers(1, 10))}
    if "concurrency_limits" in on:
        for name in some():
            systems[name]["concurrency"] = int(gen.integers(1, 6))
    if "outages" in on:
        span = 3600.0 * float(gen.uniform(0.5, 2.0))
        for name in some():
            mode = str(gen.choice(["down", "degraded", "read_only"]))
            start = _round(gen.uniform(0.0, span))
            outage = {"start": start, "duration": _round(gen.uniform(60.0, 2 * 3600.0))}
            systems[name]["outages"] = [{**outage, "mode": mode}]
    if "broker_duplicates" in on:
        broker["duplicate_rate"] = _round(gen.uniform(0.05, 0.5))
        broker["consumer_crash_rate"] = _round(gen.uniform(0.0, 0.2))
    if "reordering" in on:
        broker["ordered"] = False
        broker["latency"] = {"p50": _round(gen.uniform(0.5, 5.0)), "p99": 120.0}
    if not base.webhook_senders():  # nothing to delay: the coin is not tossed
        on = [kind for kind in on if kind != "webhook_delays"]
    if "webhook_delays" in on:
        for name in VENDORS:
            if base.knobs(name).webhooks is not None:
                p50 = _round(gen.uniform(1.0, 60.0))
                systems[name]["webhooks"] = {
                    "latency": {"p50": p50, "p99": _round(p50 * gen.uniform(5.0, 60.0))},
                    "duplicate_rate": _round(gen.uniform(0.0, 0.3)),
                    "ordered": False,
                }
    policy = _policy(gen)
    return {
        "seed": seed,
        "kinds": on,
        "systems": {name: knobs for name, knobs in systems.items() if knobs},
        "broker": broker,
        "policy": policy,
    }


def _policy(gen: np.random.Generator) -> dict[str, Any]:
    """The drawn breaker, bulkhead and budgets (forward and compensation apart)."""

    def budget(most: int) -> dict[str, Any]:
        return {
            "max_attempts": int(gen.integers(2, most + 1)),
            "base": _round(gen.uniform(0.1, 2.0)),
            "cap": _round(gen.uniform(5.0, 60.0)),
            "jitter": str(gen.choice(["none", "full", "equal"])),
        }

    breaker = None
    if gen.random() < 0.5:
        breaker = {
            "failure_threshold": int(gen.integers(2, 11)),
            "cool_down": _round(gen.uniform(5.0, 120.0)),
        }
    return {
        "breaker": breaker,
        "bulkhead": bool(gen.random() < 0.5),
        "retry": budget(8),
        "compensation_retry": budget(12),
    }


def _round(value: float) -> float:
    return round(float(value), 3)


def only(profile: Profile, kinds: list[str]) -> Profile:
    """``profile`` with only ``kinds`` of its faults on (its policy kept): what a
    shrunk failure, or a replay with ``--only``, runs."""
    keep = set(kinds)
    fields = {
        "errors": ("error_rate",),
        "lost_responses": ("timeout_rate",),
        "throttling": ("rate_limit",),
        "concurrency_limits": ("concurrency",),
        "outages": ("outages",),
        "webhook_delays": ("webhooks",),
    }
    systems: dict[str, dict[str, Any]] = {}
    for name, knobs in profile["systems"].items():
        kept = {
            key: value
            for key, value in knobs.items()
            if any(key in fields[kind] for kind in keep if kind in fields)
        }
        if kept:
            systems[name] = kept
    broker = {
        key: value
        for key, value in profile["broker"].items()
        if ("broker_duplicates" in keep and key in ("duplicate_rate", "consumer_crash_rate"))
        or ("reordering" in keep and key in ("ordered", "latency"))
    }
    return {
        **profile,
        "kinds": [kind for kind in profile["kinds"] if kind in keep],
        "systems": systems,
        "broker": broker,
    }


def apply(base: Scenario, profile: Profile) -> Scenario:
    """The base scenario, its own faults taken out, with the profile's faults and
    policy over it (its latencies, business refusals and workload stay)."""
    data = base.model_dump()
    for name in VENDORS:
        knobs = data["systems"].get(name)
        if knobs is not None:
            knobs.update(error_rate=0.0, timeout_rate=0.0, rate_limit=None, concurrency=None)
            knobs["outages"] = []
    data["broker"].update(duplicate_rate=0.0, consumer_crash_rate=0.0, outages=[])
    for name, knobs in profile["systems"].items():
        target = data["systems"][name]
        for key, value in knobs.items():
            if key == "webhooks" and target.get("webhooks") is not None:
                target["webhooks"] = {**target["webhooks"], **value}
            else:
                target[key] = copy.deepcopy(value)
    data["broker"].update(copy.deepcopy(profile["broker"]))
    policy = profile["policy"]
    data["policy"].update(
        breaker=policy["breaker"],
        bulkhead=policy["bulkhead"],
        retry=policy["retry"],
        compensation_retry=policy["compensation_retry"],
    )
    data["archive"] = None  # a check reads every record at the end
    return Scenario.model_validate(data)


def heal(world: World) -> None:
    """Stop every fault now: no errors (the ERP's per-record failures of a list
    included), lost responses, throttling or outages from here on. A vendor's
    concurrency limit is its size, not a fault: it stays (and so does its check).
    The broker's habits stay too: copies are weather a correct system absorbs."""
    for line in world.lines.values():
        line.faults.calm()
    world.erp.record_fails = _never


def _never() -> bool:
    return False


def settle_bound(scenario: Scenario) -> float:
    """Seconds after healing by which every workflow must have ended.

    A healed world can still owe, per deal: a breaker's cool-down; every step's
    forward budget (its timeouts and backoff) and every undo's compensation budget;
    a copy of an event on its way (the copy horizon); the batch pattern's next
    batch and the outbox's redrive. The bound is their sum, doubled.
    """
    policy = scenario.policy
    steps = 8  # quote-to-cash's calls, the cross-reference write-back included
    forward = policy.retry.total(policy.retry.max_attempts)
    forward += policy.retry.max_attempts * policy.timeout
    undo = policy.compensation_retry.total(policy.compensation_retry.max_attempts)
    undo += policy.compensation_retry.max_attempts * policy.timeout
    cool = policy.breaker.cool_down if policy.breaker is not None else 0.0
    patterns = scenario.patterns
    periodic = 2 * patterns.batch.every + patterns.outbox.redrive_after
    return 2 * (cool + steps * (forward + undo) + scenario.copy_horizon() + periodic)
