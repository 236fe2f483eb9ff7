"""The outbox and event-driven patterns, driven by a scripted plan (no SimPy)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.client import Client
from orchestrator.deal import Deal, Line
from orchestrator.errors import Rejected, Unavailable
from orchestrator.events import (
    ORDER_ACCEPTED,
    ORDER_COMMITTED,
    ORDER_COMPENSATED,
    ORDER_LIVE,
    ORDER_REVOKED,
    Message,
)
from orchestrator.patterns import make
from orchestrator.patterns.event_driven import DEAL_CLOSED, STEPS, UNDO
from orchestrator.resilience import Policy, RetryPolicy
from tests.support import DEFAULT, Plan

DEAL = Deal("D-7", "ACC-1", "USD", "pro", (Line("PRO-SEAT", 5, 49.0),))
ONCE = RetryPolicy(max_attempts=1)
ACCOUNT = {"id": "ACC-1", "name": "Acme", "email": "billing@acme.example.com", "status": "active"}


def client(**policy: Any) -> Client:
    return Client(Policy(retry=ONCE, compensation_retry=ONCE, breaker=None, **policy))


def outbox(**settings: Any) -> Any:
    return make("outbox", client(), settings)


def committed(payload: dict[str, Any] | None = None) -> Message:
    body = payload or {"deal": DEAL.as_json(), "account": ACCOUNT, "committedAt": 1.0}
    return Message(ORDER_COMMITTED, DEAL.id, body, 1, "order.committed#1")


def test_outbox_commits_locally_with_its_event_and_never_calls_the_erp() -> None:
    answers = {"crm.getAccount": [ACCOUNT], "oms.commitOrder": [{"committedAt": 1.0}]}
    plan = Plan(answers, strict=True)
    plan.run(outbox().close(DEAL))
    assert plan.operations() == ["crm.getAccount", "oms.commitOrder"]
    (entry,) = plan.calls[1].params["outbox"]
    assert entry["topic"] == ORDER_COMMITTED and entry["payload"]["deal"] == DEAL.as_json()
    assert json.loads(json.dumps(entry["payload"])) == entry["payload"]  # JSON, for a table
    assert plan.published == []  # the relay publishes, not the deal's workflow


def test_the_dual_write_publishes_after_committing() -> None:
    plan = Plan({"crm.getAccount": [ACCOUNT], "oms.commitOrder": [{"committedAt": 1.0}]})
    plan.run(outbox(transactional=False).close(DEAL))
    assert plan.calls[1].params["outbox"] == []
    assert [(e.topic, e.payload["committedAt"]) for e in plan.published] == [(ORDER_COMMITTED, 1.0)]


def test_the_erp_order_follows_the_event_and_its_acceptance_goes_through_the_outbox() -> None:
    placed = ["erp.upsertCustomer", "erp.createSalesOrder", "oms.confirmCommitment"]
    plan = Plan({operation: [DEFAULT] for operation in placed}, strict=True)
    plan.run(outbox().place(committed()))
    assert plan.operations() == placed and plan.leftover() == {}
    confirm = plan.calls[-1].params
    assert confirm["orderId"] == "createSalesOrder-1"
    assert [e["topic"] for e in confirm["outbox"]] == [ORDER_ACCEPTED]
    assert plan.published == []


def test_a_credit_hold_after_commitment_revokes_it() -> None:
    hold = Rejected("erp", "createSalesOrder", 422, "CREDIT_HOLD")
    plan = Plan({"erp.createSalesOrder": [hold]})
    plan.run(outbox().place(committed()))
    assert plan.operations()[-1] == "oms.revokeCommitment"
    revoke = plan.calls[-1].params
    assert [e["topic"] for e in revoke["outbox"]] == [ORDER_REVOKED]
    assert "CREDIT_HOLD" in revoke["reason"]


def test_an_erp_that_stays_down_hands_the_event_back_to_the_broker() -> None:
    down = Unavailable("erp", "upsertCustomer", 503, "SERVICE_UNAVAILABLE")
    plan = Plan({"erp.upsertCustomer": [down]})
    with pytest.raises(Unavailable):  # handed back to the broker, redelivered later
        plan.run(outbox().place(committed()))
    assert "oms.revokeCommitment" not in plan.operations()


def test_the_relay_publishes_the_outbox_then_backs_off_while_it_is_empty() -> None:
    entries = [{"id": "OBX-1", "topic": ORDER_COMMITTED, "key": "D-7", "payload": {"n": 1}}]
    plan = Plan({"oms.pendingOutbox": [{"entries": entries}, {"entries": []}]})
    plan.run(outbox(relay_every=1.0, relay_idle=8.0, redrive_after=1e9).relay(), sleeps=6)
    assert [e.topic for e in plan.published] == [ORDER_COMMITTED]
    assert plan.calls[1].operation == "markPublished"
    assert plan.calls[1].params == {"ids": ["OBX-1"]}
    assert plan.slept == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_the_relay_redrives_unsettled_commitments_now_and_then() -> None:
    plan = Plan({"oms.pendingOutbox": [{"entries": []}]})
    plan.run(outbox(relay_every=10.0, relay_idle=10.0, redrive_after=30.0).relay(), sleeps=7)
    redrives = [c for c in plan.calls if c.operation == "redriveCommitments"]
    assert len(redrives) == 2  # after 30 s and after 60 s of polling
    assert redrives[0].params == {"olderThan": 30.0}


def choreography() -> Any:
    return make("event_driven", client())


def cue(topic: str, payload: dict[str, Any]) -> Message:
    return Message(topic, DEAL.id, payload, 1, f"{topic}#1")


def test_each_adapter_plays_its_step_and_posts_the_next_cue() -> None:
    pattern = choreography()
    handlers = {s.group: s.handler for s in pattern.subscriptions()}
    plan = Plan({"crm.getAccount": [ACCOUNT]})
    plan.run(pattern.close(DEAL))
    assert [e.topic for e in plan.published] == [DEAL_CLOSED]
    payload = dict(plan.published[-1].payload)
    for step in STEPS:
        before = len(plan.published)
        outcome = plan.run(handlers[f"{step.system}-{step.step}"](cue(step.cue, payload)))
        assert outcome == "applied"
        (event,) = plan.published[before:]
        assert event.topic == step.next
        payload = dict(event.payload) if event.topic != ORDER_LIVE else payload
    assert [e.topic for e in plan.published][-1] == ORDER_LIVE
    assert "crm.updateAccount" in plan.operations()  # the ids linked on the account


def test_a_refused_step_sends_the_undo_card_back_along_the_chain() -> None:
    pattern = choreography()
    handlers = {s.group: s.handler for s in pattern.subscriptions()}
    payload: dict[str, Any] = {
        "deal": DEAL.as_json(),
        "account": ACCOUNT,
        "customerId": "CUS-1",
        "order": {"id": "SO-1"},
        "subscription": {"id": "sub-1", "customerId": "cus-1"},
    }
    refused = Rejected("provisioning", "createEntitlement", 422, "PLAN_NOT_PROVISIONABLE")
    plan = Plan({"provisioning.createEntitlement": [refused]})
    assert plan.run(handlers["provisioning-entitlement"](cue("x", payload))) == "undoing"
    card = plan.published[-1]
    assert card.topic == UNDO and card.payload["remaining"] == ["subscription", "order"]
    # every undo adapter reads the card; only the one whose turn it is acts
    undo = {s.group: s.handler for s in pattern.subscriptions() if s.topic == UNDO}
    assert plan.run(undo["erp-order-undo"](cue(UNDO, dict(card.payload)))) == "skipped"
    assert plan.run(undo["billing-subscription-undo"](cue(UNDO, dict(card.payload)))) == ("applied")
    card = plan.published[-1]
    assert card.payload["remaining"] == ["order"]
    assert plan.run(undo["erp-order-undo"](cue(UNDO, dict(card.payload)))) == "applied"
    assert plan.published[-1].topic == ORDER_COMPENSATED
    undone = [c.operation for c in plan.calls if c.key and c.key.endswith(":undo")]
    assert undone == ["cancelSubscription", "cancelSalesOrder"]
