"""``contracts diff``: each change kind on a minimal pair of documents.

Every case asserts the exact identifier, level and location; the unchanged
documents yield nothing, and where the change is one-directional the reversed
pair yields no ``error``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts.diff import diff_documents
from contracts.findings import CATALOG, Finding, Level
from contracts.loader import document_from_data

Doc = dict[str, Any]


def base(version: str = "3.0.3") -> Doc:
    """A small document: create and get orders, with shared component schemas."""
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/OrderInput"}}}
    order = {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "parameters": [
                        {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}}
                    ],
                    "requestBody": {"content": json_body},
                    "responses": {
                        "201": {"description": "created", "content": order},
                        "422": {"description": "rejected", "content": error},
                    },
                }
            },
            "/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": order},
                        "404": {"description": "missing", "content": error},
                    },
                },
                "delete": {
                    "operationId": "deleteOrder",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"204": {"description": "gone"}},
                },
            },
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            "schemas": {
                "OrderInput": {
                    "type": "object",
                    "required": ["sku"],
                    "properties": {
                        "sku": {"type": "string", "minLength": 1},
                        "quantity": {"type": "number", "maximum": 100},
                        "channel": {"type": "string", "enum": ["web", "partner"]},
                        "note": {"type": "string"},
                    },
                },
                "Order": {
                    "type": "object",
                    "required": ["id", "status", "total"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "done"]},
                        "total": {"type": "integer"},
                        "placedAt": {"type": "string", "format": "date-time"},
                        "note": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }


def schemas(doc: Doc) -> Doc:
    return doc["components"]["schemas"]  # type: ignore[no-any-return]


def post(doc: Doc) -> Doc:
    return doc["paths"]["/orders"]["post"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Case:
    kind: str
    change: Callable[[Doc], None]
    path: str
    method: str | None
    status: str | None = None
    field: str | None = None
    reversible: bool = True
    level: Level | None = None


def _del(d: Doc, *keys: str) -> None:
    for key in keys[:-1]:
        d = d[key]
    del d[keys[-1]]


CASES = [
    Case("path-removed", lambda d: _del(d, "paths", "/orders/{id}"), "/orders/{id}", None),
    Case(
        "operation-removed",
        lambda d: _del(d, "paths", "/orders/{id}", "delete"),
        "/orders/{id}",
        "delete",
    ),
    Case(
        "response-status-removed",
        lambda d: _del(d, "paths", "/orders/{id}", "get", "responses", "404"),
        "/orders/{id}",
        "get",
        "404",
    ),
    Case(
        "request-parameter-added-required",
        lambda d: post(d)["parameters"].append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "/orders",
        "post",
        field="query region",
    ),
    Case(
        "request-parameter-became-required",
        lambda d: post(d)["parameters"][0].update(required=True),
        "/orders",
        "post",
        field="query dryRun",
    ),
    Case(
        "request-property-added-required",
        lambda d: (
            schemas(d)["OrderInput"]["properties"].update(region={"type": "string"}),
            schemas(d)["OrderInput"]["required"].append("region"),
        ),
        "/orders",
        "post",
        field="body.region",
    ),
    Case(
        "request-property-became-required",
        lambda d: schemas(d)["OrderInput"]["required"].append("note"),
        "/orders",
        "post",
        field="body.note",
    ),
    Case(
        "request-body-became-required",
        lambda d: post(d)["requestBody"].update(required=True),
        "/orders",
        "post",
        field="body",
    ),
    Case(
        "request-type-narrowed",
        lambda d: schemas(d)["OrderInput"]["properties"]["quantity"].update(type="integer"),
        "/orders",
        "post",
        field="body.quantity",
    ),
    Case(
        "request-format-changed",
        lambda d: schemas(d)["OrderInput"]["properties"]["sku"].update(format="uuid"),
        "/orders",
        "post",
        field="body.sku",
    ),
    Case(
        "request-enum-value-removed",
        lambda d: schemas(d)["OrderInput"]["properties"]["channel"].update(enum=["web"]),
        "/orders",
        "post",
        field="body.channel",
    ),
    Case(
        "request-min-increased",
        lambda d: schemas(d)["OrderInput"]["properties"]["sku"].update(minLength=3),
        "/orders",
        "post",
        field="body.sku",
    ),
    Case(
        "request-max-decreased",
        lambda d: schemas(d)["OrderInput"]["properties"]["quantity"].update(maximum=10),
        "/orders",
        "post",
        field="body.quantity",
    ),
    Case(
        "response-type-changed",
        lambda d: schemas(d)["Order"]["properties"]["total"].update(type="number"),
        "/orders/{id}",
        "get",
        "200",
        "body.total",
    ),
    Case(
        "response-format-changed",
        lambda d: schemas(d)["Order"]["properties"]["placedAt"].update(format="date"),
        "/orders/{id}",
        "get",
        "200",
        "body.placedAt",
        reversible=False,
    ),
    Case(
        "response-property-removed",
        lambda d: _del(d, "components", "schemas", "Order", "properties", "note"),
        "/orders/{id}",
        "get",
        "200",
        "body.note",
    ),
    Case(
        "response-property-became-optional",
        lambda d: schemas(d)["Order"].update(required=["id", "status"]),
        "/orders/{id}",
        "get",
        "200",
        "body.total",
    ),
    Case(
        "response-property-became-nullable",
        lambda d: schemas(d)["Order"]["properties"]["id"].update(nullable=True),
        "/orders/{id}",
        "get",
        "200",
        "body.id",
    ),
    Case(
        "response-enum-value-added",
        lambda d: schemas(d)["Order"]["properties"]["status"]["enum"].append("archived"),
        "/orders/{id}",
        "get",
        "200",
        "body.status",
    ),
    Case(
        "operation-id-changed",
        lambda d: d["paths"]["/orders/{id}"]["get"].update(operationId="readOrder"),
        "/orders/{id}",
        "get",
        reversible=False,
    ),
    Case(
        "security-requirement-added",
        lambda d: d.update(security=[{"key": []}]),
        "/orders",
        "post",
    ),
    Case(
        "request-media-type-removed",
        lambda d: post(d)["requestBody"].update(
            content={"application/xml": {"schema": {"type": "string"}}}
        ),
        "/orders",
        "post",
        reversible=False,
    ),
    Case(
        "response-media-type-removed",
        lambda d: d["paths"]["/orders/{id}"]["get"]["responses"]["200"].update(
            content={"text/csv": {"schema": {"type": "string"}}}
        ),
        "/orders/{id}",
        "get",
        "200",
        reversible=False,
    ),
]


def run(old: Doc, new: Doc) -> list[Finding]:
    return diff_documents(document_from_data(old, "old.yaml"), document_from_data(new, "new.yaml"))


def pair(case: Case) -> tuple[Doc, Doc]:
    old, new = base(), base()
    case.change(new)
    return old, new


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_change_kind_is_reported_with_its_id_level_and_location(case: Case) -> None:
    old, new = pair(case)
    found = [f for f in run(old, new) if f.id == case.kind and f.location.path == case.path]
    assert found, f"{case.kind} not reported; got {[f.id for f in run(old, new)]}"
    finding = found[0]
    assert finding.level == (case.level or CATALOG[case.kind].level)
    assert finding.location.method == case.method
    assert finding.location.status == case.status
    if case.field is not None:
        assert finding.location.field == case.field
    assert finding.location.pointer is not None


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_unchanged_and_reversed_pairs_report_no_error(case: Case) -> None:
    old, new = pair(case)
    assert run(old, copy.deepcopy(old)) == []
    assert run(new, copy.deepcopy(new)) == []
    if case.reversible:
        assert [f.id for f in run(new, old) if f.level == Level.ERROR] == []


def test_expected_levels_match_the_issue() -> None:
    assert CATALOG["response-enum-value-added"].level == Level.WARNING
    assert CATALOG["operation-id-changed"].level == Level.WARNING
    assert CATALOG["response-property-removed"].level == Level.ERROR
    assert CATALOG["request-enum-value-added"].level == Level.INFO


def test_openapi_31_type_arrays_and_null() -> None:
    old, new = base("3.1.0"), base("3.1.0")
    schemas(new)["Order"]["properties"]["id"]["type"] = ["string", "null"]
    schemas(new)["OrderInput"]["properties"]["note"]["type"] = ["string", "null"]
    found = {(f.id, f.location.field) for f in run(old, new)}
    assert ("response-property-became-nullable", "body.id") in found
    assert not any(f.level == Level.ERROR for f in run(new, new))
    assert ("request-type-narrowed", "body.note") in {
        (f.id, f.location.field) for f in run(new, old)
    }


def test_changes_inside_allof_oneof_anyof_are_found() -> None:
    old, new = base(), base()
    for doc in (old, new):
        schemas(doc)["Audited"] = {
            "type": "object",
            "required": ["createdBy"],
            "properties": {"createdBy": {"type": "string"}},
        }
        schemas(doc)["Order"] = {
            "allOf": [{"$ref": "#/components/schemas/Audited"}, schemas(doc)["Order"]]
        }
        schemas(doc)["OrderInput"]["properties"]["payment"] = {
            "oneOf": [
                {"type": "object", "properties": {"card": {"type": "string"}}},
                {"type": "object", "properties": {"iban": {"type": "string"}}},
            ]
        }
        schemas(doc)["OrderInput"]["properties"]["tag"] = {
            "anyOf": [{"type": "string"}, {"type": "integer"}]
        }
    _del(new, "components", "schemas", "Audited", "properties", "createdBy")
    new_payment = schemas(new)["OrderInput"]["properties"]["payment"]["oneOf"][1]
    new_payment["properties"]["iban"]["maxLength"] = 22
    schemas(new)["OrderInput"]["properties"]["tag"]["anyOf"] = [{"type": "string"}]
    found = {(f.id, f.location.field) for f in run(old, new)}
    assert ("response-property-removed", "body.createdBy") in found
    assert ("request-max-decreased", "body.payment.iban") in found
    assert ("request-type-narrowed", "body.tag") in found


def test_recursive_schemas_terminate_and_changes_deep_inside_are_found() -> None:
    old, new = base(), base()
    for doc in (old, new):
        schemas(doc)["Node"] = {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"$ref": "#/components/schemas/Node"},
            },
        }
        schemas(doc)["Order"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}
    schemas(new)["Node"]["required"] = []
    found = {(f.id, f.location.field) for f in run(old, new)}
    assert ("response-property-became-optional", "body.tree.name") in found


def test_path_parameter_renamed_is_the_same_path() -> None:
    old, new = base(), base()
    item = new["paths"].pop("/orders/{id}")
    for op in item.values():
        op["parameters"][0]["name"] = "orderId"
    new["paths"]["/orders/{orderId}"] = item
    assert [f for f in run(old, new) if f.level != Level.INFO] == []


def test_findings_are_sorted_and_deterministic() -> None:
    old, new = base(), base()
    for case in CASES[3:12]:
        case.change(new)
    first = run(old, new)
    assert first == run(copy.deepcopy(old), copy.deepcopy(new))
    assert first == sorted(first, key=Finding.sort_key)
