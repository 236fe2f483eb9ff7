"""The scripted test double: a strict plan stops at any call its script did not
expect, where a lenient one would answer it and let the test pass."""

from __future__ import annotations

import pytest

from orchestrator.effects import Call, Workflow
from tests.support import DEFAULT, Plan, UnexpectedCall


def look_up_then(extra: str | None) -> Workflow:
    """Reads an account, then (a planted bug) calls ``extra`` too."""
    account = yield Call("crm", "getAccount", {"id": "ACC-1"})
    if extra is not None:
        yield Call("erp", extra, {"customerId": account["id"]})
    return account["id"]


def test_a_strict_plan_answers_its_script_in_order() -> None:
    plan = Plan({"crm.getAccount": [{"id": "ACC-9"}]}, strict=True)
    assert plan.run(look_up_then(None)) == "ACC-9"
    assert plan.leftover() == {}


def test_an_unscripted_call_stops_a_strict_plan_and_passes_a_lenient_one() -> None:
    lenient = Plan({"crm.getAccount": [{"id": "ACC-9"}]})
    assert lenient.run(look_up_then("deleteCustomer")) == "ACC-9"  # the bug goes unseen
    strict = Plan({"crm.getAccount": [{"id": "ACC-9"}]}, strict=True)
    with pytest.raises(UnexpectedCall) as caught:
        strict.run(look_up_then("deleteCustomer"))
    message = str(caught.value)
    assert "erp.deleteCustomer was called" in message
    assert "it scripts: crm.getAccount" in message and "DEFAULT" in message


def test_a_strict_answer_is_given_once() -> None:
    def twice() -> Workflow:
        yield Call("crm", "getAccount", {"id": "ACC-1"})
        yield Call("crm", "getAccount", {"id": "ACC-1"})

    plan = Plan({"crm.getAccount": [DEFAULT]}, strict=True)
    with pytest.raises(UnexpectedCall, match="called 2 times, but the strict script has 1"):
        plan.run(twice())
    lenient = Plan({"crm.getAccount": [{"id": "ACC-2"}]})
    lenient.run(twice())  # a lenient plan repeats the last answer
    assert lenient.operations() == ["crm.getAccount", "crm.getAccount"]


def test_leftover_names_the_answers_never_asked_for() -> None:
    plan = Plan({"crm.getAccount": [DEFAULT], "erp.upsertCustomer": [DEFAULT]}, strict=True)
    plan.run(look_up_then(None))
    assert plan.leftover() == {"erp.upsertCustomer": 1}
