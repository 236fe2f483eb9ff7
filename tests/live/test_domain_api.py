"""The orchestrator's domain API, fuzzed by schemathesis against the real ASGI app.

The app runs the orchestrator's workflows through the live runtime, whose vendor
calls the vendor mocks answer inside httpx (respx): the same models and knobs as
the simulator, no network. schemathesis generates requests from the API's own
document (``contracts/orchestrator/``), follows its links (an order placed, then
its invoice read, its subscription amended, its entitlement synchronised) and runs
every check: no 500, every status and body as documented, and a malformed request
gets a documented 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from contracts.conformance import Conformance
from contracts.loader import load_document
from live.api import DomainApi, PlanPrice
from live.runtime import LiveRuntime
from mocks.respx import vendor_router
from mocks.vendor import DOCUMENTS, document_path, vendor_routes
from orchestrator.client import Client
from orchestrator.resilience import Policy, RetryPolicy
from tests.support import quiet_scenario

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "contracts" / "orchestrator" / "orchestrator-api-2026.1.yaml"
SCENARIO = quiet_scenario(systems={name: {"latency": "1ms"} for name in DOCUMENTS})
PLANS = {plan.name: PlanPrice(plan.sku, plan.unit_price) for plan in SCENARIO.workload.plans}
ROUTER = vendor_router(SCENARIO)
RETRY = RetryPolicy(max_attempts=2, base=0.01, jitter="none")


def build() -> DomainApi:
    routes = vendor_routes()
    urls = {
        system: str(load_document(document_path(system)).data["servers"][0]["url"])
        for system in DOCUMENTS
    }
    runtime = LiveRuntime(urls, routes, 1000.0, http=httpx.AsyncClient())
    client = Client(Policy(retry=RETRY, compensation_retry=RETRY, breaker=None, timeout=30.0))
    return DomainApi(runtime, client, PLANS, Conformance.load(DOCUMENT))


APP = build()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True, scope="module")
def vendors() -> Iterator[None]:
    with ROUTER:
        yield


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_the_links_between_operations_hold_statefully() -> None:
    machine = schema.as_state_machine()
    machine.run(
        settings=settings(
            max_examples=10,
            derandomize=True,
            database=None,
            deadline=None,
            stateful_step_count=6,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_an_order_goes_live_and_its_invoice_and_amendment_follow() -> None:
    from starlette.testclient import TestClient

    with TestClient(APP) as http:
        order = http.post("/orders", json={"accountId": "ACC-000001", "plan": "pro", "seats": 5})
        assert order.status_code == 201 and order.json()["outcome"] == "completed", order.json()
        deal = order.json()["dealId"]
        invoice = http.get(f"/orders/{deal}/invoice").json()
        assert invoice["status"] == "open" and invoice["amount"] > 0
        changed = http.post(f"/subscriptions/{deal}/amendments", json={"seats": 9}).json()
        assert changed["outcome"] == "applied", changed
        synced = http.post(f"/subscriptions/{deal}/entitlement/sync").json()
        assert synced == {"dealId": deal, "seats": 9}
        bad = http.post("/orders", json={"accountId": "nobody", "plan": "pro", "seats": 0})
        assert bad.status_code == 400 and "accountId" in bad.json()["message"]
        assert "seats" in bad.json()["message"]


def test_a_customer_in_another_currency_is_a_conflict_and_bad_json_a_400() -> None:
    from starlette.testclient import TestClient

    with TestClient(APP) as http:
        first = http.post("/accounts", json={"accountId": "ACC-000002"})
        assert first.status_code == 201, first.json()
        other = "EUR" if first.json()["currency"] != "EUR" else "USD"
        again = http.post("/accounts", json={"accountId": "ACC-000002", "currency": other})
        assert again.status_code == 409 and again.json()["code"] == "CURRENCY_MISMATCH"
        assert again.json()["message"].startswith("currency:")
        deep = http.post("/orders", content=b"[" * 50_000 + b"]" * 50_000)
        assert deep.status_code == 400 and deep.json()["code"] == "INVALID_JSON"
        unknown = http.post("/orders", json={"accountId": "ACC-999999", "plan": "pro", "seats": 1})
        assert unknown.status_code == 404 and "accountId" in unknown.json()["message"]


def test_deal_ids_are_never_reused_after_a_refused_order() -> None:
    from starlette.testclient import TestClient

    with TestClient(APP) as http:
        refused = http.post("/orders", json={"accountId": "ACC-999998", "plan": "pro", "seats": 1})
        assert refused.status_code == 404
        placed = [
            http.post("/orders", json={"accountId": "ACC-000003", "plan": "pro", "seats": 1})
            for _ in range(2)
        ]
        ids = [p.json()["dealId"] for p in placed]
        assert len(set(ids)) == 2 and all(p.status_code in (201, 422, 503) for p in placed)
