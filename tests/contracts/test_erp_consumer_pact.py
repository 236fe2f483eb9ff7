"""The orchestrator's pact with the ERP, written with pact-python's consumer API.

Each interaction is replayed against Pact's real mock server (Rust core, bound to
127.0.0.1) with httpx, then written to a temporary directory. The committed
``contracts/pacts/lifecycle-orchestrator-erp.json`` must equal what this test
generates; refresh it with ``make pacts`` (``LIFECYCLE_REFRESH_PACTS=1 pytest
tests/contracts/test_erp_consumer_pact.py``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pact import Pact, match

from contracts.gate import run_gate
from contracts.loader import load_document
from contracts.pactfile import load_pacts

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "contracts" / "pacts" / "lifecycle-orchestrator-erp.json"
VENDORS = ROOT / "contracts" / "vendors" / "erp"
CONSUMER, PROVIDER = "lifecycle-orchestrator", "erp"
REGENERATE = "run `make pacts` to refresh contracts/pacts/lifecycle-orchestrator-erp.json"


@dataclass(frozen=True)
class Spec:
    """One interaction, described once for both the pact and the httpx call."""

    description: str
    state: str | None
    method: str
    path: str
    status: int
    response: dict[str, Any]
    body: dict[str, Any] | None = None
    key: Any = None
    query: dict[str, str] = field(default_factory=dict)


def example(value: Any) -> Any:
    """The plain example behind a (possibly nested) Pact matcher."""
    if hasattr(value, "value") and hasattr(value, "type"):
        return example(value.value)
    if isinstance(value, dict):
        return {k: example(v) for k, v in value.items()}
    if isinstance(value, list):
        return [example(v) for v in value]
    return value


CUS_ID = match.regex("CUS-1", regex=r"CUS-\d+")
SO_ID = match.regex("SO-1", regex=r"SO-\d+")
ORDER_BODY = {
    "customerId": "CUS-1",
    "externalId": "D-00042",
    "currency": "EUR",
    "lines": match.each_like(
        {"sku": match.str("PLAN-PRO"), "quantity": match.int(2), "unitPrice": match.decimal(99.75)},
        min=1,
    ),
}


def error(code: str) -> dict[str, Any]:
    return {"code": code, "message": match.str("explanation for humans")}


SPECS = [
    Spec(
        "a request to upsert the customer of CRM account ACC-000123",
        "no customer with external id ACC-000123 exists",
        "PUT",
        "/customers/by-external-id/ACC-000123",
        201,
        {"id": CUS_ID, "externalId": "ACC-000123", "status": match.str("active")},
        body={
            "companyName": match.str("Acme GmbH"),
            "email": match.str("billing@acme.example"),
            "currency": "EUR",
            "crmAccountId": "ACC-000123",
        },
        key=match.str("ACC-000123:customer"),
    ),
    Spec(
        "a request to get customer CUS-1",
        "customer CUS-1 exists",
        "GET",
        "/customers/CUS-1",
        200,
        {"id": CUS_ID, "externalId": match.str("ACC-000123"), "status": match.str("active")},
    ),
    Spec(
        "a request to get a customer that does not exist",
        None,
        "GET",
        "/customers/CUS-404",
        404,
        error("NOT_FOUND") | {"code": match.str("NOT_FOUND")},
    ),
    Spec(
        "a request to create a sales order",
        "customer CUS-1 exists",
        "POST",
        "/salesOrders",
        201,
        {
            "id": SO_ID,
            "externalId": "D-00042",
            "status": match.regex("pendingApproval", regex="pendingApproval|pendingFulfillment"),
            "total": match.number(199.5),
        },
        body=ORDER_BODY,
        key=match.str("D-00042:order"),
    ),
    Spec(
        "a request to create a sales order for a customer on credit hold",
        "customer CUS-2 is on credit hold",
        "POST",
        "/salesOrders",
        422,
        error("CREDIT_HOLD"),
        body=ORDER_BODY | {"customerId": "CUS-2", "externalId": "D-00043"},
        key=match.str("D-00043:order"),
    ),
    Spec(
        "a request to create a sales order while the account's concurrency limit is exceeded",
        "the ERP account's concurrency limit is exhausted",
        "POST",
        "/salesOrders",
        400,
        error("SSS_REQUEST_LIMIT_EXCEEDED"),
        body=ORDER_BODY | {"externalId": "D-00044"},
        key=match.str("D-00044:order"),
    ),
    Spec(
        "a request reusing an idempotency key with a different body",
        "sales order SO-1 was created with idempotency key D-00042:order",
        "POST",
        "/salesOrders",
        409,
        error("IDEMPOTENCY_KEY_REUSED"),
        body=ORDER_BODY | {"currency": "USD"},
        key="D-00042:order",
    ),
    Spec(
        "a request to get sales order SO-1",
        "a sales order SO-1 exists",
        "GET",
        "/salesOrders/SO-1",
        200,
        {
            "id": SO_ID,
            "status": match.regex(
                "pendingFulfillment",
                regex="pendingApproval|pendingFulfillment|billed|cancelled",
            ),
            "total": match.number(199.5),
        },
    ),
    Spec(
        "a request to cancel sales order SO-1",
        "a sales order SO-1 exists",
        "POST",
        "/salesOrders/SO-1/cancel",
        200,
        {"id": SO_ID, "status": "cancelled"},
        key=match.str("D-00042:order:undo"),
    ),
    Spec(
        "a request to invoice sales order SO-1",
        "a sales order SO-1 exists",
        "POST",
        "/invoices",
        201,
        {
            "id": match.regex("INV-1", regex=r"INV-\d+"),
            "salesOrderId": "SO-1",
            "status": "open",
            "amount": match.number(199.5),
        },
        body={"salesOrderId": "SO-1", "amount": match.decimal(199.5), "currency": "EUR"},
        key=match.str("D-00042:invoice"),
    ),
    Spec(
        "a request to void invoice INV-1",
        "an invoice INV-1 exists",
        "POST",
        "/invoices/INV-1/void",
        200,
        {"id": match.regex("INV-1", regex=r"INV-\d+"), "status": "voided"},
        key=match.str("D-00042:invoice:undo"),
    ),
]


def record(spec: Spec, directory: Path, specification: str) -> None:
    """Declare one interaction, replay it with httpx against the mock server, write it."""
    pact = Pact(CONSUMER, PROVIDER).with_specification(specification)  # type: ignore[arg-type]
    interaction = pact.upon_receiving(spec.description)
    if spec.state:
        interaction.given(spec.state)
    interaction.with_request(spec.method, spec.path)
    headers = {"Accept": "application/json"}
    if spec.key is not None:
        interaction.with_header("Idempotency-Key", spec.key)
        headers["Idempotency-Key"] = example(spec.key)
    if spec.body is not None:
        interaction.with_body(spec.body, content_type="application/json")
    interaction.will_respond_with(spec.status).with_body(
        spec.response, content_type="application/json"
    )
    with pact.serve(addr="127.0.0.1") as server:
        response = httpx.request(
            spec.method,
            f"{server.url}{spec.path}",
            headers=headers,
            json=example(spec.body) if spec.body is not None else None,
            timeout=10,
        )
        assert response.status_code == spec.status, response.text
        assert response.json() == example(spec.response)
    pact.write_file(directory, overwrite=False)


def generate(directory: Path, specification: str = "V4") -> Path:
    """Write the orchestrator-ERP pact into ``directory`` and return its path."""
    for spec in SPECS:
        record(spec, directory, specification)
    return directory / f"{CONSUMER}-{PROVIDER}.json"


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Drop what changes with library versions (pact-python, FFI metadata)."""
    result = dict(data)
    metadata = dict(result.get("metadata") or {})
    for key in ("pactRust", "pactPython"):
        metadata.pop(key, None)
    result["metadata"] = metadata
    return result


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = generate(tmp_path_factory.mktemp("pacts"))
    if os.environ.get("LIFECYCLE_REFRESH_PACTS") == "1":
        COMMITTED.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, COMMITTED)
    return path


