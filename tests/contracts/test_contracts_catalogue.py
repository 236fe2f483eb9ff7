"""The rule catalogue of ``contracts diff``: one minimal pair per change kind.

Each case changes one thing in a small shop API and asserts the identifier, the
level and where it shows (operation, status, field). The unchanged documents
give nothing, and the reversed pair gives no finding of the same kind at error
level (most changes break one way only). A last test checks that every diff kind
in the catalogue has a case here, so a new rule cannot land untested.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts.catalogue import CATALOG, Level
from contracts.diff import diff_documents
from contracts.findings import Finding
from contracts.lifecycle import Lifecycle
from contracts.loader import document_from_data

Doc = dict[str, Any]
TODAY = dt.date(2026, 12, 1)
POLICY = Lifecycle(today=TODAY)


def _json(schema: Any) -> Doc:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> Doc:
    return {"$ref": f"#/components/schemas/{name}"}


ADDRESS = {"line1": {"type": "string"}, "city": {"type": "string"}}


def base() -> Doc:
    """A small shop API with a little of everything the rules look at (OpenAPI 3.1)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "shop", "version": "1"},
        "paths": {
            "/orders": {
                "get": {
                    "operationId": "listOrders",
                    "x-stability-level": "stable",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "default": 10},
                        },
                        {
                            "name": "ids",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                        {
                            "name": "legacy",
                            "in": "query",
                            "deprecated": True,
                            "x-sunset": "2099-01-01",
                            "schema": {"type": "string"},
                        },
                        {"name": "expand", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "a page",
                            "headers": {
                                "X-Request-Id": {"required": True, "schema": {"type": "string"}},
                                "X-Remaining": {"schema": {"type": "integer"}},
                            },
                            "content": _json(
                                {"type": "array", "items": _ref("Order"), "maxItems": 100}
                            ),
                        }
                    },
                },
                "post": {
                    "operationId": "createOrder",
                    "security": [{"oauth": ["orders:write"]}],
                    "requestBody": {"content": _json(_ref("OrderInput"))},
                    "responses": {
                        "201": {"description": "created", "content": _json(_ref("Order"))},
                        "422": {"description": "rejected", "content": _json(_ref("Error"))},
                    },
                },
            },
            "/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": _json(_ref("Order"))},
                        "404": {"description": "missing", "content": _json(_ref("Error"))},
                    },
                },
                "delete": {
                    "operationId": "deleteOrder",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"204": {"description": "gone"}},
                },
                "put": {
                    "operationId": "replaceOrder",
                    "deprecated": True,
                    "x-sunset": "2099-06-30",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {"content": _json(_ref("OrderInput"))},
                    "responses": {"200": {"description": "ok", "content": _json(_ref("Order"))}},
                },
            },
            "/legacy": {
                "get": {
                    "operationId": "legacy",
                    "deprecated": True,
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/notes": {
                "post": {
                    "operationId": "addNote",
                    "requestBody": {"content": {"application/json": {}, "text/plain": {}}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "webhooks": {
            "orderPaid": {
                "post": {
                    "requestBody": {"content": _json(_ref("Order"))},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://shop.example/token",
                            "scopes": {"orders:write": "", "orders:admin": ""},
                        }
                    },
                }
            },
            "schemas": {
                "OrderInput": {
                    "type": "object",
                    "required": ["sku"],
                    "properties": {
                        "sku": {"type": "string", "minLength": 1, "pattern": "^[A-Z0-9-]+$"},
                        "quantity": {"type": "number", "maximum": 100},
                        "amount": {"type": "number", "multipleOf": 0.01},
                        "channel": {"type": "string", "enum": ["web", "partner"]},
                        "note": {"type": "string"},
                        "currency": {"type": "string", "default": "USD"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "kind": {"type": "string", "x-extensible-enum": ["retail", "wholesale"]},
                        "payment": {
                            "oneOf": [_ref("Card"), _ref("Iban")],
                            "discriminator": {
                                "propertyName": "type",
                                "mapping": {
                                    "card": "#/components/schemas/Card",
                                    "iban": "#/components/schemas/Iban",
                                },
                            },
                        },
                        "meta": {"type": "object"},
                        "blob": {"type": "string", "contentEncoding": "base64"},
                        "total": {"type": "number"},
                        "old": {"type": "string", "deprecated": True, "x-sunset": "2099-01-01"},
                        "address": {
                            "type": "object",
                            "required": ["line1", "city"],
                            "properties": ADDRESS,
                        },
                        "gift": {
                            "type": "object",
                            "properties": {"to": {"type": "string"}, "from": {"type": "string"}},
                            "dependentRequired": {"to": ["from"]},
                        },
                    },
                },
                "Card": {
                    "type": "object",
                    "required": ["type", "number"],
                    "properties": {"type": {"const": "card"}, "number": {"type": "string"}},
                },
                "Iban": {
                    "type": "object",
                    "required": ["type", "iban"],
                    "properties": {"type": {"const": "iban"}, "iban": {"type": "string"}},
                },
                "Order": {
                    "type": "object",
                    "required": ["id", "status", "total", "object"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "pattern": "^SO-[0-9]+$"},
                        "object": {"const": "order"},
                        "status": {"type": "string", "enum": ["open", "done"]},
                        "total": {"type": "integer", "minimum": 0, "maximum": 1000000},
                        "amount": {"type": "number", "multipleOf": 0.01},
                        "placedAt": {"type": "string", "format": "date-time"},
                        "note": {"type": "string"},
                        "secret": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                        "level": {"type": "integer", "default": 1},
                        "extra": {"type": "object", "not": {"required": ["legacy"]}},
                        "doc": {"type": "string", "contentMediaType": "text/plain"},
                        "customer": {"anyOf": [{"type": "string"}, _ref("Customer")]},
                        "shipping": {
                            "type": "object",
                            "properties": {"to": {"type": "string"}, "from": {"type": "string"}},
                            "dependentRequired": {"to": ["from"]},
                        },
                        "payment": {
                            "oneOf": [_ref("Card"), _ref("Iban")],
                            "discriminator": {
                                "propertyName": "type",
                                "mapping": {
                                    "card": "#/components/schemas/Card",
                                    "iban": "#/components/schemas/Iban",
                                },
                            },
                        },
                    },
                },
                "Customer": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
                "Error": {"type": "object", "properties": {"code": {"type": "string"}}},
            },
        },
    }


# -- little helpers to reach into the document ---------------------------------------------


def S(d: Doc, name: str) -> Doc:
    return d["components"]["schemas"][name]  # type: ignore[no-any-return]


def prop(d: Doc, schema: str, name: str) -> Doc:
    return S(d, schema)["properties"][name]  # type: ignore[no-any-return]


def op(d: Doc, path: str, method: str) -> Doc:
    return d["paths"][path][method]  # type: ignore[no-any-return]


def param(d: Doc, name: str) -> Doc:
    return next(p for p in op(d, "/orders", "get")["parameters"] if p["name"] == name)


def _del(d: Doc, *keys: str) -> None:
    for key in keys[:-1]:
        d = d[key]
    del d[keys[-1]]


@dataclass(frozen=True)
class Case:
    """One rule's minimal pair: the change, and where it must show."""

    kind: str
    change: Callable[[Doc], Any]
    operation: str | None  # "GET /orders/{id}", or None for document-level findings
    status: str | None = None
    field: str | None = None
    level: Level | None = None
    policy: Lifecycle = POLICY
    reversible: bool = True


ORDER_GET = "GET /orders/{id}"
CREATE = "POST /orders"
LIST = "GET /orders"

CASES = [
    # -- operations and their lifecycle
    Case("path-removed", lambda d: _del(d, "paths", "/notes"), None),
    Case(
        "operation-removed",
        lambda d: _del(d, "paths", "/orders/{id}", "delete"),
        "DELETE /orders/{id}",
    ),
    Case(
        "removed-before-sunset",
        lambda d: _del(d, "paths", "/orders/{id}", "put"),
        "PUT /orders/{id}",
        reversible=False,
    ),
    Case(
        "removed-after-deprecation",
        lambda d: _del(d, "paths", "/legacy"),
        None,
        reversible=False,
    ),
    Case("deprecated", lambda d: op(d, "/orders/{id}", "get").update(deprecated=True), ORDER_GET),
    Case(
        "deprecated-without-sunset",
        lambda d: op(d, "/orders/{id}", "get").update(deprecated=True),
        ORDER_GET,
        policy=Lifecycle(today=TODAY, deprecation_days=90),
    ),
    Case(
        "sunset-too-soon",
        lambda d: op(d, "/orders/{id}", "get").update(
            deprecated=True, **{"x-sunset": "2027-01-01"}
        ),
        ORDER_GET,
        policy=Lifecycle(today=TODAY, deprecation_days=90),
    ),
    Case(
        "sunset-invalid",
        lambda d: op(d, "/orders/{id}", "put").update({"x-sunset": "soon"}),
        "PUT /orders/{id}",
        reversible=False,  # an invalid date either side cannot be judged
    ),
    Case(
        "sunset-removed",
        lambda d: op(d, "/orders/{id}", "put").pop("x-sunset"),
        "PUT /orders/{id}",
    ),
    Case(
        "sunset-moved-earlier",
        lambda d: op(d, "/orders/{id}", "put").update({"x-sunset": "2099-01-31"}),
        "PUT /orders/{id}",
    ),
    Case(
        "reactivated", lambda d: op(d, "/orders/{id}", "put").pop("deprecated"), "PUT /orders/{id}"
    ),
    Case(
        "stability-decreased",
        lambda d: op(d, "/orders", "get").update({"x-stability-level": "beta"}),
        LIST,
    ),
    Case(
        "stability-invalid",
        lambda d: op(d, "/orders", "get").update({"x-stability-level": "production"}),
        LIST,
        reversible=False,
    ),
    Case(
        "operation-id-changed",
        lambda d: op(d, "/orders/{id}", "get").update(operationId="readOrder"),
        ORDER_GET,
        reversible=False,
    ),
    Case(
        "security-requirement-added",
        lambda d: op(d, "/orders/{id}", "get").update(security=[{"oauth": []}]),
        ORDER_GET,
    ),
    Case(
        "security-scope-added",
        lambda d: op(d, "/orders", "post").update(
            security=[{"oauth": ["orders:write", "orders:admin"]}]
        ),
        CREATE,
    ),
    Case(
        "path-added",
        lambda d: d["paths"].update(refunds={"get": {"responses": {"200": {"description": "ok"}}}}),
        None,
    ),
    Case(
        "operation-added",
        lambda d: d["paths"]["/legacy"].update(post={"responses": {"200": {"description": "ok"}}}),
        "POST /legacy",
    ),
    Case("webhook-removed", lambda d: d.pop("webhooks"), None),
    # -- request parameters
    Case(
        "request-parameter-added-required",
        lambda d: op(d, "/orders", "get")["parameters"].append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        LIST,
        field="query region",
    ),
    Case(
        "request-parameter-became-required",
        lambda d: param(d, "limit").update(required=True),
        LIST,
        field="query limit",
    ),
    Case(
        "request-parameter-added",
        lambda d: op(d, "/orders", "get")["parameters"].append(
            {"name": "page", "in": "query", "schema": {"type": "integer"}}
        ),
        LIST,
        field="query page",
    ),
    Case(
        "request-parameter-removed",
        lambda d: op(d, "/orders", "get")["parameters"].remove(param(d, "expand")),
        LIST,
        field="query expand",
    ),
    Case(
        "request-parameter-style-changed",
        lambda d: param(d, "ids").update(explode=False),
        LIST,
        field="query ids",
        reversible=False,  # either way breaks
    ),
    Case(
        "request-parameter-default-changed",
        lambda d: param(d, "limit")["schema"].update(default=100),
        LIST,
        field="query limit",
        reversible=False,  # either way breaks
    ),
    # -- request bodies
    Case(
        "request-body-became-required",
        lambda d: op(d, "/orders", "post")["requestBody"].update(required=True),
        CREATE,
        field="body",
    ),
    Case(
        "request-body-removed",
        lambda d: op(d, "/orders", "post").pop("requestBody"),
        CREATE,
        field="body",
    ),
    Case(
        "request-body-schema-added",
        lambda d: op(d, "/notes", "post")["requestBody"]["content"]["application/json"].update(
            schema={"type": "object", "required": ["text"]}
        ),
        "POST /notes",
        reversible=False,
    ),
    Case(
        "request-media-type-removed",
        lambda d: op(d, "/notes", "post")["requestBody"]["content"].pop("text/plain"),
        "POST /notes",
    ),
    Case(
        "request-property-added-required",
        lambda d: (
            S(d, "OrderInput")["properties"].update(region={"type": "string"}),
            S(d, "OrderInput")["required"].append("region"),
        ),
        CREATE,
        field="body.region",
    ),
    Case(
        "request-property-became-required",
        lambda d: S(d, "OrderInput")["required"].append("note"),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-property-added",
        lambda d: S(d, "OrderInput")["properties"].update(memo={"type": "string"}),
        CREATE,
        field="body.memo",
    ),
    Case(
        "request-property-removed",
        lambda d: S(d, "OrderInput")["properties"].pop("note"),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-property-became-read-only",
        lambda d: prop(d, "OrderInput", "total").update(readOnly=True),
        CREATE,
        field="body.total",
    ),
    # -- request values
    Case(
        "request-type-narrowed",
        lambda d: prop(d, "OrderInput", "quantity").update(type="integer"),
        CREATE,
        field="body.quantity",
    ),
    Case(
        "request-format-changed",
        lambda d: prop(d, "OrderInput", "note").update(format="uuid"),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-became-enum",
        lambda d: prop(d, "OrderInput", "note").update(enum=["a", "b"]),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-enum-value-removed",
        lambda d: prop(d, "OrderInput", "channel").update(enum=["web"]),
        CREATE,
        field="body.channel",
    ),
    Case(
        "request-enum-value-added",
        lambda d: prop(d, "OrderInput", "channel")["enum"].append("api"),
        CREATE,
        field="body.channel",
    ),
    Case(
        "request-extensible-enum-value-removed",
        lambda d: prop(d, "OrderInput", "kind").update({"x-extensible-enum": ["retail"]}),
        CREATE,
        field="body.kind",
    ),
    Case(
        "request-min-increased",
        lambda d: prop(d, "OrderInput", "sku").update(minLength=3),
        CREATE,
        field="body.sku",
    ),
    Case(
        "request-max-decreased",
        lambda d: prop(d, "OrderInput", "quantity").update(maximum=10),
        CREATE,
        field="body.quantity",
    ),
    Case(
        "request-bound-added",
        lambda d: prop(d, "OrderInput", "note").update(maxLength=500),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-pattern-added",
        lambda d: prop(d, "OrderInput", "note").update(pattern="^[a-z ]+$"),
        CREATE,
        field="body.note",
    ),
    Case(
        "request-pattern-changed",
        lambda d: prop(d, "OrderInput", "sku").update(pattern="^[A-Z]+$"),
        CREATE,
        field="body.sku",
    ),
    Case(
        "request-multiple-of-changed",
        lambda d: prop(d, "OrderInput", "amount").update(multipleOf=0.05),
        CREATE,
        field="body.amount",
    ),
    Case(
        "request-unique-items-added",
        lambda d: prop(d, "OrderInput", "tags").update(uniqueItems=True),
        CREATE,
        field="body.tags",
    ),
    Case(
        "request-additional-properties-forbidden",
        lambda d: S(d, "OrderInput").update(additionalProperties=False),
        CREATE,
        field="body",
    ),
    Case(
        "request-default-changed",
        lambda d: prop(d, "OrderInput", "currency").update(default="EUR"),
        CREATE,
        field="body.currency",
    ),
    Case(
        "request-keyword-added",
        lambda d: prop(d, "OrderInput", "meta").update(propertyNames={"pattern": "^[a-z]+$"}),
        CREATE,
        field="body.meta",
    ),
    Case(
        "request-keyword-changed",
        lambda d: prop(d, "OrderInput", "blob").update(contentEncoding="base32"),
        CREATE,
        field="body.blob",
    ),
    Case(
        "request-union-member-removed",
        lambda d: prop(d, "OrderInput", "payment").update(oneOf=[_ref("Card")]),
        CREATE,
        field="body.payment",
    ),
    Case(
        "request-union-member-added",
        lambda d: (
            S(d, "Card").update(title="card"),
            S(d, "Iban").update(title="iban"),
            S(d, "OrderInput")["properties"]["payment"]["oneOf"].append(
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"const": "wallet"}},
                }
            ),
        ),
        CREATE,
        field="body.payment",
    ),
    Case(
        "request-one-of-ambiguous",
        lambda d: S(d, "OrderInput")["properties"].update(
            address={
                "oneOf": [
                    {"type": "object", "required": ["line1"], "properties": ADDRESS},
                    {"type": "object", "required": ["city"], "properties": ADDRESS},
                ]
            }
        ),
        CREATE,
        field="body.address",
    ),
    Case(
        "request-discriminator-mapping-removed",
        lambda d: prop(d, "OrderInput", "payment")["discriminator"]["mapping"].pop("iban"),
        CREATE,
        field="body.payment",
    ),
    Case(
        "discriminator-property-changed",
        lambda d: prop(d, "OrderInput", "payment")["discriminator"].update(propertyName="kind"),
        CREATE,
        field="body.payment",
    ),
    # -- responses
    Case(
        "response-status-removed",
        lambda d: op(d, "/orders", "post")["responses"].pop("201"),
        CREATE,
        status="201",
    ),
    Case(
        "response-error-status-removed",
        lambda d: op(d, "/orders/{id}", "get")["responses"].pop("404"),
        ORDER_GET,
        status="404",
    ),
    Case(
        "response-status-added",
        lambda d: op(d, "/orders/{id}", "get")["responses"].update({"410": {"description": "x"}}),
        ORDER_GET,
        status="410",
    ),
    Case(
        "response-media-type-removed",
        lambda d: op(d, "/orders/{id}", "get")["responses"]["200"].update(
            content={"text/csv": {"schema": {"type": "string"}}}
        ),
        ORDER_GET,
        status="200",
        reversible=False,
    ),
    Case(
        "response-body-schema-removed",
        lambda d: op(d, "/notes", "post")["responses"]["200"]["content"]["application/json"].pop(
            "schema"
        ),
        "POST /notes",
        status="200",
    ),
    Case(
        "response-header-removed",
        lambda d: op(d, "/orders", "get")["responses"]["200"]["headers"].pop("X-Request-Id"),
        LIST,
        status="200",
        field="header X-Request-Id",
    ),
    Case(
        "response-optional-header-removed",
        lambda d: op(d, "/orders", "get")["responses"]["200"]["headers"].pop("X-Remaining"),
        LIST,
        status="200",
        field="header X-Remaining",
    ),
    Case(
        "response-header-became-optional",
        lambda d: op(d, "/orders", "get")["responses"]["200"]["headers"]["X-Request-Id"].pop(
            "required"
        ),
        LIST,
        status="200",
        field="header X-Request-Id",
    ),
    Case(
        "response-header-added",
        lambda d: op(d, "/orders", "get")["responses"]["200"]["headers"].update(
            {"X-Trace": {"schema": {"type": "string"}}}
        ),
        LIST,
        status="200",
        field="header X-Trace",
    ),
    Case(
        "response-property-removed",
        lambda d: (
            S(d, "Order")["properties"].pop("total"),
            S(d, "Order")["required"].remove("total"),
        ),
        CREATE,
        status="201",
        field="body.total",
    ),
    Case(
        "response-optional-property-removed",
        lambda d: S(d, "Order")["properties"].pop("note"),
        CREATE,
        status="201",
        field="body.note",
    ),
    Case(
        "response-property-became-optional",
        lambda d: S(d, "Order")["required"].remove("total"),
        CREATE,
        status="201",
        field="body.total",
    ),
    Case(
        "response-property-became-write-only",
        lambda d: prop(d, "Order", "secret").update(writeOnly=True),
        CREATE,
        status="201",
        field="body.secret",
        level=Level.WARNING,  # optional: clients already cope with its absence
    ),
    Case(
        "response-property-became-nullable",
        lambda d: prop(d, "Order", "id").update(type=["string", "null"]),
        CREATE,
        status="201",
        field="body.id",
    ),
    Case(
        "response-property-added",
        lambda d: S(d, "Order")["properties"].update(memo={"type": "string"}),
        CREATE,
        status="201",
        field="body.memo",
    ),
    Case(
        "response-type-changed",
        lambda d: prop(d, "Order", "total").update(type="number"),
        CREATE,
        status="201",
        field="body.total",
    ),
    Case(
        "response-type-narrowed",
        lambda d: prop(d, "Order", "amount").update(type="integer"),
        CREATE,
        status="201",
        field="body.amount",
    ),
    Case(
        "response-format-changed",
        lambda d: prop(d, "Order", "placedAt").update(format="date"),
        CREATE,
        status="201",
        field="body.placedAt",
        reversible=False,
    ),
    Case(
        "response-enum-value-added",
        lambda d: prop(d, "Order", "status")["enum"].append("archived"),
        CREATE,
        status="201",
        field="body.status",
    ),
    Case(
        "response-const-changed",
        lambda d: prop(d, "Order", "object").update(const="sales_order"),
        CREATE,
        status="201",
        field="body.object",
        reversible=False,  # either way breaks
    ),
    Case(
        "response-enum-value-removed",
        lambda d: prop(d, "Order", "status").update(enum=["open"]),
        CREATE,
        status="201",
        field="body.status",
    ),
    Case(
        "response-min-decreased",
        lambda d: prop(d, "Order", "total").update(minimum=-100),
        CREATE,
        status="201",
        field="body.total",
    ),
    Case(
        "response-max-increased",
        lambda d: prop(d, "Order", "total").pop("maximum"),
        CREATE,
        status="201",
        field="body.total",
    ),
    Case(
        "response-pattern-removed",
        lambda d: prop(d, "Order", "id").pop("pattern"),
        CREATE,
        status="201",
        field="body.id",
    ),
    Case(
        "response-pattern-changed",
        lambda d: prop(d, "Order", "id").update(pattern="^SO-[0-9A-F]+$"),
        CREATE,
        status="201",
        field="body.id",
    ),
    Case(
        "response-multiple-of-changed",
        lambda d: prop(d, "Order", "amount").pop("multipleOf"),
        CREATE,
        status="201",
        field="body.amount",
    ),
    Case(
        "response-unique-items-removed",
        lambda d: prop(d, "Order", "tags").pop("uniqueItems"),
        CREATE,
        status="201",
        field="body.tags",
    ),
    Case(
        "response-additional-properties-allowed",
        lambda d: S(d, "Order").pop("additionalProperties"),
        CREATE,
        status="201",
        field="body",
    ),
    Case(
        "response-default-changed",
        lambda d: prop(d, "Order", "level").update(default=2),
        CREATE,
        status="201",
        field="body.level",
    ),
    Case(
        "response-keyword-removed",
        lambda d: prop(d, "Order", "extra").pop("not"),
        CREATE,
        status="201",
        field="body.extra",
    ),
    Case(
        "response-keyword-changed",
        lambda d: prop(d, "Order", "doc").update(contentMediaType="text/csv"),
        CREATE,
        status="201",
        field="body.doc",
    ),
    Case(
        "response-union-member-added",
        lambda d: (
            S(d, "Order")["properties"]["customer"]["anyOf"].append(_ref("DeletedCustomer")),
            S(d, "Order")["properties"]["customer"]["anyOf"].__setitem__(0, {"type": "string"}),
            d["components"]["schemas"].update(
                DeletedCustomer={
                    "type": "object",
                    "required": ["deleted"],
                    "properties": {"deleted": {"const": True}},
                }
            ),
        ),
        CREATE,
        status="201",
        field="body.customer",
    ),
    Case(
        "response-union-member-removed",
        lambda d: prop(d, "Order", "customer").update(anyOf=[_ref("Customer")]),
        CREATE,
        status="201",
        field="body.customer",
    ),
    Case(
        "response-discriminator-mapping-added",
        lambda d: prop(d, "Order", "payment")["discriminator"]["mapping"].update(
            wallet="#/components/schemas/Card"
        ),
        CREATE,
        status="201",
        field="body.payment",
    ),
]

