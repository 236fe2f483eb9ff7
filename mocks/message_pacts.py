"""Message pacts: the business events the orchestrator announces, the webhooks it reads.

A message pact is a promise about an envelope's contents rather than a request and
its answer. Two kinds live in ``contracts/pacts/messages/``:

- **webhooks**: consumer ``lifecycle-orchestrator`` (its receivers), provider each
  vendor that sends them (billing's ``invoice.paid``, the CRM's outbound
  ``account.updated``, ...);
- **business events**: consumer ``lifecycle-event-consumers`` (the orchestrator's own
  consumer groups and whoever else reads the board), provider
  ``lifecycle-orchestrator`` (its workflows: ``order.accepted``, ``order.live``, ...).

No message is written by hand. Each comes from a simulated run named by its
provider state (``SOURCES``: a stormy week of webhooks, a month of amendments,
provisioning down for a first order, ...): the first message of each kind that run
published becomes an interaction, its body matched by type (a webhook's ``type``
exactly) and its topic in the metadata. Writing the pact runs the consumer side for
real: every consumer group subscribed to the topic in any pattern receives the
message and must take it up (reach its first call) without calling it poison; a
signed vendor's message arrives freshly signed. Verifying the pact runs the
provider side with the real Pact verifier: the state handler names the run, the
message handler runs it again and hands over the first message of that kind.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from mocks.pacts import CONSUMER
from orchestrator.client import Client
from orchestrator.effects import NOW, Publish
from orchestrator.events import WEBHOOK_TOPICS, Handler, Message
from orchestrator.master_data import MasterData
from orchestrator.patterns import PATTERNS, make
from orchestrator.receivers import receivers
from orchestrator.resilience import Policy
from orchestrator.signatures import HEADER, sign
from sim.faults import ScriptedFault
from sim.scenario import load
from sim.world import World

__all__ = [
    "EVENTS_CONSUMER",
    "EVENTS_PROVIDER",
    "PROVIDERS",
    "SOURCES",
    "Sent",
    "collect",
    "message_name",
    "verify_messages",
    "write_message_pacts",
]

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEED = 7
EVENTS_CONSUMER = "lifecycle-event-consumers"
EVENTS_PROVIDER = CONSUMER
"""The orchestrator's workflows provide the business events."""
SENDERS = {topic: system for system, topic in WEBHOOK_TOPICS.items()}
"""Webhook topic -> the vendor that sends on it."""
PROVIDERS = (*WEBHOOK_TOPICS, EVENTS_PROVIDER)
"""Every provider of a message pact."""
SECRET = "whsec_message_pacts"
"""What the consumer side signs a signed vendor's webhook with (and checks it by)."""


class Source(NamedTuple):
    """A simulated run whose messages feed the pacts: scenario, pattern, deals, faults."""

    scenario: str
    pattern: str
    orders: int
    script: Mapping[str, Mapping[int, ScriptedFault]] | None = None
    compensation: bool = True


def _down(first: int = 1, last: int = 60) -> dict[int, ScriptedFault]:
    return dict.fromkeys(range(first, last), "error")


SOURCES: Mapping[str, Source] = {
    "a stormy week of webhooks": Source("webhook_storm", "sync_chain", 400),
    "a month of amendments, chained": Source("amendments_month_end", "sync_chain", 400),
    "a month of amendments, hybrid": Source("amendments_month_end", "hybrid", 400),
    "deals closed event by event": Source("amendments_month_end", "event_driven", 60),
    "deals closed through the outbox": Source("amendments_month_end", "outbox", 60),
    "deals closed in batches": Source("amendments_month_end", "batch", 60),
    "customer master data changing": Source("customer_master_data", "sync_chain", 60),
    "provisioning down for a first order": Source(
        "b2b_saas_quote_to_cash", "sync_chain", 1, {"provisioning": _down()}
    ),
    "the ERP down for a first order": Source(
        "b2b_saas_quote_to_cash", "sync_chain", 1, {"erp": _down()}
    ),
    "the support desk down for a first order, in a stormy week": Source(
        "webhook_storm", "sync_chain", 1, {"support": _down()}
    ),
    "the CRM down once a first order is live": Source(
        "b2b_saas_quote_to_cash", "sync_chain", 1, {"crm": _down(2)}
    ),
    "provisioning down for a first order, compensation off": Source(
        "b2b_saas_quote_to_cash", "sync_chain", 1, {"provisioning": _down()}, compensation=False
    ),
    "provisioning down and billing's undo failing for a first order": Source(
        "b2b_saas_quote_to_cash",
        "sync_chain",
        1,
        {"provisioning": _down(), "billing": _down(2, 80)},
    ),
}
"""Provider state -> the run that gets the provider into it, in the order searched."""


class Sent(NamedTuple):
    """One message a run published, as the pact describes it."""

    provider: str
    name: str
    topic: str
    payload: Mapping[str, Any]


