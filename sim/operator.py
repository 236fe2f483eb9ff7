"""The operator's console: actions a trainee takes on the running world.

The console is the on-call engineer's hands: trip or reset a circuit breaker,
pause a consumer group and resume it, hand the dead letters back to their groups,
change the orchestrator's timeout or retry budget, scale a group's workers,
switch a system to its healthy standby, hotfix a webhook receiver to read a
vendor's renamed fields, turn a protection (idempotency keys, dedupe, versioned
writes) on or off, run the reconciliation by hand.
Each action acts at a simulated time and says in one line what it did, for the
event log and the timeline; an action that cannot apply (no breaker in the
policy, no such group) is refused with the reason, and the drill goes on.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.events import webhook_topic
from orchestrator.receivers import Receiver
from orchestrator.reconciliation import reconcile
from orchestrator.resilience import RetryPolicy
from sim.drill import Action
from sim.world import World

__all__ = ["Refused", "act"]


class Refused(Exception):
    """An action that cannot apply now; the message says why."""


def act(world: World, action: Action) -> str:
    """Apply ``action`` to ``world`` now; what it did, in one line.

    Raises:
        Refused: The action does not apply (the message says why).
    """
    do = action.do
    if do in ("open_breaker", "close_breaker"):
        return _breaker(world, action)
    if do in ("pause_consumers", "resume_consumers", "scale_consumers"):
        return _group(world, action)
    if do == "replay_dead_letters":
        count = world.broker.replay(action.topic)
        where = f" of {action.topic}" if action.topic else ""
        return f"replayed {count} dead letter{'s' if count != 1 else ''}{where}"
    client = world.client
    if do == "set_timeout":
        assert action.seconds is not None
        client.policy = replace(client.policy, timeout=action.seconds)
        return f"call timeout now {action.seconds:g}s"
    if do == "set_retries":
        assert action.attempts is not None
        retry: RetryPolicy = replace(client.policy.retry, max_attempts=action.attempts)
        client.policy = replace(client.policy, retry=retry)
        return f"retry budget now {action.attempts} attempts"
    if do == "map_fields":
        return _map_fields(world, action)
    if do == "repair":
        # numbered apart from the scheduled runs: its workflow id is its own
        world.manual_repairs += 1
        number = 1_000_000 + world.manual_repairs
        job = world.scenario.reconciliation
        grace = job.grace if job is not None else 3600.0
        world.runtime.start(reconcile(client, number, True, grace), f"recon:{number}")
        return "a person runs the reconciliation now, repairing what it finds"
    if do == "switch_protection":
        assert action.protection is not None
        policy, on = client.policy, action.enabled
        if action.protection == "idempotency_keys":
            client.policy = replace(policy, idempotency_keys=on)
        elif action.protection == "dedupe":
            client.policy = replace(policy, dedupe=on)
        else:
            client.policy = replace(policy, ordering=on)
        return f"{action.protection.replace('_', ' ')} {'on' if action.enabled else 'off'}"
    assert do == "standby"
    return _standby(world, action)


def _map_fields(world: World, action: Action) -> str:
    system, rename = _system(action), dict(action.rename or {})
    topic = webhook_topic(system)
    found = [
        g.handler
        for g in world.broker.groups()
        if g.topic == topic and isinstance(g.handler, Receiver)
    ]
    if not found:
        raise Refused(f"{system} sends no webhooks here: no receiver to fix")
    for receiver in found:
        receiver.aliases.update(rename)
    pairs = ", ".join(f"{new} as {old}" for new, old in rename.items())
    return f"{system} receiver reads {pairs}"


def _system(action: Action) -> str:
    """The system an action names (the drill file's validation made sure it does)."""
    assert action.system is not None
    return action.system


def _breaker(world: World, action: Action) -> str:
    system = _system(action)
    breaker = world.client.breaker(system)
    if breaker is None:
        raise Refused("the policy has no circuit breaker (policy.breaker is null)")
    if action.do == "open_breaker":
        # tripped by hand: open for its cool-down from now, then a trial call decides
        breaker.trip(world.env.now)
        breaker.failures = 0
        return f"{system} breaker tripped open for {breaker.policy.cool_down:g}s"
    breaker.success()
    return f"{system} breaker closed"


def _group(world: World, action: Action) -> str:
    found = [g for g in world.broker.groups() if g.name == action.group]
    if not found:
        names = sorted({g.name for g in world.broker.groups()})
        raise Refused(f"no consumer group {action.group!r}; the groups: {', '.join(names)}")
    group = found[0]
    if action.do == "scale_consumers":
        assert action.consumers is not None
        before = world.broker.scale(group, action.consumers)
        return f"{group.name}: {before} -> {action.consumers} consumers"
    paused = action.do == "pause_consumers"
    world.broker.pause(group, paused)
    return f"{group.name} {'paused' if paused else 'resumed'}"


def _standby(world: World, action: Action) -> str:
    system = _system(action)
    line = world.lines.get(system)
    if line is None:
        raise Refused(f"the scenario has no {system}")
    faults = line.faults
    now = world.env.now
    # the standby has the same records (the model) but none of the primary's trouble:
    # the faults on it now end here (those a drill schedules later still strike)
    active = world.faults_on.get(system, [])
    ended = list(active)
    active.clear()  # in place: each fault's own process sees it ended
    for off in ended:
        off()
    # outage windows open now end here (those that start later still strike)
    cut = sum(1 for start, end, *_ in faults.outages if start <= now < end)
    faults.outages = [
        (start, min(end, now) if start <= now else end, mode, rate)
        for start, end, mode, rate in faults.outages
    ]
    return f"{system} switched to its standby ({max(len(ended), cut)} fault(s) ended)"
