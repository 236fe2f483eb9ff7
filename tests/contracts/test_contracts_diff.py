"""``contracts diff``: how changes are found and where they are reported.

The rule catalogue (one minimal pair per kind) is in ``test_contracts_catalogue.py``;
here: unions compared by what they accept, recursion and mutually referencing
schemas, one finding per change in a shared schema, path parameters read as text.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.diff import diff_documents
from contracts.findings import Finding, Level
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


def _del(d: Doc, *keys: str) -> None:
    for key in keys[:-1]:
        d = d[key]
    del d[keys[-1]]


def run(old: Doc, new: Doc) -> list[Finding]:
    return diff_documents(document_from_data(old, "old.yaml"), document_from_data(new, "new.yaml"))


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
    assert ("request-bound-added", "body.payment.iban") in found
    assert ("request-union-member-removed", "body.tag") in found


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
    schemas(new)["OrderInput"]["required"].append("note")
    schemas(new)["OrderInput"]["properties"]["channel"]["enum"] = ["web"]
    schemas(new)["Order"]["properties"]["status"]["enum"].append("archived")
    del schemas(new)["Order"]["properties"]["placedAt"]
    first = run(old, new)
    assert first == run(copy.deepcopy(old), copy.deepcopy(new))
    assert first == sorted(first, key=Finding.sort_key)


# -- unions: a payload valid under the old document and refused by the new one ---------------


def _with_union(doc: Doc, keyword: str, members: list[Any], where: str = "OrderInput") -> None:
    schemas(doc)[where]["properties"]["variant"] = {keyword: members}


def test_a_change_in_a_later_alternative_is_found() -> None:
    members = [
        {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "string"}}},
        {
            "type": "object",
            "properties": {"kind": {"const": "b"}, "mode": {"enum": ["on", "off"]}},
        },
    ]
    old, new = base(), base()
    _with_union(old, "anyOf", copy.deepcopy(members))
    _with_union(new, "anyOf", copy.deepcopy(members))
    schemas(new)["OrderInput"]["properties"]["variant"]["anyOf"][1]["properties"]["mode"][
        "enum"
    ] = ["on"]
    schemas(new)["OrderInput"]["properties"]["variant"]["anyOf"][1]["required"] = ["mode"]
    found = {(f.id, f.location.field) for f in run(old, new) if f.level == Level.ERROR}
    assert ("request-enum-value-removed", "body.variant.mode") in found
    assert ("request-property-became-required", "body.variant.mode") in found


def test_a_narrowing_another_alternative_still_accepts_is_not_breaking() -> None:
    old, new = base(), base()
    _with_union(old, "anyOf", [{"type": "string", "maxLength": 50}, {"type": "string"}])
    _with_union(new, "anyOf", [{"type": "string", "maxLength": 10}, {"type": "string"}])
    assert [f for f in run(old, new) if f.level == Level.ERROR] == []


def test_an_array_of_unions_turned_into_a_union_of_arrays_is_breaking() -> None:
    a = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
    b = {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}}
    old, new = base(), base()
    schemas(old)["OrderInput"]["properties"]["filters"] = {
        "type": "array",
        "items": {"oneOf": [a, b]},
    }
    schemas(new)["OrderInput"]["properties"]["filters"] = {
        "oneOf": [{"type": "array", "items": a}, {"type": "array", "items": b}]
    }
    errors = [f for f in run(old, new) if f.level == Level.ERROR]
    assert errors, "mixed arrays [a, b] were valid and no longer are"
    assert {f.location.field for f in errors} <= {"body.filters", "body.filters[]"}


def test_a_path_parameter_from_integer_to_string_is_a_widening() -> None:
    old, new = base(), base()
    for doc, kind in ((old, "integer"), (new, "string")):
        for op in doc["paths"]["/orders/{id}"].values():
            op["parameters"][0]["schema"] = {"type": kind}
    assert [f for f in run(old, new) if f.level == Level.ERROR] == []
    narrowed = {f.id for f in run(new, old)}
    assert "request-type-narrowed" in narrowed


# -- one finding per change, with the operations it reaches ---------------------------------


def test_a_change_in_a_shared_schema_is_reported_once_with_every_operation_it_reaches() -> None:
    old, new = base(), base()
    for doc in (old, new):
        schemas(doc)["Currency"] = {"type": "string", "enum": ["USD", "EUR", "GBP"]}
        schemas(doc)["Money"] = {
            "type": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"type": "integer"},
                "currency": {"$ref": "#/components/schemas/Currency"},
            },
        }
        for name in ("Order", "OrderInput", "Error"):
            schemas(doc)[name]["properties"]["price"] = {"$ref": "#/components/schemas/Money"}
            schemas(doc)[name]["properties"]["fee"] = {"$ref": "#/components/schemas/Money"}
    schemas(new)["Currency"]["enum"].remove("GBP")
    found = run(old, new)
    removed = [f for f in found if f.id == "request-enum-value-removed"]
    returned = [f for f in found if f.id == "response-enum-value-removed"]
    assert len(removed) == 1 and len(returned) == 1, found
    assert removed[0].location.pointer == "/components/schemas/Currency"
    assert removed[0].location.field == "body.fee.currency"  # the first of the shallowest paths
    assert set(returned[0].reaches) == {"GET /orders/{id}", "POST /orders"}


def test_a_group_of_mutually_referencing_schemas_is_compared_once_per_pair() -> None:
    old, new = base(), base()
    size = 40
    for doc in (old, new):
        for i in range(size):
            schemas(doc)[f"Node{i}"] = {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    **{f"to{j}": {"$ref": f"#/components/schemas/Node{j}"} for j in range(size)},
                },
            }
        schemas(doc)["Order"]["properties"]["graph"] = {"$ref": "#/components/schemas/Node0"}
    schemas(new)["Node37"]["properties"]["label"]["nullable"] = True
    found = [f for f in run(old, new) if f.id == "response-property-became-nullable"]
    assert len(found) == 1
    assert found[0].location.field == "body.graph.to37.label"
    assert found[0].location.pointer == "/components/schemas/Node37/properties/label"