def message_name(topic: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """``(provider, description)`` of a message: a webhook by its event type."""
    sender = SENDERS.get(topic)
    if sender is not None:
        return sender, f"{payload.get('type')} webhook"
    return EVENTS_PROVIDER, topic


@cache
def collect(state: str) -> tuple[Sent, ...]:
    """Every message the run of ``state`` published, in order (a run is deterministic)."""
    source = SOURCES[state]
    scenario = load(SCENARIOS / f"{source.scenario}.yaml")
    if not source.compensation:
        policy = scenario.policy.model_copy(update={"compensation": False})
        scenario = scenario.model_copy(update={"policy": policy})
    world = World(scenario, SEED, source.pattern, source.script)
    sent: list[Sent] = []
    publish = world.broker.publish

    def tapped(effect: Publish, now: float) -> None:
        sent.append(Sent(*message_name(effect.topic, effect.payload), effect.topic, effect.payload))
        publish(effect, now)

    world.broker.publish = tapped  # type: ignore[method-assign]
    world.run(orders=source.orders)
    return tuple(sent)


def first_of_each() -> dict[tuple[str, str], tuple[str, Sent]]:
    """``(provider, description)`` -> the state and message it was first seen in."""
    found: dict[tuple[str, str], tuple[str, Sent]] = {}
    for state in SOURCES:
        for message in collect(state):
            found.setdefault((message.provider, message.name), (state, message))
    return found


def _consumers() -> dict[str, list[Handler]]:
    """Topic -> every consumer group's handler subscribed to it, in any pattern."""
    client = Client(Policy(webhook_secrets=dict.fromkeys(WEBHOOK_TOPICS, SECRET)))
    subscriptions = [sub for name in PATTERNS for sub in make(name, client).subscriptions()]
    subscriptions.append(MasterData(client, {}).subscription())
    subscriptions += receivers(client, tuple(WEBHOOK_TOPICS))
    found: dict[str, list[Handler]] = {}
    for sub in subscriptions:
        found.setdefault(sub.topic, []).append(sub.handler)
    return found


def take_up(handler: Handler, message: Message, now: float) -> None:
    """Run a consumer on ``message`` up to its first call: it understood the message.

    Raises:
        Exception: Whatever the consumer raises for a message it cannot read
            (``PoisonMessage``, a refused signature, a missing field).
    """
    workflow = handler(message)
    # done without calling anyone (a duplicate, a skip) is understood too
    with contextlib.closing(workflow), contextlib.suppress(StopIteration):
        effect = next(workflow)
        while effect == NOW:
            effect = workflow.send(now)


def _consume(consumers: Mapping[str, list[Handler]]) -> Callable[[Any, dict[str, Any]], None]:
    """The consumer side of ``Pact.verify``: each subscriber takes the message up."""

    def consume(body: Any, metadata: dict[str, Any]) -> None:
        payload = json.loads(body)
        topic = str(metadata["topic"])
        now = float(payload.get("created", 0.0)) if isinstance(payload, dict) else 0.0
        headers = {HEADER: sign(SECRET, now, payload)} if topic in SENDERS else {}
        for handler in consumers.get(topic, []):
            take_up(handler, Message(topic, "pact", payload, 1, "pact-1", headers), now)

    return consume


def _known(value: Any) -> Any:
    """``value`` without its nulls: a null tells no type, and no consumer relies on it."""
    if isinstance(value, Mapping):
        return {k: _known(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


def _matched(message: Sent) -> Any:
    """The body matched by type; a webhook's ``type`` exactly (receivers branch on it)."""
    from pact import match

    payload = _known(message.payload)
    if message.topic in SENDERS:
        return {**{k: match.like(v) for k, v in payload.items()}, "type": payload["type"]}
    return match.like(payload)


def consumer_of(provider: str) -> str:
    """Who reads ``provider``'s messages: the receivers a vendor's, the event
    consumers the workflows'."""
    return EVENTS_CONSUMER if provider == EVENTS_PROVIDER else CONSUMER


def pact_name(provider: str) -> str:
    """The pact file of ``provider``'s messages."""
    return f"{consumer_of(provider)}-{provider}.json"


def write_message_pacts(directory: Path, providers: Iterable[str] = PROVIDERS) -> list[Path]:
    """Write each provider's message pact into ``directory``.

    Raises:
        pact.error.PactVerificationError: A consumer could not take up a message.
    """
    from pact import Pact

    consumers = _consumers()
    found = first_of_each()
    written = []
    directory.mkdir(parents=True, exist_ok=True)
    for provider in providers:
        pact = Pact(consumer_of(provider), provider).with_specification("V4")
        for (owner, name), (state, message) in sorted(found.items()):
            if owner != provider:
                continue
            interaction = pact.upon_receiving(name, "Async").given(state)
            interaction.with_body(_matched(message), "application/json")
            interaction.with_metadata({"topic": message.topic})
        pact.verify(_consume(consumers), "Async")
        target = directory / pact_name(provider)
        target.unlink(missing_ok=True)
        pact.write_file(directory, overwrite=True)
        written.append(target)
    return written


def verify_messages(provider: str, directory: Path) -> Any:
    """Verify ``provider``'s message pact with the real Pact verifier.

    The state handler names the run; the message handler runs it (again: runs are
    deterministic and cached) and hands over its first message of the kind asked.

    Returns:
        The verifier's ``contracts.report.Report``.
    """
    from contracts.verify import run_verify_messages

    current: dict[str, str] = {}

    def setup(state: str, params: Mapping[str, Any]) -> None:
        if state not in SOURCES:
            raise KeyError(f"unknown provider state {state!r}; known: {', '.join(SOURCES)}")
        current["state"] = state

    def produce(name: str) -> tuple[bytes, dict[str, Any]]:
        for message in collect(current["state"]):
            if (message.provider, message.name) == (provider, name):
                return json.dumps(message.payload).encode(), {"topic": message.topic}
        raise KeyError(f"{current['state']!r} published no {name!r}")

    return run_verify_messages(provider, [directory / pact_name(provider)], produce, setup)
