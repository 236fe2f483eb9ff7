"""One conformance suite, two runtimes: the SimPy driver and the live runtime.

Each case is a workflow that makes one call under one scripted fault (the same
``script`` the simulator's ``Faults`` and the mocks' take), with retries off so
the effect's own result is what the workflow sees. Both runtimes must give the
same outcome: the body, or the same error class with the same status, code,
``retry_after`` and ``maybe_committed``. Then the same fault plan over a few whole
deals must leave the vendors' records in the same end state in both.

The live runtime talks real HTTP to the mocks on 127.0.0.1 at a time scale of
1,000 (a 30 s timeout is 30 ms of waiting).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from live.broker import Broker
from live.runtime import LiveRuntime
from live.session import run_deals
from mocks.clock import WallClock
from mocks.serve import serving
from mocks.shop import open_vendors
from mocks.vendor import DOCUMENTS, vendor_routes
from orchestrator.client import Client
from orchestrator.effects import Workflow
from orchestrator.errors import CallError
from orchestrator.patterns import make
from orchestrator.resilience import Policy, RetryPolicy
from sim.faults import ScriptedFault
from sim.workload import deals
from sim.world import World
from tests.support import quiet_scenario

SCALE = 1000.0
ONCE = RetryPolicy(max_attempts=1)
FAST = {"latency": "50ms"}
Script = Mapping[str, Mapping[int, ScriptedFault]]
ROUTES = vendor_routes()


def scenario(**systems: Any) -> Any:
    knobs = {name: FAST for name in DOCUMENTS}
    return quiet_scenario(
        systems={**knobs, **systems},
        policy={**quiet_scenario().policy.model_dump(), "timeout": "30s"},
    )


def outcome(result: Any) -> Any:
    """What a case's workflow saw, comparable across runtimes."""
    if isinstance(result, CallError):
        extra = getattr(result, "retry_after", None)
        return (type(result).__name__, result.status, result.code, extra, result.maybe_committed)
    return result


def one_call(system: str, operation: str, params: Mapping[str, Any], key: str | None):
    def workflow(client: Client) -> Workflow:
        try:
            return (
                yield from client.call(
                    "q2c:D-1", "step", system, operation, params, write=key is not None
                )
            )
        except CallError as exc:
            return exc

    return workflow


def in_simulator(case: Callable[[Client], Workflow], script: Script, knobs: Any) -> Any:
    world = World(knobs, 1, "sync_chain", script=script)
    client = Client(Policy(retry=ONCE, timeout=30.0, breaker=None))
    process = world.runtime.start(case(client))
    world.env.run()
    return outcome(process.value)


def over_http(case: Callable[[Client], Workflow], script: Script, knobs: Any) -> Any:
    clock = WallClock(SCALE)
    with serving(open_vendors(knobs, clock, 1, script=script), clock) as urls:

        async def go() -> Any:
            runtime = LiveRuntime(urls, ROUTES, SCALE)
            try:
                client = Client(Policy(retry=ONCE, timeout=30.0, breaker=None))
                return await runtime.run(case(client))
            finally:
                await runtime.close()

        return outcome(asyncio.run(go()))


