"""The gate checks values, not only shapes: examples, form bodies and union members.

Each test builds a small document and a one-interaction pact, gates it against
the document the pact was written for (it passes) and against a changed one (the
interaction fails with the finding named), so a rule that stopped working fails.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.dense import form_pact, generate, plant
from contracts.diff import diff_documents
from contracts.findings import Level
from contracts.formbody import decode
from contracts.gate import run_gate
from contracts.loader import document_from_data
from contracts.pactfile import load_pacts

Doc = dict[str, Any]
TYPE = {"matchers": [{"match": "type"}]}


def document(order: Doc, form: Doc | None = None) -> Doc:
    paths: Doc = {
        "/orders/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": order}},
                    }
                },
            }
        }
    }
    if form is not None:
        paths["/orders"] = {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/x-www-form-urlencoded": {"schema": form}},
                },
                "responses": {"201": {"description": "created"}},
            }
        }
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}


ORDER: Doc = {
    "type": "object",
    "required": ["id", "status", "total", "placed"],
    "properties": {
        "id": {"type": "string", "pattern": "^SO-[0-9]+$"},
        "status": {"type": "string", "enum": ["open", "paid"]},
        "total": {"type": "integer", "minimum": 0},
        "placed": {"type": "string", "format": "date"},
        "kind": {"const": "sale"},
    },
}
EXAMPLE = {"id": "SO-1", "status": "open", "total": 120, "placed": "2026-12-01", "kind": "sale"}


def pact(tmp_path: Path, interactions: list[Doc]) -> list[Any]:
    file = tmp_path / "pact.json"
    file.write_text(
        json.dumps(
            {
                "consumer": {"name": "c"},
                "provider": {"name": "p"},
                "interactions": interactions,
                "metadata": {"pactSpecification": {"version": "4.0"}},
            }
        )
    )
    return load_pacts([file])


def read_order(body: Doc, rules: Doc | None = None) -> Doc:
    response: Doc = {
        "status": 200,
        "headers": {"Content-Type": ["application/json"]},
        "body": {"content": body, "contentType": "application/json", "encoded": False},
    }
    if rules is not None:
        response["matchingRules"] = {"body": rules}
    return {
        "type": "Synchronous/HTTP",
        "description": "read an order",
        "request": {"method": "GET", "path": "/orders/SO-1"},
        "response": response,
    }


def gate_ids(doc: Doc, interactions: list[Any]) -> set[str]:
    report = run_gate(document_from_data(doc, "doc.json"), interactions, "p")
    return {f.id for case in report.cases for f in case.findings if f.level == Level.ERROR}


ALL_TYPES = {f"$.{k}": TYPE for k in EXAMPLE}


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("id", {"pattern": "^ORD-[0-9]+$"}),
        ("status", {"enum": ["unpaid", "paid"]}),
        ("total", {"minimum": 500}),
        ("placed", {"format": "date-time"}),
        ("kind", {"const": "lease"}),
    ],
)
def test_an_example_the_new_schema_refuses_fails_even_under_a_type_matcher(
    tmp_path: Path, field: str, change: Doc
) -> None:
    interactions = pact(tmp_path, [read_order(EXAMPLE, ALL_TYPES)])
    assert gate_ids(document(ORDER), interactions) == set()
    order = copy.deepcopy(ORDER)
    order["properties"][field].update(change)
    found = gate_ids(document(order), interactions)
    assert found, f"an example outside the new {change} passed"
    assert found <= {"pact-response-value-invalid", "pact-response-value-not-in-enum"}


def test_an_exact_value_outside_a_new_enum_is_named_as_such(tmp_path: Path) -> None:
    interactions = pact(tmp_path, [read_order(EXAMPLE)])  # no matchers: exact values
    order = copy.deepcopy(ORDER)
    order["properties"]["status"]["enum"] = ["unpaid", "paid"]
    assert "pact-response-value-not-in-enum" in gate_ids(document(order), interactions)


def test_a_field_documented_only_in_the_union_member_the_example_matches_is_found(
    tmp_path: Path,
) -> None:
    card = {
        "type": "object",
        "required": ["type", "last4"],
        "properties": {"type": {"const": "card"}, "last4": {"type": "string"}},
    }
    iban = {
        "type": "object",
        "required": ["type", "country"],
        "properties": {"type": {"const": "iban"}, "country": {"type": "string"}},
    }
    order = copy.deepcopy(ORDER)
    order["properties"]["payment"] = {"oneOf": [card, iban]}
    body = {**EXAMPLE, "payment": {"type": "iban", "country": "DE"}}
    interactions = pact(tmp_path, [read_order(body, {"$.payment.country": TYPE})])
    report = run_gate(document_from_data(document(order), "doc.json"), interactions, "p")
    about_payment = [
        f for case in report.cases for f in case.findings if "payment." in (f.location.field or "")
    ]
    assert about_payment == []  # country is documented and required in the member it matches
    renamed = copy.deepcopy(order)
    renamed["properties"]["payment"]["oneOf"][1]["properties"]["country_code"] = renamed[
        "properties"
    ]["payment"]["oneOf"][1]["properties"].pop("country")
    renamed["properties"]["payment"]["oneOf"][1]["required"] = ["type", "country_code"]
    assert gate_ids(document(renamed), interactions) & {
        "pact-response-field-missing",
        "pact-response-type-mismatch",
    }


FORM: Doc = {
    "type": "object",
    "required": ["amount", "currency"],
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "pattern": "^[a-z]{3}$"},
        "capture": {"type": "boolean"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["price"],
                "properties": {"price": {"type": "string"}, "quantity": {"type": "integer"}},
            },
        },
        "expand": {"type": "array", "items": {"type": "string"}},
    },
}
FORM_BODY = (
    "amount=2000&currency=usd&capture=true&metadata[order]=D-42"
    "&items[0][price]=p_1&items[0][quantity]=2&expand[]=customer&expand[]=invoice"
)


def create_order(body: str, content_type: str = "application/x-www-form-urlencoded") -> Doc:
    return {
        "type": "Synchronous/HTTP",
        "description": "create an order from a form",
        "request": {
            "method": "POST",
            "path": "/orders",
            "headers": {"Content-Type": [content_type]},
            "body": {"content": body, "contentType": content_type, "encoded": False},
        },
        "response": {"status": 201},
    }


def test_a_form_body_is_validated_as_the_object_it_encodes(tmp_path: Path) -> None:
    assert decode(FORM_BODY) == {
        "amount": "2000",
        "currency": "usd",
        "capture": "true",
        "metadata": {"order": "D-42"},
        "items": [{"price": "p_1", "quantity": "2"}],
        "expand": ["customer", "invoice"],
    }
    interactions = pact(tmp_path, [create_order(FORM_BODY)])
    assert gate_ids(document(ORDER, FORM), interactions) == set()
    stricter = copy.deepcopy(FORM)
    stricter["properties"]["items"]["items"]["properties"]["quantity"]["maximum"] = 1
    assert gate_ids(document(ORDER, stricter), interactions) == {"pact-request-body-invalid"}


@pytest.mark.parametrize(
    "body",
    ["amount=lots&currency=usd", "amount=5&currency=USD", "amount=5", "amount=5&currency=usd&x=1"],
)
def test_a_form_body_that_breaks_the_schema_fails(tmp_path: Path, body: str) -> None:
    interactions = pact(tmp_path, [create_order(body)])
    assert gate_ids(document(ORDER, FORM), interactions) == {"pact-request-body-invalid"}


def test_an_encoding_the_gate_cannot_read_is_a_warning_not_a_pass(tmp_path: Path) -> None:
    doc = document(ORDER, FORM)
    content = doc["paths"]["/orders"]["post"]["requestBody"]["content"]
    content["multipart/form-data"] = content.pop("application/x-www-form-urlencoded")
    interactions = pact(tmp_path, [create_order("--x\r\n", "multipart/form-data")])
    report = run_gate(document_from_data(doc, "doc.json"), interactions, "p")
    assert {f.id for f in report.cases[0].findings} == {"pact-request-body-unverified"}


# -- the dense, Stripe-shaped document: planted changes found, form pacts checked ------------


@pytest.fixture(scope="module")
def dense() -> Doc:
    return generate(700_000)


def test_every_change_planted_in_a_dense_document_is_found_once(dense: Doc) -> None:
    changed, planted = plant(dense, every=10)
    assert len(planted) >= 8
    found = diff_documents(
        document_from_data(dense, "old.json"), document_from_data(changed, "new.json")
    )
    for expected in planted:
        matching = [
            f for f in found if f.id == expected.kind and f.location.pointer == expected.pointer
        ]
        assert len(matching) == 1, (expected, [(f.id, f.location.pointer) for f in found])
    assert {f.id for f in found} == {p.kind for p in planted}


def test_a_form_pact_against_a_dense_document(dense: Doc, tmp_path: Path) -> None:
    file = tmp_path / "pact.json"
    file.write_text(json.dumps(form_pact(dense, every=5)))
    interactions = load_pacts([file])
    passing = run_gate(document_from_data(dense, "old.json"), interactions, "dense")
    assert passing.exit_code == 0, [c for c in passing.cases if c.fails(Level.ERROR)]
    changed, _ = plant(dense, every=5)
    failing = run_gate(document_from_data(changed, "new.json"), interactions, "dense")
    broken = {f.id for c in failing.cases if c.fails(Level.ERROR) for f in c.findings}
    assert "pact-response-field-missing" in broken  # livemode removed from a resource
    assert "pact-response-type-mismatch" in broken  # amount became a string
