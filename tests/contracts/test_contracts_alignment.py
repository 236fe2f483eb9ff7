"""The pact describes the ERP calls the orchestrator really makes.

The orchestrator names vendor operations by operationId and sends a flat ``params``
mapping; the pact (``contracts/pacts/lifecycle-orchestrator-erp.json``) is written
from a handful of recorded workflows (``mocks/pacts.py``). Nothing ties every path
the orchestrator can take to it, so this test does: it drives the real workflows
with a scripted ``Plan`` (happy path, business rejections, an exhausted retry
budget, an unknown outcome that the saga replays and voids), collects every ERP
``Call``, and checks each one against the ERP's 2026.1 OpenAPI document (the
operationId exists: method and path template), the pact (an interaction for that
method and path, with the same top-level body keys and an ``Idempotency-Key`` when
the orchestrator sends one), and the ERP sim model (it implements the operation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from contracts_testkit import ERP, PACTS

from contracts.loader import load_document
from contracts.openapi import OpenAPIDocument, Operation
from contracts.pactfile import Interaction, load_pacts
from orchestrator.client import Client
from orchestrator.deal import Deal, Line
from orchestrator.effects import Call, Workflow
from orchestrator.errors import Rejected, TimeoutUnknown, Unavailable
from orchestrator.events import ORDER_ACCEPTED, Message
from orchestrator.patterns import make
from orchestrator.patterns.hybrid import Hybrid
from orchestrator.resilience import Policy, RetryPolicy
from sim.systems.erp import Erp
from tests.support import Plan

PACT = PACTS / "lifecycle-orchestrator-erp.json"
SPEC = ERP / "erp-2026.1.yaml"
PROVIDER = "erp"

DEAL = Deal("D-00042", "ACC-000123", "EUR", "pro", (Line("PLAN-PRO", 2, 99.75),))
FAST = RetryPolicy(max_attempts=3, base=0.1, jitter="none")

INVOICE = {"id": "INV-9", "salesOrderId": "createSalesOrder-1", "status": "open"}
LOST = TimeoutUnknown("erp", "createInvoice")
DOWN = Unavailable("erp", "createInvoice", 503)


def client() -> Client:
    """Fast retries and no breaker: every scripted failure reaches the saga."""
    return Client(Policy(retry=FAST, compensation_retry=FAST, breaker=None))


def sync_chain(answers: dict[str, list[Any]]) -> Plan:
    plan = Plan(answers)
    plan.run(make("sync_chain", client()).close(DEAL))
    return plan


def hybrid(answers: dict[str, list[Any]]) -> Plan:
    """Commit, then deliver ``order.accepted`` to the fulfilment handler."""
    pattern = make("hybrid", client())
    committed = Plan(answers)
    committed.run(pattern.close(DEAL))
    accepted = [p for p in committed.published if p.topic == ORDER_ACCEPTED]
    assert isinstance(pattern, Hybrid) and accepted, "hybrid did not commit the deal"
    handler: Callable[[Message], Workflow] = next(
        s.handler for s in pattern.subscriptions() if s.topic == ORDER_ACCEPTED
    )
    fulfilled = Plan(answers)
    fulfilled.run(handler(Message(ORDER_ACCEPTED, DEAL.id, accepted[0].payload)))
    committed.calls.extend(fulfilled.calls)
    return committed


SCENARIOS: dict[str, Callable[[], Plan]] = {
    "sync_chain happy path": lambda: sync_chain({}),
    "hybrid happy path": lambda: hybrid({}),
    "credit hold on createSalesOrder": lambda: sync_chain(
        {"erp.createSalesOrder": [Rejected("erp", "createSalesOrder", 422, "CREDIT_HOLD")]}
    ),
    "billing rejects the subscription": lambda: sync_chain(
        {"billing.createSubscription": [Rejected("billing", "createSubscription", 402)]}
    ),
    "ERP rejects the invoice": lambda: sync_chain(
        {"erp.createInvoice": [Rejected("erp", "createInvoice", 422, "ORDER_CANCELLED")]}
    ),
    "invoice outcome unknown, replayed and voided": lambda: sync_chain(
        {"erp.createInvoice": [LOST, DOWN, DOWN, INVOICE]}
    ),
    # The hybrid hands a spent retry budget back to the broker; a rejection after a
    # lost response is what makes its fulfilment compensate an unknown invoice.
    "hybrid: invoice outcome unknown, then rejected, replayed and voided": lambda: hybrid(
        {"erp.createInvoice": [LOST, Rejected("erp", "createInvoice", 422), INVOICE]}
    ),
}

COMPENSATIONS = {"cancelSalesOrder", "voidInvoice"}
"""ERP undo operations the scenarios must reach, or the test proves nothing about them."""


@cache
def erp_calls() -> tuple[Call, ...]:
    """Every ERP call the orchestrator made across the scenarios."""
    calls: list[Call] = []
    for run in SCENARIOS.values():
        calls += [c for c in run().calls if c.system == PROVIDER]
    return tuple(calls)


@cache
def spec() -> OpenAPIDocument:
    return load_document(SPEC)


@cache
def by_operation_id() -> dict[str, Operation]:
    """operationId -> the spec's operation (method and path template)."""
    return {op.operation_id: op for op in spec().operations.values() if op.operation_id}


