"""One vendor model behind the HTTP its OpenAPI document describes.

A ``VendorMock`` is the model's shop front: a request comes in at the door, is
matched to its operation by the document's route table, checked against the
document (a malformed request gets the vendor's documented 400, never a 500), sent
through the same weather the simulator uses (``sim.faults.Faults``: latency, 5xx,
lost answers, 429 with Retry-After, NetSuite's 400 ``SSS_REQUEST_LIMIT_EXCEEDED``,
outage windows, all from the scenario's knobs) and answered by the model. The
answer says how long to take; the ASGI app and the respx router decide whether to
wait it out.

The models come from a simulated ``World`` of the scenario and seed: the same
vendors, seeded with the same CRM accounts and price lists, with the same knobs.
Their clockwork (payments, the support desk's work) runs on the mock's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from contracts.binding import CORRELATION_ID, IDEMPOTENCY_KEY, Routes
from contracts.conformance import Conformance
from contracts.loader import load_document
from live.asgi import clip, parse_json
from sim.faults import Faults
from sim.vendors import REGISTRY

__all__ = ["DOCUMENTS", "Answer", "VendorMock", "document_path", "vendor_routes"]

VENDORS_DIR = Path(__file__).resolve().parent.parent / "contracts" / "vendors"
DOCUMENTS = {entry.name: entry.document for entry in REGISTRY if entry.document}
"""The document each vendor model implements, as the registry says."""


def document_path(system: str) -> Path:
    """Where ``system``'s OpenAPI document is."""
    return VENDORS_DIR / DOCUMENTS[system]


def vendor_routes() -> dict[str, Routes]:
    """Every vendor's routes, from its document (what the live runtime sends by)."""
    return {system: Routes(load_document(document_path(system))) for system in DOCUMENTS}


class Answer(NamedTuple):
    """What the mock answers one request, and how.

    Attributes:
        status: HTTP status.
        body: JSON body.
        headers: Extra response headers (``Retry-After``, the correlation id).
        latency: Seconds of the mock's clock the answer takes.
        lost: The model did the work but the answer never arrives (the caller
            times out).
        done: Call when the work is over (frees the vendor's concurrency slot).
    """

    status: int
    body: Any
    headers: dict[str, str]
    latency: float = 0.0
    lost: bool = False
    done: Callable[[], None] = lambda: None


class VendorMock:
    """A vendor model, its weather and its document, answering HTTP requests.

    Args:
        faults: The model behind its weather (a simulated world's line).
        conformance: The vendor's document, for routes and validation.
        validate_responses: Check every answer against the document too (a model
            that disagrees with its document answers 500 ``MOCK_DISAGREES``).
    """

    def __init__(
        self, faults: Faults, conformance: Conformance, validate_responses: bool = True
    ) -> None:
        self.faults = faults
        self.vendor = faults.vendor
        self.name = faults.vendor.name
        self.conformance = conformance
        self.routes = conformance.routes
        self.validate_responses = validate_responses
        self.base_path = conformance.routes.base_path
        self.requests = 0
        self.webhooks: list[dict[str, Any]] = []

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        now: float,
    ) -> Answer:
        """Answer one request at ``now`` (seconds of the mock's clock).

        Args:
            method: The HTTP method.
            path: The URL path, with the document's server path.
            query: Query parameters (one value each).
            headers: Request headers, names lower-case.
            body: The raw request body.
            now: The mock's clock.
        """
        self.requests += 1
        echo = (
            {CORRELATION_ID: headers[CORRELATION_ID.lower()]}
            if CORRELATION_ID.lower() in headers
            else {}
        )
        if not path.startswith(self.base_path):
            return _error(404, "NOT_FOUND", f"{path} is not under {self.base_path or '/'}", echo)
        local = path[len(self.base_path) :] or "/"
        found = self.routes.match(method, local)
        if found is None:
            allowed = self.routes.allowed(local)
            if allowed:
                return _error(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"{method} {path}: use {', '.join(allowed)}",
                    {**echo, "Allow": ", ".join(allowed)},
                )
            return _error(404, "NOT_FOUND", f"no {self.name} operation at {method} {path}", echo)
        route, values = found
        payload: Any = None
        if body:
            try:
                payload = parse_json(body)
            except ValueError as exc:
                return _error(
                    400, "INVALID_JSON", f"{route.operation}: the body is not JSON: {exc}", echo
                )
            if not isinstance(payload, dict):
                return _error(
                    400,
                    "INVALID_REQUEST",
                    f"{route.operation}: the body must be a JSON object",
                    echo,
                )
        params = route.params(values, query, payload)
        key = headers.get(IDEMPOTENCY_KEY.lower())
        problems = self.conformance.request_problems(route.operation, params, key)
        if problems:
            return _error(400, "INVALID_REQUEST", "; ".join(problems), echo)
        status, answer, retry_after, latency, lost = self.faults(route.operation, params, key, now)
        extra = dict(echo)
        if retry_after is not None:
            extra["Retry-After"] = f"{max(retry_after, 0.0):.3f}"
        if self.validate_responses:
            wrong = self.conformance.response_problems(route.operation, status, answer)
            if wrong:
                self.faults.done()
                return _error(500, "MOCK_DISAGREES", "; ".join(wrong), extra)
        return Answer(status, answer, extra, latency, lost, self.faults.done)


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> Answer:
    return Answer(status, {"code": code, "message": clip(message)}, headers)
