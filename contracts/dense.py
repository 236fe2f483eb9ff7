"""Densely cross-referenced OpenAPI documents in the shape of Stripe's, made deterministically.

Real payment APIs are not trees. Every object links to others through *expandable*
fields (``customer: anyOf: [string, $ref customer]``: an id, or the object itself
when the client asks to expand it), so a few hundred schemas form one strongly
connected group in which every schema reaches every other. Requests are forms
(``application/x-www-form-urlencoded``) with inline schemas, ``metadata`` maps and
``anyOf: [object, enum [""]]`` fields that a client empties with ``""``.
:func:`generate` builds such a document of about the requested size; references
are drawn from a seeded splitmix64 stream (no global randomness), so the same
arguments give the same bytes. :func:`plant` applies known changes and returns
what ``diff`` must find; :func:`form_pact` writes a V4 pact of a client that uses
some operations with form bodies.

The real documents are not copied here: this module only reproduces their shape.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]
_BYTES_PER_RESOURCE = 7400
_PROSE = (
    "the object reference that identifies a ledger entry for a customer account with "
    "currency amount status created metadata and its links to invoices charges refunds "
    "subscriptions payouts disputes and balance transactions in live or test mode"
)
_WORDS = tuple(_PROSE.split())


class _Dice:
    """splitmix64: small, fast, and the same on every machine."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def words(self, count: int) -> str:
        return " ".join(_WORDS[self.below(len(_WORDS))] for _ in range(count)).capitalize() + "."


def _ref(name: str) -> Doc:
    return {"$ref": f"#/components/schemas/{name}"}


def _expandable(target: str, dice: _Dice) -> Doc:
    return {
        "anyOf": [{"maxLength": 5000, "type": "string"}, _ref(target)],
        "description": dice.words(12),
        "nullable": True,
        "x-expansionResources": {"oneOf": [_ref(target)]},
    }


def _scalars(i: int, dice: _Dice) -> dict[str, Doc]:
    return {
        "amount": {"type": "integer", "description": dice.words(10)},
        "currency": {"type": "string", "maxLength": 5000, "description": dice.words(8)},
        "status": {
            "type": "string",
            "enum": ["draft", "open", "paid", "uncollectible", "void"],
            "description": dice.words(10),
        },
        "description": {"type": "string", "maxLength": 5000, "nullable": True},
        "count": {"type": "integer", "minimum": 0, "maximum": 1000},
        "rate": {"type": "number", "nullable": True, "description": dice.words(6)},
        f"field_{i % 7}": {"type": "boolean", "description": dice.words(6)},
    }


def _resource(i: int, names: list[str], dice: _Dice) -> Doc:
    links: dict[str, Doc] = {}
    for k in range(3 + dice.below(4)):
        target = names[dice.below(len(names))] if k else names[i]  # k == 0: a self link
        links[f"link_{k}"] = _expandable(target, dice)
    target = names[dice.below(len(names))]
    links["items"] = {
        "type": "object",
        "required": ["data", "has_more", "object", "url"],
        "properties": {
            "data": {"type": "array", "items": _ref(target)},
            "has_more": {"type": "boolean"},
            "object": {"type": "string", "enum": ["list"]},
            "url": {"type": "string", "maxLength": 5000, "pattern": f"^/v1/{names[i]}s"},
        },
    }
    return {
        "type": "object",
        "title": names[i].replace("_", " ").title(),
        "description": dice.words(30),
        "required": ["id", "object", "created", "livemode", "amount", "status"],
        "properties": {
            "id": {"type": "string", "maxLength": 5000, "description": dice.words(5)},
            "object": {"type": "string", "enum": [names[i]]},
            "created": {"type": "integer", "format": "unix-time"},
            "livemode": {"type": "boolean"},
            "metadata": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 500},
                "nullable": True,
            },
            **_scalars(i, dice),
            **links,
        },
        "x-resourceId": names[i],
    }


def _deleted(name: str) -> Doc:
    return {
        "type": "object",
        "required": ["deleted", "id", "object"],
        "properties": {
            "deleted": {"type": "boolean", "enum": [True]},
            "id": {"type": "string", "maxLength": 5000},
            "object": {"type": "string", "enum": [name]},
        },
    }