CUSTOMER = {
    "externalId": "ACC-000001",
    "companyName": "Acme",
    "email": "billing@acme.example.com",
    "currency": "USD",
    "crmAccountId": "ACC-000001",
}
ORDER = {
    "customerId": "CUS-000001",
    "externalId": "D-1",
    "currency": "USD",
    "lines": [{"sku": "PRO-SEAT", "quantity": 2, "unitPrice": 49.0}],
}
CASES: dict[str, tuple[Callable[[Client], Workflow], Script]] = {
    "a read answers the body": (
        one_call("crm", "getAccount", {"id": "ACC-000003"}, None),
        {},
    ),
    "a missing record is rejected 404": (
        one_call("crm", "getAccount", {"id": "ACC-999999"}, None),
        {},
    ),
    "a 5xx is unavailable": (
        one_call("erp", "upsertCustomer", CUSTOMER, "k"),
        {"erp": {1: "error"}},
    ),
    "a 429 is throttled with its Retry-After": (
        one_call("erp", "upsertCustomer", CUSTOMER, "k"),
        {"erp": {1: "throttle"}},
    ),
    "a business no is rejected": (
        one_call("erp", "createSalesOrder", ORDER, "k"),
        {"erp": {1: "reject"}},
    ),
    "a lost answer is a timeout with an unknown outcome": (
        one_call("erp", "upsertCustomer", CUSTOMER, "k"),
        {"erp": {1: "timeout"}},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_effect_answers_alike_in_both_runtimes(name: str) -> None:
    case, script = CASES[name]
    knobs = scenario()
    simulated = in_simulator(case, script, knobs)
    live = over_http(case, script, knobs)
    assert live == simulated
    if name == "a read answers the body":
        assert simulated["id"] == "ACC-000003"


def test_a_key_reused_with_other_parameters_is_a_conflict_in_both() -> None:
    def twice(client: Client) -> Workflow:
        yield from client.call("q2c:D-1", "customer", "erp", "upsertCustomer", CUSTOMER)
        try:
            other = {**CUSTOMER, "companyName": "Other"}
            yield from client.call("q2c:D-1", "customer", "erp", "upsertCustomer", other)
        except CallError as exc:
            return exc
        return None

    knobs = scenario()
    simulated, live = in_simulator(twice, {}, knobs), over_http(twice, {}, knobs)
    assert simulated == live == ("Conflict", 409, "IDEMPOTENCY_KEY_REUSED", None, False)


PLAN: Script = {"provisioning": {2: "error", 3: "error", 4: "error"}, "erp": {5: "timeout"}}
"""The second deal's entitlement fails past its retries (compensated); an ERP call
of a later deal loses its answer (replayed under its key)."""


def records(vendors: Mapping[str, Any]) -> dict[str, Any]:
    """The vendors' end state, by the ids every runtime shares (external ids, keys)."""
    erp, billing = vendors["erp"], vendors["billing"]
    return {
        "orders": sorted((o.external_id, o.status) for o in erp.orders.values()),
        "invoices": sorted(i.status for i in erp.invoices.values()),
        "subscriptions": sorted((s.deal_id, s.status) for s in billing.subscriptions.values()),
        "entitlements": sorted(
            (e.deal_id, e.status) for e in vendors["provisioning"].entitlements.values()
        ),
        "cases": sorted((c.deal_id, c.status) for c in vendors["support"].cases.values()),
    }


def test_the_same_fault_plan_leaves_the_same_vendor_records() -> None:
    knobs = scenario()
    policy = {"retry": RetryPolicy(max_attempts=3, base=0.1, jitter="none"), "breaker": None}
    world = World(knobs, 5, "sync_chain", script=PLAN)
    first = list(itertools.islice(deals(world.streams, world.book, world.plans, 6.0), 4))
    arrivals = [(600.0, deal) for _, deal in first]  # one at a time: calls in one order

    simulated = World(knobs, 5, "sync_chain", script=PLAN)
    sim_client = Client(Policy(timeout=30.0, **policy))
    chain = make("sync_chain", sim_client)

    def closing() -> Any:
        for gap, deal in arrivals:
            yield simulated.env.timeout(gap)
            simulated.runtime.start(chain.close(deal))

    simulated.env.process(closing())
    simulated.env.run()

    clock = WallClock(SCALE)
    mocks = open_vendors(knobs, clock, 5, script=PLAN)
    with serving(mocks, clock) as urls:

        async def go() -> None:
            runtime = LiveRuntime(urls, ROUTES, SCALE)
            live_chain = make("sync_chain", Client(Policy(timeout=30.0, **policy)))
            try:
                await run_deals(live_chain, runtime, Broker(runtime), arrivals)
            finally:
                await runtime.close()

        asyncio.run(go())
    live = records({system: mock.vendor for system, mock in mocks.items()})
    expected = records(simulated.vendors)
    assert live == expected, (live, expected)
    assert [status for _, status in expected["orders"]].count("cancelled") == 1  # compensated
    assert len(expected["orders"]) == 4 and len(expected["invoices"]) == 3  # no twin invoice
