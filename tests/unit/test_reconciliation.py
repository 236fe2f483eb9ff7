"""The reconciliation run, driven by a scripted plan: what it finds, repairs and files."""

from __future__ import annotations

from typing import Any

from orchestrator.client import Client
from orchestrator.errors import Unavailable
from orchestrator.events import RECONCILED
from orchestrator.reconciliation import reconcile
from orchestrator.resilience import Policy, RetryPolicy
from tests.support import Plan

FAST = RetryPolicy(max_attempts=2, base=0.1, jitter="none")


def sub(**changes: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "dealId": "D-1",
        "salesOrderId": "SO-1",
        "currency": "EUR",
        "quantity": 10,
        "plan": "pro",
        "status": "active",
        "version": 3,
        "changedAt": 0.0,
        "billed": 540.0,
        "amendments": ["amend:D-1:2"],
        "adjustments": {"amend:D-1:2": 50.0},
        **changes,
    }


def order(**changes: Any) -> dict[str, Any]:
    return {
        "id": "SO-1",
        "externalId": "D-1",
        "status": "billed",
        "invoiced": 490.0,
        "amendments": [],
        **changes,
    }


def run(
    subs: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    seats: dict[str, int],
    repair: bool = True,
    **answers: list[Any],
) -> tuple[Plan, list[dict[str, Any]]]:
    plan = Plan(
        {
            "billing.exportSubscriptions": [{"subscriptions": subs}],
            "erp.exportOrders": [{"orders": orders}],
            "provisioning.exportSeats": [{"seats": seats}],
            **{name.replace("__", "."): a for name, a in answers.items()},
        }
    )
    plan.now = 7200.0
    client = Client(Policy(retry=FAST, breaker=None))
    plan.run(reconcile(client, 1, repair=repair, grace=3600.0))
    [done] = [p for p in plan.published if p.topic == RECONCILED]
    return plan, done.payload["findings"]


def test_a_missing_posting_is_made_with_the_amendments_own_keys() -> None:
    plan, findings = run([sub()], [order()], {"sub_1": 10})
    posted = [c for c in plan.calls if c.system == "erp" and c.operation != "exportOrders"]
    assert [(c.operation, c.key) for c in posted] == [
        ("createChangeOrder", "amend:D-1:2:change"),
        ("createInvoice", "amend:D-1:2:books"),
    ]
    assert posted[1].params["amount"] == 50.0
    assert [(f["what"], f["outcome"]) for f in findings] == [
        ("amendment missing in the ERP", "repaired")
    ]
    assert findings[0]["since"] == 0.0


def test_seats_follow_billings_version() -> None:
    plan, findings = run(
        [sub(adjustments={}, amendments=[])], [order(invoiced=540.0)], {"sub_1": 8}
    )
    [seats] = [c for c in plan.calls if c.operation == "setSeats"]
    assert seats.params["seats"] == 10 and seats.params["sourceVersion"] == 3
    assert [(f["what"], f["outcome"]) for f in findings] == [
        ("seats differ from billing", "repaired")
    ]


def test_what_it_cannot_decide_is_left_for_people() -> None:
    cancelled = order(status="cancelled")
    undone = order(id="SO-2", amendments=["amend:D-2:1"], invoiced=600.0)
    subs = [
        sub(),
        sub(
            id="sub_2",
            dealId="D-2",
            salesOrderId="SO-2",
            billed=490.0,
            amendments=[],
            adjustments={},
        ),
    ]
    plan, findings = run(subs, [cancelled, undone], {"sub_1": 10, "sub_2": 10})
    assert {(f["deal"], f["what"], f["outcome"]) for f in findings} == {
        ("D-1", "amendment missing in the ERP", "manual"),
        ("D-2", "amendment in the ERP that billing undid", "manual"),
    }
    assert not [c for c in plan.calls if c.operation == "createChangeOrder"]


def test_recent_changes_wait_for_the_next_night() -> None:
    plan, findings = run([sub(changedAt=5000.0)], [order()], {"sub_1": 2})
    assert findings == [] and len(plan.calls) == 3  # the three exports, nothing else


def test_report_only_repairs_nothing() -> None:
    plan, findings = run([sub()], [order()], {"sub_1": 8}, repair=False)
    assert {f["outcome"] for f in findings} == {"manual"}
    assert len(plan.calls) == 3


def test_a_repair_the_erp_cannot_take_tonight_is_tried_again_tomorrow() -> None:
    down = Unavailable("erp", "createChangeOrder", 503)
    _, findings = run([sub()], [order()], {"sub_1": 10}, erp__createChangeOrder=[down])
    assert [f["outcome"] for f in findings] == ["retry"]


def test_an_export_that_fails_is_a_failed_run() -> None:
    down = Unavailable("erp", "exportOrders", 503)
    plan, findings = run([sub()], [order()], {}, erp__exportOrders=[down])
    assert findings == []
    assert "failed" in next(p for p in plan.published if p.topic == RECONCILED).payload
