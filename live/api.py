"""The orchestrator's domain API: what the rest of the company calls instead of the ERP.

The article's advice is that consumers call domain services (create a customer
account, submit an order, update a subscription, read an invoice's status,
synchronise an entitlement), not the ERP's own API. ``DomainApi`` serves those
five as an ASGI app with its own document (``contracts/orchestrator/``); each runs
the orchestrator's workflows through a ``LiveRuntime`` against the vendors and
answers when they end; ``GET /openapi.json`` serves that document. Requests are
checked against the document first (a bad one
gets ``400 INVALID_REQUEST`` naming the field). What the API remembers of the deals
it placed (their ERP order and invoice ids) is kept in memory, as a real service
would keep it in its own table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.conformance import Conformance
from live.asgi import Receive, Scope, Send, clip, is_request, parse_json, read_body, respond
from live.runtime import LiveRuntime
from orchestrator.client import Client
from orchestrator.deal import Deal, Line
from orchestrator.effects import Publish, Workflow
from orchestrator.errors import CallError, Conflict, Rejected, Retryable
from orchestrator.workflows.amendment import DECLARED as AMENDMENTS
from orchestrator.workflows.amendment import Amendment, amend, sync_seats
from orchestrator.workflows.quote_to_cash import (
    DECLARED as QUOTE_TO_CASH,
)
from orchestrator.workflows.quote_to_cash import (
    Commitment,
    accept_order,
    active_account,
    customer_fields,
    fulfil,
    order_saga,
    validate_account,
)
from orchestrator.workflows.settle import settle

__all__ = ["DomainApi", "PlanPrice"]


@dataclass(frozen=True)
class PlanPrice:
    """What a plan sells: its SKU and unit price."""

    sku: str
    unit_price: float


@dataclass
class Placed:
    """A deal the API placed, and what the ERP and billing made of it."""

    deal: Deal
    order_id: str = ""
    invoice_id: str = ""
    amendments: int = 0


class Refused(Exception):
    """An answer other than success: its status and error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class DomainApi:
    """The domain API as an ASGI application.

    Args:
        runtime: Runs the workflows (its base URLs point at the vendors).
        client: The orchestrator's client (policy, breakers).
        plans: Plan name -> what it sells.
        document: The API's own document.
    """

    def __init__(
        self,
        runtime: LiveRuntime,
        client: Client,
        plans: Mapping[str, PlanPrice],
        document: Conformance,
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.plans = dict(plans)
        self.document = document
        self.placed: dict[str, Placed] = {}
        self._numbers = itertools.count(1)  # never reused, even after a refused order
        self.endings: dict[str, str] = {}  # workflow id -> how it ended, from its events
        self.outcomes = {**QUOTE_TO_CASH.outcomes(), **AMENDMENTS.outcomes()}
        runtime.publish = self._heard

    def _heard(self, effect: Publish, now: float) -> None:
        workflow = effect.payload.get("workflow")
        if workflow is not None and effect.topic in self.outcomes:
            self.endings[str(workflow)] = self.outcomes[effect.topic]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await is_request(scope, receive, send):
            return
        body = await read_body(receive)
        if scope["method"] == "GET" and scope["path"] == "/openapi.json":
            await respond(send, 200, self.document.document.data)
            return
        found = self.document.routes.match(scope["method"], scope["path"])
        if found is None:
            allowed = self.document.routes.allowed(scope["path"])
            where = f"no {scope['method']} {scope['path']}"
            if allowed:
                extra = {"Allow": ", ".join(allowed)}
                await respond(send, 405, _error("METHOD_NOT_ALLOWED", where), extra)
            else:
                await respond(send, 404, _error("NOT_FOUND", where))
            return
        route, values = found
        try:
            payload = parse_json(body) if body else None
        except ValueError as exc:
            await respond(send, 400, _error("INVALID_JSON", f"the body is not JSON: {exc}"))
            return
        if payload is not None and not isinstance(payload, dict):
            await respond(send, 400, _error("INVALID_REQUEST", "the body must be a JSON object"))
            return
        params = route.params(values, {}, payload)
        problems = self.document.request_problems(route.operation, params)
        if problems:
            await respond(send, 400, _error("INVALID_REQUEST", "; ".join(problems)))
            return
        handler = getattr(self, f"_{route.operation}")
        try:
            status, answer = await handler(params)
        except Refused as exc:
            status, answer = exc.status, _error(exc.code, exc.message)
        await respond(send, status, answer)

    async def _run(self, workflow: Workflow) -> Any:
        try:
            return await self.runtime.run(workflow)
        except Retryable as exc:
            raise Refused(503, "VENDOR_UNAVAILABLE", str(exc)) from exc
        except Conflict as exc:
            raise Refused(409, exc.code or "CONFLICT", str(exc)) from exc
        except Rejected as exc:
            status = 404 if exc.status == 404 else 422
            raise Refused(status, exc.code or "REJECTED", str(exc)) from exc

    async def _createCustomerAccount(self, params: Mapping[str, Any]) -> tuple[int, Any]:
        client, account_id = self.client, params["accountId"]
        wanted = params.get("currency")

        def work() -> Workflow:
            account = yield from active_account(
                client, account_id, f"account:{account_id}", account_id
            )
            currency = str(wanted or account["currency"])
            deal = Deal("", account_id, currency, "", ())
            return (
                yield from client.call(
                    f"account:{account_id}:{currency}",
                    "customer",
                    "erp",
                    "upsertCustomer",
                    customer_fields(deal, account),
                    correlation=account_id,
                )
            )

        customer = await self._run(work())
        if wanted and customer.get("currency") not in (None, wanted):
            why = f"currency: {account_id} is a customer in {customer['currency']}, not {wanted}"
            raise Refused(409, "CURRENCY_MISMATCH", why)
        answer = {"accountId": account_id, "erpCustomerId": customer["id"]}
        return 201, {**answer, "currency": customer["currency"], "status": customer["status"]}

    async def _submitOrder(self, params: Mapping[str, Any]) -> tuple[int, Any]:
        plan = self.plans.get(params["plan"])
        if plan is None:
            raise Refused(404, "NO_SUCH_PLAN", f"no plan {params['plan']!r} is sold")
        deal_id = f"API-{next(self._numbers):06d}"
        line = Line(plan.sku, int(params["seats"]), plan.unit_price)
        deal = Deal(deal_id, params["accountId"], "USD", params["plan"], (line,))
        placed = self.placed[deal_id] = Placed(deal)
        client = self.client

        def work() -> Workflow:
            saga = order_saga(client, deal_id)
            try:
                account = yield from validate_account(client, deal)
                priced = deal._replace(currency=account["currency"])
                placed.deal = priced
                customer_id, order_id = yield from accept_order(client, priced, account, saga)
                placed.order_id = order_id
                done = Commitment(priced, account, customer_id, order_id)
                placed.invoice_id = yield from fulfil(client, done, saga)
            except CallError as exc:
                unknown = exc.system == "crm" and exc.status == 404
                if isinstance(exc, Rejected) and unknown and not saga.done:
                    del self.placed[deal_id]
                    why = f"accountId: no CRM account {params['accountId']} ({exc})"
                    raise Refused(404, exc.code or "NOT_FOUND", why) from exc
                topic, payload = yield from settle(saga, deal_id, exc, announce=False)
                outcome = self.outcomes[topic]
                # A business "no" is the caller's to fix; anything else, the vendors'.
                status = 422 if outcome == "rejected" else 503
                return status, {"dealId": deal_id, "outcome": outcome, "reason": payload["reason"]}
            return 201, {"dealId": deal_id, "outcome": "completed"}

        try:
            answer: tuple[int, Any] = await self.runtime.run(work())
            return answer
        except Refused:
            raise
        except CallError as exc:  # the broker of an announcement stayed down
            raise Refused(503, "VENDOR_UNAVAILABLE", str(exc)) from exc

    def _deal(self, params: Mapping[str, Any]) -> Placed:
        placed = self.placed.get(params["dealId"])
        if placed is None:
            raise Refused(404, "NO_SUCH_DEAL", f"no deal {params['dealId']} was placed here")
        return placed

    async def _getInvoiceStatus(self, params: Mapping[str, Any]) -> tuple[int, Any]:
        placed = self._deal(params)
        if not placed.invoice_id:
            raise Refused(404, "NOT_INVOICED", f"deal {placed.deal.id} has no invoice")
        client, invoice_id = self.client, placed.invoice_id

        def work() -> Workflow:
            return (
                yield from client.call(
                    "api", "invoice", "erp", "getInvoice", {"id": invoice_id}, write=False
                )
            )

        invoice = await self._run(work())
        return 200, {
            "dealId": placed.deal.id,
            "invoiceId": invoice["id"],
            "status": invoice["status"],
            "amount": invoice["amount"],
            "currency": invoice["currency"],
        }

    async def _updateSubscription(self, params: Mapping[str, Any]) -> tuple[int, Any]:
        placed = self._deal(params)
        if not placed.invoice_id:
            raise Refused(404, "NO_SUBSCRIPTION", f"deal {placed.deal.id} did not go live")
        placed.amendments += 1
        change = Amendment(
            placed.deal.id, placed.amendments, "seats", seats=int(params["seats"]), wait=0.0
        )
        await self._run(amend(self.client, change))
        outcome = self.endings.get(change.id, "failed")
        return 200, {"amendmentId": change.id, "outcome": outcome}

    async def _synchronizeEntitlement(self, params: Mapping[str, Any]) -> tuple[int, Any]:
        placed = self._deal(params)
        if not placed.invoice_id:
            raise Refused(404, "NO_SUBSCRIPTION", f"deal {placed.deal.id} did not go live")
        client, deal_id = self.client, placed.deal.id

        def work() -> Workflow:
            sub = yield from client.call(
                f"sync:{deal_id}",
                "find",
                "billing",
                "findSubscription",
                {"dealId": deal_id},
                write=False,
                correlation=deal_id,
            )
            yield from sync_seats(client, f"sync:{deal_id}", "seats", sub, 0.0)
            return sub

        sub = await self._run(work())
        seats = 0 if sub["status"] == "cancelled" else int(sub["quantity"])
        return 200, {"dealId": deal_id, "seats": seats}


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": clip(message)}
