"""From scenario knobs to the broker's channels: topics, and vendors' webhook senders.

The broker's defaults come from ``broker:``; a topic under ``broker.topics`` keeps
the defaults it does not override. A vendor that sends webhooks gets a channel of
its own on its webhook topic, with a sender's habits rather than a broker's: it
retries a refused delivery with its own backoff until ``give_up_after``, then
drops the event (vendors keep no dead-letter queue for us), and billing signs
every attempt anew with its secret (sometimes wrongly: ``bad_signature_rate``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator import signatures
from orchestrator.events import webhook_topic
from sim.channel import Channel, Signer
from sim.faults import latency_sampler
from sim.knobs import Latency, Webhooks
from sim.rng import Streams
from sim.scenario import Broker, Delivery, Scenario

__all__ = ["DELIVERIES_FOREVER", "default_channel", "topic_channels", "webhook_channels"]

DELIVERIES_FOREVER = 10_000
"""A vendor sender's delivery budget: it stops by age (``give_up_after``), not count."""
SIGNED = frozenset({"billing"})
"""Vendors that sign their webhooks."""


def _sampler(streams: Streams, name: str, latency: Latency | None) -> Callable[[], float] | None:
    if latency is None:
        return None
    return streams.draws(name, latency_sampler(latency))


def default_channel(broker: Broker, streams: Streams) -> Channel:
    """The broker's own habits, for every topic not configured otherwise."""
    return Channel(
        max_deliveries=broker.max_deliveries,
        redelivery=broker.redelivery.build(),
        latency=_sampler(streams, "broker.latency", broker.latency),
        duplicate_rate=broker.duplicate_rate,
        ordered=broker.ordered,
        retention=broker.retention if broker.retention is not None else math.inf,
        crash_rate=broker.consumer_crash_rate,
        outages=tuple((o.start, o.end) for o in broker.outages),
    )


def topic_channels(scenario: Scenario, streams: Streams, base: Channel) -> dict[str, Channel]:
    """The channels of the topics ``broker.topics`` overrides."""
    found = {}
    for topic, own in sorted(scenario.broker.topics.items()):
        found[topic] = _override(base, own, streams, topic)
    return found


def _override(base: Channel, own: Delivery, streams: Streams, topic: str) -> Channel:
    latency = _sampler(streams, f"broker.{topic}.latency", own.latency)
    return Channel(
        max_deliveries=own.max_deliveries or base.max_deliveries,
        redelivery=base.redelivery,
        latency=latency if latency is not None else base.latency,
        duplicate_rate=base.duplicate_rate if own.duplicate_rate is None else own.duplicate_rate,
        ordered=base.ordered if own.ordered is None else own.ordered,
        retention=base.retention if own.retention is None else own.retention,
        crash_rate=base.crash_rate if own.consumer_crash_rate is None else own.consumer_crash_rate,
        outages=base.outages,
    )


def webhook_channels(
    scenario: Scenario, streams: Streams, dice: Callable[[], float]
) -> dict[str, Channel]:
    """Each webhook sender's channel, by topic."""
    found = {}
    for system in scenario.webhook_senders():
        hooks = scenario.knobs(system).webhooks
        assert hooks is not None
        found[webhook_topic(system)] = Channel(
            max_deliveries=DELIVERIES_FOREVER,
            redelivery=hooks.retry.build(),
            latency=_sampler(streams, f"{system}.webhooks.latency", hooks.latency),
            duplicate_rate=hooks.duplicate_rate,
            ordered=hooks.ordered,
            max_age=hooks.give_up_after,
            give_up="drop",
            sign=_signer(hooks, dice) if system in SIGNED else None,
        )
    return found


def _signer(hooks: Webhooks, dice: Callable[[], float]) -> Signer:
    secret, bad = hooks.secret, hooks.bad_signature_rate

    def sign(payload: Mapping[str, Any], now: float) -> Mapping[str, str]:
        key = secret if not (bad and dice() < bad) else secret + "-rotated"
        return {signatures.HEADER: signatures.sign(key, now, payload)}

    return sign