# Kinds that need a pair of their own below (they compare things the shop lacks).
COVERED_ELSEWHERE: set[str] = set()


def run(old: Doc, new: Doc, policy: Lifecycle = POLICY) -> list[Finding]:
    return diff_documents(
        document_from_data(old, "old.yaml"), document_from_data(new, "new.yaml"), policy
    )


def pair(case: Case) -> tuple[Doc, Doc]:
    old, new = base(), base()
    case.change(new)
    return old, new


def _shows_in(finding: Finding, operation: str | None) -> bool:
    loc = finding.location
    if operation is None:
        return loc.method is None or loc.path is None or loc.path.startswith("webhook:")
    here = f"{(loc.method or '').upper()} {loc.path}"
    return here == operation or operation in finding.reaches


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_each_kind_is_reported_with_its_id_level_and_place(case: Case) -> None:
    old, new = pair(case)
    found = run(old, new, case.policy)
    mine = [f for f in found if f.id == case.kind]
    assert mine, f"{case.kind} not reported; got {sorted({f.id for f in found})}"
    finding = next((f for f in mine if _shows_in(f, case.operation)), None)
    assert finding is not None, [(f.location, f.reaches) for f in mine]
    assert finding.level == (case.level or CATALOG[case.kind].level)
    if case.status is not None:
        assert finding.location.status == case.status
    if case.field is not None:
        assert finding.location.field == case.field, finding.location
    assert finding.location.pointer is not None


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_unchanged_and_reversed_pairs_do_not_raise_it(case: Case) -> None:
    old, new = pair(case)
    assert run(old, copy.deepcopy(old), case.policy) == []
    assert run(new, copy.deepcopy(new), case.policy) == []
    if case.reversible:
        reversed_errors = [
            f for f in run(new, old, case.policy) if f.id == case.kind and f.level == Level.ERROR
        ]
        assert reversed_errors == []


def test_every_diff_kind_has_a_minimal_pair() -> None:
    diff_kinds = {k for k, kind in CATALOG.items() if kind.command == "diff"}
    tested = {c.kind for c in CASES} | COVERED_ELSEWHERE
    assert sorted(diff_kinds - tested) == []


def test_every_kind_has_an_example_and_a_summary() -> None:
    for kind in CATALOG.values():
        assert kind.summary.endswith("."), kind.id
        if kind.command == "diff":
            assert kind.example, kind.id