def _form(i: int, dice: _Dice, required: list[str]) -> Doc:
    return {
        "application/x-www-form-urlencoded": {
            "encoding": {"metadata": {"explode": True, "style": "deepObject"}},
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "required": required,
                "properties": {
                    "amount": {"type": "integer"},
                    "currency": {"type": "string", "maxLength": 5000},
                    "description": {"type": "string", "maxLength": 5000},
                    "status": {"type": "string", "enum": ["draft", "open"]},
                    "expand": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
                    "metadata": {
                        "anyOf": [
                            {"type": "object", "additionalProperties": {"type": "string"}},
                            {"type": "string", "enum": [""]},
                        ]
                    },
                    "shipping": {
                        "anyOf": [
                            {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string", "maxLength": 5000},
                                    "phone": {"type": "string", "maxLength": 5000},
                                    "line1": {"type": "string", "maxLength": 5000},
                                },
                            },
                            {"type": "string", "enum": [""]},
                        ],
                        "description": dice.words(8),
                    },
                    f"option_{i % 5}": {"type": "boolean"},
                },
            },
        }
    }


def _json(schema: Doc) -> Doc:
    return {"application/json": {"schema": schema}}


def _paths(i: int, names: list[str], dice: _Dice) -> dict[str, Doc]:
    name = names[i]
    error = {"default": {"description": "Error", "content": _json(_ref("error"))}}
    expand = {
        "name": "expand",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
    }
    item = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    one = {"200": {"description": "OK", "content": _json(_ref(name))}} | error
    either = {
        "200": {
            "description": "OK",
            "content": _json({"anyOf": [_ref(name), _ref(f"deleted_{name}")]}),
        }
    } | error
    return {
        f"/v1/{name}s": {
            "get": {
                "operationId": f"Get{name}s",
                "description": dice.words(20),
                "parameters": [
                    expand,
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "starting_after", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["data", "has_more", "object", "url"],
                                "properties": {
                                    "data": {"type": "array", "items": _ref(name)},
                                    "has_more": {"type": "boolean"},
                                    "object": {"type": "string", "enum": ["list"]},
                                    "url": {"type": "string", "maxLength": 5000},
                                },
                            }
                        ),
                    }
                }
                | error,
            },
            "post": {
                "operationId": f"Post{name}s",
                "requestBody": {"required": True, "content": _form(i, dice, ["amount"])},
                "responses": one,
            },
        },
        f"/v1/{name}s/{{{name}}}": {
            "get": {
                "operationId": f"Get{name}",
                "parameters": [expand, item],
                "responses": either if i % 5 == 0 else one,
            },
            "post": {
                "operationId": f"Post{name}",
                "parameters": [item],
                "requestBody": {"content": _form(i, dice, [])},
                "responses": one,
            },
            "delete": {
                "operationId": f"Delete{name}",
                "parameters": [item],
                "responses": {
                    "200": {"description": "OK", "content": _json(_ref(f"deleted_{name}"))}
                }
                | error,
            },
        },
    }


def generate(target_bytes: int = 5_000_000, seed: int = 7) -> Doc:
    """A deterministic, densely cross-referenced document of about ``target_bytes``.

    Args:
        target_bytes: Approximate size as compact JSON.
        seed: Seeds the links between schemas.

    Returns:
        The document: ``n`` resources, each with a deleted variant, five operations,
        and 4 to 7 links to random resources (one of them to itself).
    """
    dice = _Dice(seed)
    count = max(3, target_bytes // _BYTES_PER_RESOURCE)
    names = [f"res{i}" for i in range(count)]
    schemas: Doc = {
        "error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "object", "properties": {"message": {"type": "string"}}}
            },
        }
    }
    paths: Doc = {}
    for i in range(count):
        schemas[names[i]] = _resource(i, names, dice)
        schemas[f"deleted_{names[i]}"] = _deleted(names[i])
        paths.update(_paths(i, names, dice))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Dense payments API", "version": "2026-11-01"},
        "servers": [{"url": "https://api.example.com/"}],
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@dataclass(frozen=True)
class Planted:
    """A change :func:`plant` made, and what ``diff`` must report for it.

    Attributes:
        kind: The finding identifier expected.
        pointer: The JSON pointer the finding must name.
    """

    kind: str
    pointer: str


