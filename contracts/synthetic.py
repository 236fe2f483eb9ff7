"""Large, realistic OpenAPI documents made deterministically, for tests and benchmarks.

:func:`generate_document` builds a document of about the requested size: per
resource, a CRUD path pair, shared parameters and responses, ~9 component
schemas with ``allOf`` inheritance, a ``oneOf``, enums, formats and bounds, a
self-recursive tree, and a ``$ref`` chain several levels deep. A 5 MB document
has about 1,100 resources, 5,500 operations and 13,000 schemas.
:func:`modify_document` applies a known set of changes to a copy, and
:func:`pact_for` writes a V4 pact of a consumer that uses some operations.
No randomness: the same arguments give the same bytes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

Doc = dict[str, Any]

CHAIN_DEPTH = 6
_BYTES_PER_RESOURCE = 4575


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _resource_schemas(i: int) -> dict[str, Any]:
    r = f"Res{i}"
    chain = {
        f"{r}Chain{d}": {
            "type": "object",
            "properties": {
                "level": {"type": "integer", "minimum": 0},
                "label": {"type": "string", "maxLength": 40 + d},
                "next": _ref(f"{r}Chain{d + 1}")
                if d + 1 < CHAIN_DEPTH
                else {"type": "string", "format": "uuid"},
            },
        }
        for d in range(CHAIN_DEPTH)
    }
    return {
        f"{r}Status": {"type": "string", "enum": ["draft", "active", "suspended", "closed"]},
        f"{r}Item": {
            "type": "object",
            "required": ["sku", "quantity"],
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z0-9-]{3,32}$"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                "unitPrice": {"type": "number", "minimum": 0},
                "description": {"type": "string", "maxLength": 500, "nullable": True},
            },
        },
        f"{r}Tree": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": _ref(f"{r}Tree")},
                "parent": _ref(f"{r}Tree"),
            },
        },
        f"{r}Input": {
            "type": "object",
            "required": ["name", "currency"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "JPY"]},
                "externalId": {"type": "string"},
                "items": {"type": "array", "minItems": 1, "items": _ref(f"{r}Item")},
                "payment": {
                    "oneOf": [
                        {"type": "object", "properties": {"card": {"type": "string"}}},
                        {"type": "object", "properties": {"iban": {"type": "string"}}},
                    ]
                },
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
            },
        },
        r: {
            "allOf": [
                _ref("AuditedEntity"),
                {
                    "type": "object",
                    "required": ["id", "status", "total", "legacyCode"],
                    "properties": {
                        "id": {"type": "string", "pattern": f"^R{i}-[0-9]+$"},
                        "name": {"type": "string"},
                        "status": _ref(f"{r}Status"),
                        "total": {"type": "number"},
                        "items": {"type": "array", "items": _ref(f"{r}Item")},
                        "tree": _ref(f"{r}Tree"),
                        "detail": _ref(f"{r}Chain0"),
                        "createdAt": {"type": "string", "format": "date-time"},
                        "legacyCode": {"type": "string"},
                    },
                },
            ]
        },
        f"{r}Page": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {"type": "array", "items": _ref(r)},
                "next": {"type": "string", "nullable": True},
            },
        },
        **chain,
    }


def _resource_paths(i: int) -> dict[str, Any]:
    r = f"Res{i}"
    errors = {
        "400": {"$ref": "#/components/responses/BadRequest"},
        "404": {"$ref": "#/components/responses/NotFound"},
    }
    item_param = {"$ref": "#/components/parameters/Id"}
    return {
        f"/res{i}": {
            "get": {
                "operationId": f"list{r}",
                "parameters": [
                    {"$ref": "#/components/parameters/Limit"},
                    {"name": "status", "in": "query", "schema": _ref(f"{r}Status")},
                ],
                "responses": {"200": {"description": "A page", "content": _json(f"{r}Page")}}
                | {"400": errors["400"]},
            },
            "post": {
                "operationId": f"create{r}",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": True, "content": _json(f"{r}Input")},
                "responses": {"201": {"description": "Created", "content": _json(r)}}
                | {"400": errors["400"]},
            },
        },
        f"/res{i}/{{id}}": {
            "parameters": [item_param],
            "get": {
                "operationId": f"get{r}",
                "responses": {"200": {"description": "Found", "content": _json(r)}} | errors,
            },
            "put": {
                "operationId": f"replace{r}",
                "requestBody": {"required": True, "content": _json(f"{r}Input")},
                "responses": {"200": {"description": "Replaced", "content": _json(r)}} | errors,
            },
            "delete": {
                "operationId": f"delete{r}",
                "responses": {"204": {"description": "Deleted"}} | errors,
            },
        },
    }


def generate_document(target_bytes: int = 5_000_000, version: str = "3.0.3") -> Doc:
    """A deterministic document of about ``target_bytes`` as compact JSON.

    Args:
        target_bytes: Approximate size of ``json.dumps(document)``.
        version: The ``openapi`` version to declare.

    Returns:
        The document.
    """
    count = max(1, target_bytes // _BYTES_PER_RESOURCE)
    schemas: dict[str, Any] = {
        "AuditedEntity": {
            "type": "object",
            "required": ["createdBy"],
            "properties": {"createdBy": {"type": "string"}, "version": {"type": "integer"}},
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
    }
    paths: dict[str, Any] = {}
    for i in range(count):
        schemas.update(_resource_schemas(i))
        paths.update(_resource_paths(i))
    error = {"content": _json("Error")}
    return {
        "openapi": version,
        "info": {"title": "Synthetic ERP", "version": "1.0.0"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "security": [{"oauth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://api.example.com/token",
                            "scopes": {},
                        }
                    },
                }
            },
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "maxLength": 255},
                },
            },
            "responses": {
                "BadRequest": {"description": "Bad request"} | error,
                "NotFound": {"description": "Not found"} | error,
            },
            "schemas": schemas,
        },
    }


def resource_count(document: Doc) -> int:
    """How many resources a generated document has.

    Args:
        document: A document from :func:`generate_document`.

    Returns:
        The number of ``/res{i}`` collections.
    """
    return sum(1 for path in document["paths"] if "{" not in path)


def modify_document(document: Doc, every: int = 50) -> tuple[Doc, dict[str, int]]:
    """A copy with known changes in every ``every``-th resource.

    Changes per touched resource ``i`` (cycled by ``i // every % 5``): 0 removes
    ``legacyCode`` from the response; 1 makes ``externalId`` required in the
    input; 2 removes ``suspended`` from the status enum used in a request query
    and responses; 3 changes the chain's last ``format``; 4 removes the
    ``delete`` operation.

    Args:
        document: A generated document.
        every: Touch one resource in this many.

    Returns:
        The modified copy and how many resources got each change.
    """
    new = copy.deepcopy(document)
    schemas = new["components"]["schemas"]
    counts = {"legacy": 0, "required": 0, "enum": 0, "format": 0, "delete": 0}
    for i in range(0, resource_count(document), every):
        kind = (i // every) % 5
        r = f"Res{i}"
        if kind == 0:
            del schemas[r]["allOf"][1]["properties"]["legacyCode"]
            counts["legacy"] += 1
        elif kind == 1:
            schemas[f"{r}Input"]["required"].append("externalId")
            counts["required"] += 1
        elif kind == 2:
            schemas[f"{r}Status"]["enum"].remove("suspended")
            counts["enum"] += 1
        elif kind == 3:
            schemas[f"{r}Chain{CHAIN_DEPTH - 1}"]["properties"]["next"]["format"] = "uri"
            counts["format"] += 1
        else:
            del new["paths"][f"/res{i}/{{id}}"]["delete"]
            counts["delete"] += 1
    return new, counts


def pact_for(document: Doc, every: int = 25, consumer: str = "synthetic-consumer") -> Doc:
    """A V4 pact of a consumer that creates and reads every ``every``-th resource.

    Args:
        document: A generated document.
        every: Use one resource in this many.
        consumer: The consumer's name (the provider is ``synthetic``).

    Returns:
        The pact as JSON data.
    """
    interactions = []
    type_rule = {"matchers": [{"match": "type"}]}
    for i in range(0, resource_count(document), every):
        body = {
            "name": "widget",
            "currency": "EUR",
            "items": [{"sku": "ABC-1", "quantity": 2}],
        }
        response = {"id": f"R{i}-1", "status": "active", "total": 12.5, "legacyCode": "L1"}
        interactions.append(_http(f"create resource {i}", "POST", f"/res{i}", 201, body, response))
        interactions.append(
            _http(f"get resource {i}", "GET", f"/res{i}/R{i}-1", 200, None, response)
        )
        interactions[-1]["response"]["matchingRules"] = {"body": {"$.status": type_rule}}
    return {
        "consumer": {"name": consumer},
        "provider": {"name": "synthetic"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


def _http(
    description: str, method: str, path: str, status: int, body: Any, response: Any
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "path": path}
    if body is not None:
        request["body"] = {"content": body, "contentType": "application/json", "encoded": False}
        request["headers"] = {"Content-Type": ["application/json"]}
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "request": request,
        "response": {
            "status": status,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": response, "contentType": "application/json", "encoded": False},
        },
    }


def dump(document: Doc) -> str:
    """Serialise as compact, key-ordered JSON (deterministic bytes).

    Args:
        document: Any JSON data.

    Returns:
        The JSON text.
    """
    return json.dumps(document, separators=(",", ":"), sort_keys=True)
