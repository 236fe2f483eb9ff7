"""Message pacts: the webhooks the orchestrator reads and the business events it announces.

``mocks.message_pacts.write_message_pacts`` takes the first message of each kind from
simulated runs (each named by its provider state), has every consumer group
subscribed to its topic take it up, and writes one pact per provider; the committed
pacts (``contracts/pacts/messages/``) must be what that generates (``make pacts``).
The real Pact verifier then asks each provider for each message by name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contracts_testkit import REFRESHING, normalise, rename_field
from pact.error import PactVerificationError

from contracts.pactfile import load_pacts
from mocks import message_pacts
from mocks.message_pacts import (
    EVENTS_PROVIDER,
    PROVIDERS,
    collect,
    pact_name,
    verify_messages,
    write_message_pacts,
)
from orchestrator import events, receivers
from orchestrator.workflows import quote_to_cash

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "contracts" / "pacts" / "messages"
REFRESH = "run `make pacts` to refresh contracts/pacts/messages/ from the simulated runs"

UNMET_EVENTS = {
    events.AMENDMENT_REQUESTED: "no workflow publishes it (the CRM's changes start them)",
    events.DEAD_LETTERED: "the brokers' own tap, not a business event",
    **dict.fromkeys(events.AMENDMENT, "an amendment that does not apply; no bundled run has one"),
}
"""Business topics no message pact holds, and why."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("messages")
    write_message_pacts(directory)
    if REFRESHING:
        COMMITTED.mkdir(parents=True, exist_ok=True)
        for provider in PROVIDERS:
            name = pact_name(provider)
            (COMMITTED / name).write_text((directory / name).read_text())
    return directory


@pytest.fixture
def fresh_runs() -> Iterator[None]:
    """Runs are cached; a test that changes what they publish must run them again."""
    collect.cache_clear()
    yield
    collect.cache_clear()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_committed_message_pact_is_what_the_runs_generate(
    generated: Path, provider: str
) -> None:
    name = pact_name(provider)
    assert (COMMITTED / name).is_file(), REFRESH
    assert normalise(generated / name) == normalise(COMMITTED / name), REFRESH


def test_every_webhook_the_receivers_read_and_every_business_event_has_a_message(
    generated: Path,
) -> None:
    pacts = load_pacts([generated / pact_name(p) for p in PROVIDERS])
    assert {i.kind for i in pacts} == {"Asynchronous/Messages"}
    described = {(i.provider, i.description) for i in pacts}
    webhooks = {d.removesuffix(" webhook") for p, d in described if p != EVENTS_PROVIDER}
    assert webhooks == set(receivers.REQUIRED)
    topics = {d for p, d in described if p == EVENTS_PROVIDER}
    named = (getattr(events, name) for name in events.__all__)
    announced = {t for t in named if isinstance(t, str)} | set(events.AMENDMENT)
    assert announced - topics == set(UNMET_EVENTS)
    # the event-driven pattern's own steps are business events too
    assert {"deal.closed", "subscription.created", "customer.changed"} <= topics


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_passes_the_real_pact_verifier(generated: Path, provider: str) -> None:
    report = verify_messages(provider, generated)
    failing = [(c.name, [f.message for f in c.findings]) for c in report.cases if c.findings]
    assert report.exit_code == 0, failing
    assert len(report.cases) >= 1


def test_a_vendor_renaming_a_webhook_field_fails_verification(
    generated: Path, monkeypatch: pytest.MonkeyPatch, fresh_runs: None
) -> None:
    from sim.systems.billing import BillingInvoice as Invoice

    rename_field(monkeypatch, Invoice, "amount", "amountDue")
    report = verify_messages("billing", generated)
    assert report.exit_code == 1
    failed = {c.name.split(" (given")[0] for c in report.cases if c.findings}
    assert "invoice.paid webhook" in failed


def test_a_workflow_changing_an_events_shape_fails_verification(
    generated: Path, monkeypatch: pytest.MonkeyPatch, fresh_runs: None
) -> None:
    real = quote_to_cash.commitment_payload

    def without_customer(done: quote_to_cash.Commitment) -> dict[str, Any]:
        body = real(done)
        body["customerId"] = 42  # a number where consumers read a string
        return body

    for module in ("orchestrator.patterns.sync_chain", "orchestrator.patterns.hybrid"):
        monkeypatch.setattr(f"{module}.commitment_payload", without_customer)
    report = verify_messages(EVENTS_PROVIDER, generated)
    assert report.exit_code == 1
    failed = {c.name.split(" (given")[0] for c in report.cases if c.findings}
    assert "order.accepted" in failed


def test_a_consumer_that_cannot_read_a_message_fails_the_pact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the receiver now needs a field billing never sends: it calls the message poison
    needs = {
        **receivers.REQUIRED,
        "invoice.paid": (*receivers.REQUIRED["invoice.paid"], "settlementBatch"),
    }
    monkeypatch.setattr(receivers, "REQUIRED", needs)
    with pytest.raises(PactVerificationError) as caught:
        write_message_pacts(tmp_path, ("billing",))
    assert "invoice.paid webhook" in {e.description for e in caught.value.errors}
    assert message_pacts.CONSUMER == "lifecycle-orchestrator"


def shape(value: Any) -> Any:
    """A JSON value's kind, an object's field by field (nulls say nothing)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else type(value).__name__
    )


def agrees(promised: Any, sent: Any, where: str = "") -> list[str]:
    """Where ``sent`` lacks a field ``promised`` has, or holds another kind there."""
    if isinstance(promised, dict):
        if not isinstance(sent, dict):
            return [f"{where or 'body'}: an object in the pact, {sent} here"]
        return [
            problem
            for key, kind in promised.items()
            for problem in (
                agrees(kind, sent[key], f"{where}.{key}")
                if key in sent
                else [f"{where}.{key}: missing"]
            )
        ]
    return (
        []
        if promised == sent or promised == [] or sent == []
        else [f"{where}: {promised} vs {sent}"]
    )


def test_a_topic_has_the_pacts_shape_in_every_pattern_that_announces_it(generated: Path) -> None:
    pact = json.loads((generated / pact_name(EVENTS_PROVIDER)).read_text())
    promised = {i["description"]: shape(i["contents"]["content"]) for i in pact["interactions"]}
    problems = []
    for state in message_pacts.SOURCES:
        for sent in collect(state):
            if sent.provider == EVENTS_PROVIDER and sent.name in promised:
                found = agrees(promised[sent.name], shape(dict(sent.payload)))
                problems += [f"{sent.name} in {state!r}: {p}" for p in found]
    assert problems == [], "\n".join(sorted(set(problems))[:20])


def test_the_shape_check_finds_a_pattern_that_sends_its_own(
    generated: Path, monkeypatch: pytest.MonkeyPatch, fresh_runs: None
) -> None:
    real = quote_to_cash.commitment_payload

    def odd(done: quote_to_cash.Commitment) -> dict[str, Any]:
        return {**real(done), "customerId": 42}

    monkeypatch.setattr("orchestrator.patterns.outbox.commitment_payload", odd)
    with pytest.raises(
        AssertionError, match=r"order\.accepted in 'deals closed through the outbox'"
    ):
        test_a_topic_has_the_pacts_shape_in_every_pattern_that_announces_it(generated)