def plant(document: Doc, every: int = 40) -> tuple[Doc, list[Planted]]:
    """A copy with one known change in every ``every``-th resource, cycling through
    eight kinds of change.

    Args:
        document: A document from :func:`generate`.
        every: Touch one resource in this many.

    Returns:
        The changed copy and the findings it must produce.
    """
    new = copy.deepcopy(document)
    schemas = new["components"]["schemas"]
    names = sorted(n for n in schemas if n.startswith("res"))
    names.sort(key=lambda n: int(n[3:]))
    planted: list[Planted] = []
    for step, index in enumerate(range(0, len(names), every)):
        name = names[index]
        at = f"/components/schemas/{name}/properties"
        form = f"/paths/~1v1~1{name}s/post/requestBody/content/application~1x-www-form-urlencoded"
        body = new["paths"][f"/v1/{name}s"]["post"]["requestBody"]["content"][
            "application/x-www-form-urlencoded"
        ]["schema"]
        kind = step % 8
        if kind == 0:
            del schemas[name]["properties"]["livemode"]
            planted.append(Planted("response-property-removed", f"{at}/livemode"))
        elif kind == 1:
            schemas[name]["properties"]["status"]["enum"].remove("uncollectible")
            planted.append(Planted("response-enum-value-removed", f"{at}/status"))
        elif kind == 2:
            body["required"].append("currency")
            planted.append(
                Planted("request-property-became-required", f"{form}/schema/properties/currency")
            )
        elif kind == 3:
            body["properties"]["description"]["maxLength"] = 350
            planted.append(
                Planted("request-max-decreased", f"{form}/schema/properties/description")
            )
        elif kind == 4:
            schemas[name]["properties"]["link_0"]["anyOf"].append(_ref(f"deleted_{name}"))
            planted.append(
                Planted("response-union-member-added", f"/components/schemas/deleted_{name}")
            )
        elif kind == 5:
            del new["paths"][f"/v1/{name}s/{{{name}}}"]["delete"]
            planted.append(Planted("operation-removed", f"/paths/~1v1~1{name}s~1{{{name}}}/delete"))
        elif kind == 6:
            schemas[name]["properties"]["amount"]["type"] = "string"
            planted.append(Planted("response-type-changed", f"{at}/amount"))
        else:
            body["properties"]["currency"]["pattern"] = "^[a-z]{3}$"
            planted.append(Planted("request-pattern-added", f"{form}/schema/properties/currency"))
    return new, planted


def form_pact(document: Doc, every: int = 25, consumer: str = "billing-client") -> Doc:
    """A V4 pact of a client that creates and reads every ``every``-th resource.

    Creation sends a form with bracketed keys (``metadata[order]=...``), as Stripe's
    clients do; reading expects the fields a client typically uses.

    Args:
        document: A document from :func:`generate`.
        every: Use one resource in this many.
        consumer: The consumer's name (the provider is ``dense``).

    Returns:
        The pact as JSON data.
    """
    names = sorted(
        (n for n in document["components"]["schemas"] if n.startswith("res")),
        key=lambda n: int(n[3:]),
    )
    interactions = []
    type_rule = {"matchers": [{"match": "type"}]}
    for name in names[::every]:
        form = "amount=2000&currency=usd&description=Seats&metadata[order]=D-42&expand[]=link_1"
        response = {
            "id": f"{name}_1",
            "object": name,
            "amount": 2000,
            "currency": "usd",
            "status": "open",
            "livemode": False,
        }
        interactions.append(
            _http(
                f"create {name} from a form",
                "POST",
                f"/v1/{name}s",
                {"content": form, "contentType": "application/x-www-form-urlencoded"},
                response,
            )
        )
        read = _http(f"get {name}", "GET", f"/v1/{name}s/{name}_1", None, response)
        read["response"]["matchingRules"] = {
            "body": {"$.id": type_rule, "$.amount": type_rule, "$.status": type_rule}
        }
        interactions.append(read)
    return {
        "consumer": {"name": consumer},
        "provider": {"name": "dense"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


def _http(description: str, method: str, path: str, body: Doc | None, response: Doc) -> Doc:
    request: Doc = {"method": method, "path": path}
    if body is not None:
        request["body"] = {**body, "encoded": False}
        request["headers"] = {"Content-Type": [body["contentType"]]}
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "request": request,
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": response, "contentType": "application/json", "encoded": False},
        },
    }
