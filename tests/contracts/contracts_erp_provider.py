"""A small ERP provider for the verifier tests: honours the pact, or breaks it on purpose.

It keeps state in memory and exposes a Pact state-change endpoint at
``/_pact/state`` (JSON body ``{"state": ..., "action": "setup"|"teardown"}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class ErpState:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    credit_hold: set[str] = field(default_factory=set)
    limit_exhausted: bool = False
    keys: dict[str, str] = field(default_factory=dict)
    states_seen: list[str] = field(default_factory=list)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def build_app(status_field: str = "status") -> tuple[Starlette, ErpState]:
    """The provider; ``status_field="orderStatus"`` renames a field the pact relies on."""
    state = ErpState()

    def customer(cid: str, external: str) -> dict[str, Any]:
        return {
            "id": cid,
            "externalId": external,
            "companyName": "Acme GmbH",
            "email": "billing@acme.example",
            "currency": "EUR",
            "crmAccountId": external,
            "status": "active",
        }

    def order(oid: str, body: dict[str, Any], status: str) -> dict[str, Any]:
        total = sum(line["quantity"] * line["unitPrice"] for line in body.get("lines", []))
        return {
            "id": oid,
            "externalId": body.get("externalId", "D-00042"),
            "customerId": body.get("customerId", "CUS-1"),
            status_field: status,
            "total": total or 199.5,
            "currency": body.get("currency", "EUR"),
        }

    def invoice(iid: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": iid,
            "salesOrderId": body.get("salesOrderId", "SO-1"),
            "amount": body.get("amount", 199.5),
            "currency": body.get("currency", "EUR"),
            "status": "open",
        }

    async def set_state(request: Request) -> JSONResponse:
        payload = await request.json()
        name, action = payload.get("state", ""), payload.get("action", "setup")
        if action != "setup" or not name:
            return JSONResponse({})
        state.states_seen.append(name)
        state.customers.clear()
        state.orders.clear()
        state.invoices.clear()
        state.credit_hold.clear()
        state.keys.clear()
        state.limit_exhausted = False
        if name in (
            "customer CUS-1 exists",
            "a sales order SO-1 exists",
            "an invoice INV-1 exists",
        ):
            state.customers["CUS-1"] = customer("CUS-1", "ACC-000123")
        if name == "customer CUS-2 is on credit hold":
            state.customers["CUS-2"] = customer("CUS-2", "ACC-000124")
            state.credit_hold.add("CUS-2")
        if name == "the ERP account's concurrency limit is exhausted":
            state.limit_exhausted = True
        if name.startswith("sales order SO-1 was created with idempotency key"):
            state.keys[name.rsplit(" ", 1)[-1]] = "original body"
        if name == "a sales order SO-1 exists":
            state.orders["SO-1"] = order("SO-1", {}, "pendingFulfillment")
        if name == "an invoice INV-1 exists":
            state.orders["SO-1"] = order("SO-1", {}, "billed")
            state.invoices["INV-1"] = invoice("INV-1", {"salesOrderId": "SO-1"})
        return JSONResponse({})

    async def upsert_customer(request: Request) -> JSONResponse:
        external = request.path_params["externalId"]
        body = await request.json()
        existing = next((c for c in state.customers.values() if c["externalId"] == external), None)
        if existing is not None:
            existing.update(body)
            return JSONResponse(existing, status_code=200)
        cid = f"CUS-{len(state.customers) + 1}"
        state.customers[cid] = customer(cid, external) | body
        return JSONResponse(state.customers[cid], status_code=201)

    async def get_customer(request: Request) -> JSONResponse:
        found = state.customers.get(request.path_params["id"])
        if found is None:
            return _error(404, "NOT_FOUND", "no such customer")
        return JSONResponse(found)

    async def create_order(request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw)
        if state.limit_exhausted:
            return _error(400, "SSS_REQUEST_LIMIT_EXCEEDED", "concurrency limit exceeded")
        key = request.headers.get("Idempotency-Key")
        if key is not None and key in state.keys and state.keys[key] != raw.decode():
            return _error(409, "IDEMPOTENCY_KEY_REUSED", "key used with another body")
        if body["customerId"] in state.credit_hold:
            return _error(422, "CREDIT_HOLD", "customer is on credit hold")
        oid = f"SO-{len(state.orders) + 1}"
        state.orders[oid] = order(oid, body, "pendingApproval")
        if key is not None:
            state.keys[key] = raw.decode()
        return JSONResponse(state.orders[oid], status_code=201)

    async def get_order(request: Request) -> JSONResponse:
        found = state.orders.get(request.path_params["id"])
        if found is None:
            return _error(404, "NOT_FOUND", "no such sales order")
        return JSONResponse(found)

    async def cancel_order(request: Request) -> JSONResponse:
        found = state.orders.get(request.path_params["id"])
        if found is None:
            return _error(404, "NOT_FOUND", "no such sales order")
        found[status_field] = "cancelled"
        return JSONResponse(found)

    async def create_invoice(request: Request) -> JSONResponse:
        body = await request.json()
        iid = f"INV-{len(state.invoices) + 1}"
        state.invoices[iid] = invoice(iid, body)
        return JSONResponse(state.invoices[iid], status_code=201)

    async def void_invoice(request: Request) -> JSONResponse:
        found = state.invoices.get(request.path_params["id"])
        if found is None:
            return _error(404, "NOT_FOUND", "no such invoice")
        found["status"] = "voided"
        return JSONResponse(found)

    routes = [
        Route("/_pact/state", set_state, methods=["POST"]),
        Route("/customers/by-external-id/{externalId}", upsert_customer, methods=["PUT"]),
        Route("/customers/{id}", get_customer, methods=["GET"]),
        Route("/salesOrders", create_order, methods=["POST"]),
        Route("/salesOrders/{id}", get_order, methods=["GET"]),
        Route("/salesOrders/{id}/cancel", cancel_order, methods=["POST"]),
        Route("/invoices", create_invoice, methods=["POST"]),
        Route("/invoices/{id}/void", void_invoice, methods=["POST"]),
    ]
    return Starlette(routes=routes), state


def build_asgi() -> Starlette:
    """The honouring provider alone, for ``uvicorn --factory`` (see the README)."""
    return build_app()[0]
