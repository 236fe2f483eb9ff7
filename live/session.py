"""A live session: a pattern's workflows over HTTP, deals arriving in real time.

The session is the live runtime's counterpart of the simulator's world, with
nothing simulated: it subscribes the pattern's consumers to the in-process broker,
starts the pattern's background work (a batcher), closes each deal when its
arrival gap has passed, and returns once every workflow has ended and the
pattern holds nothing back. What it measured is whatever its taps recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from live.broker import Broker, Tap
from live.runtime import LiveRuntime
from orchestrator.deal import Deal
from orchestrator.events import Handler
from orchestrator.patterns import Pattern
from orchestrator.workflows.quote_to_cash import workflow_id

__all__ = ["run_deals"]


async def run_deals(
    pattern: Pattern,
    runtime: LiveRuntime,
    broker: Broker,
    arrivals: Iterable[tuple[float, Deal]],
    taps: Iterable[Tap] = (),
    extra: Iterable[tuple[str, str, Handler]] = (),
    closed: Callable[[Deal, float], None] | None = None,
    settled: Callable[[], bool] = lambda: True,
    cap: float = float("inf"),
) -> None:
    """Close each deal after its gap (runtime seconds) and wait for all to end.

    Args:
        pattern: The pattern, built with the runtime's client.
        runtime: The live runtime.
        broker: Its broker.
        arrivals: ``(gap, deal)`` pairs, in order.
        taps: What hears every event (metrics).
        extra: More consumer groups ``(topic, group, handler)``: the webhook
            receivers, say.
        closed: Told ``(deal, now)`` as each deal closes (the metrics' stopwatch).
        settled: Whether every deal has ended; the session waits for it once the
            workflows are idle (the outbox's relay publishes what they committed).
        cap: Runtime seconds after the last arrival to wait for ``settled`` at most;
            what is still open then stays in flight.
    """
    broker.taps.extend(taps)
    for sub in pattern.subscriptions():
        broker.subscribe(sub.topic, sub.handler, sub.group)
    for topic, group, handler in extra:
        broker.subscribe(topic, handler, group)
    loop = asyncio.get_running_loop()
    background = [loop.create_task(runtime.run(work)) for work in pattern.background()]
    try:
        for gap, deal in arrivals:
            await asyncio.sleep(gap / runtime.time_scale)
            if closed is not None:
                closed(deal, runtime.now())
            runtime.start(pattern.close(deal), workflow_id(deal.id))
        deadline = runtime.now() + cap
        while True:
            await runtime.idle()
            held: Any = getattr(pattern, "backlog", None)
            if ((held is None or not held()) and settled()) or runtime.now() >= deadline:
                break
            # the batcher's tray is not empty, or the relay has yet to publish
            await asyncio.sleep(1.0 / runtime.time_scale)
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