@cache
def pact() -> tuple[Interaction, ...]:
    return tuple(i for i in load_pacts([PACT]) if i.provider == PROVIDER and i.kind == "http")


def interactions_for(op: Operation) -> list[Interaction]:
    """The pact's interactions whose method and path match ``op``."""
    found = []
    for interaction in pact():
        matched = spec().match_path(interaction.path)
        if matched and matched[0] == op.path and interaction.method == op.method.upper():
            found.append(interaction)
    return found


def body_keys(call: Call, op: Operation) -> set[str]:
    """Top-level body fields of ``call``: its params minus path and query parameters."""
    outside = {p.name for p in spec().parameters(op) if p.location in ("path", "query")}
    return set(call.params) - outside


def operations(calls: Iterable[Call]) -> list[str]:
    return sorted({c.operation for c in calls})


def test_the_scenarios_reach_every_erp_write_and_undo() -> None:
    called = set(operations(erp_calls()))
    missing = (COMPENSATIONS | {"upsertCustomer", "createSalesOrder", "createInvoice"}) - called
    assert not missing, f"the scenarios never call erp.{', erp.'.join(sorted(missing))}"


def test_every_erp_operation_the_orchestrator_calls_is_in_the_spec() -> None:
    unknown = [op for op in operations(erp_calls()) if op not in by_operation_id()]
    assert not unknown, (
        f"the orchestrator calls erp operation(s) {unknown} that {SPEC.name} does not "
        f"document (operationIds: {sorted(by_operation_id())})"
    )


def test_every_erp_operation_the_orchestrator_calls_has_a_pact_interaction() -> None:
    problems = []
    for name in operations(erp_calls()):
        op = by_operation_id().get(name)
        if op is not None and not interactions_for(op):
            problems.append(f"erp.{name} ({op.key}): no interaction in {PACT.name}")
    assert not problems, "\n".join(problems)


def test_pact_request_bodies_have_the_fields_the_orchestrator_sends() -> None:
    problems = []
    for call in erp_calls():
        op = by_operation_id().get(call.operation)
        if op is None:
            continue  # reported by the spec test
        sent = body_keys(call, op)
        for interaction in interactions_for(op):
            label = f"erp.{call.operation} ({op.key}) vs pact {interaction.description!r}"
            if not interaction.request.has_body:
                if sent:
                    problems.append(
                        f"{label}: the orchestrator sends body field(s) {sorted(sent)}, "
                        "the pact sends no body"
                    )
                continue
            body = interaction.request.body
            pacted = set(body) if isinstance(body, dict) else set()
            if sent != pacted:
                problems.append(
                    f"{label}: body keys differ; only the orchestrator sends "
                    f"{sorted(sent - pacted)}, only the pact sends {sorted(pacted - sent)}"
                )
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_pact_sends_an_idempotency_key_wherever_the_orchestrator_does() -> None:
    problems = []
    for call in erp_calls():
        op = by_operation_id().get(call.operation)
        if op is None or call.key is None:
            continue
        for interaction in interactions_for(op):
            if interaction.request.header("Idempotency-Key") is None:
                problems.append(
                    f"erp.{call.operation} ({op.key}): the orchestrator sends an "
                    f"Idempotency-Key, pact {interaction.description!r} does not"
                )
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_the_erp_sim_model_and_the_spec_agree_on_the_operations_the_orchestrator_uses() -> None:
    modelled = set(Erp.reads) | set(Erp.writes)
    documented = set(by_operation_id())
    problems = []
    for name in operations(erp_calls()):
        if name not in modelled:
            problems.append(f"erp.{name}: called by the orchestrator, not in Erp.reads/writes")
        if name not in documented:
            problems.append(f"erp.{name}: called by the orchestrator, not in {SPEC.name}")
    for name in sorted(modelled - documented):
        problems.append(f"erp.{name}: modelled by sim.systems.erp.Erp, not in {SPEC.name}")
    assert not problems, "\n".join(problems)


def test_the_sim_model_classifies_reads_and_writes_as_the_spec_methods_do() -> None:
    problems = []
    for name in sorted(set(Erp.reads) | set(Erp.writes)):
        op = by_operation_id().get(name)
        if op is None:
            continue  # reported above
        read = op.method == "get"
        if read != (name in Erp.reads):
            kind = "reads" if name in Erp.reads else "writes"
            problems.append(f"erp.{name}: Erp.{kind} lists it, but the spec has {op.key}")
    assert not problems, "\n".join(problems)