def test_committed_pact_is_what_the_consumer_test_generates(generated: Path) -> None:
    assert COMMITTED.is_file(), REGENERATE
    fresh = normalise(json.loads(generated.read_text()))
    committed = normalise(json.loads(COMMITTED.read_text()))
    assert fresh == committed, REGENERATE


def test_generated_pact_has_every_erp_interaction_with_matchers(generated: Path) -> None:
    interactions = load_pacts([generated])
    assert sorted(i.description for i in interactions) == sorted(s.description for s in SPECS)
    assert {i.provider for i in interactions} == {PROVIDER}
    assert {i.consumer for i in interactions} == {CONSUMER}
    order = next(i for i in interactions if i.description == "a request to create a sales order")
    assert order.states == ("customer CUS-1 exists",)
    kinds = {r.path: r.matchers[0]["match"] for r in order.response.body_rules.rules}
    assert kinds["$.id"] == "regex"
    assert kinds["$.total"] == "number"
    request_kinds = {r.path: r.matchers[0]["match"] for r in order.request.body_rules.rules}
    assert request_kinds["$.lines"] == "type"  # eachLike
    assert request_kinds["$.lines[*].quantity"] == "integer"


Check = Callable[[Path], None]


@pytest.mark.parametrize("specification", ["V3"])
def test_gate_reads_real_v3_pact_output(tmp_path: Path, specification: str) -> None:
    path = generate(tmp_path, specification)
    assert json.loads(path.read_text())["metadata"]["pactSpecification"]["version"] == "3.0.0"
    interactions = load_pacts([path])
    old = run_gate(load_document(VENDORS / "erp-2026.1.yaml"), interactions, PROVIDER)
    new = run_gate(load_document(VENDORS / "erp-2026.2.yaml"), interactions, PROVIDER)
    assert old.exit_code == 0
    assert new.exit_code == 1
    failed = {c.name.split(" (given")[0] for c in new.cases if c.fails(new.fail_on)}
    assert "a request to invoice sales order SO-1" in failed
