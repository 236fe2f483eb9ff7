"""Pact files of every specification version, and matcher lookup."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.matchers import MatchingRules, parse_path
from contracts.pactfile import load_pacts


def test_v2_pact_with_flat_matching_rules_and_query_string(tmp_path: Path) -> None:
    pact = {
        "consumer": {"name": "c"},
        "provider": {"name": "erp"},
        "metadata": {"pactSpecification": {"version": "2.0.0"}},
        "interactions": [
            {
                "description": "list",
                "providerState": "orders exist",
                "request": {"method": "get", "path": "/salesOrders", "query": "limit=5&x=a"},
                "response": {
                    "status": 200,
                    "body": {"items": [{"id": "SO-1"}]},
                    "matchingRules": {"$.body.items": {"min": 1, "match": "type"}},
                },
            }
        ],
    }
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(pact))
    (interaction,) = load_pacts([path])
    assert interaction.method == "GET"
    assert interaction.states == ("orders exist",)
    assert interaction.query == {"limit": ["5"], "x": ["a"]}
    rules = interaction.response.body_rules
    assert rules.expectation(("items", 0, "id"), "SO-1").kind == "type"
    assert rules.expectation(("other",), 1).kind == "equality"


def test_parse_path_notations() -> None:
    assert parse_path("$.lines[*].sku") == ("lines", "*", "sku")
    assert parse_path("$['odd.key'][0]") == ("odd.key", 0)
    assert parse_path("Idempotency-Key") == ("Idempotency-Key",)


def test_most_specific_rule_wins() -> None:
    rules = MatchingRules.from_pact(
        {
            "body": {
                "$.lines": {"matchers": [{"match": "type", "min": 1}]},
                "$.lines[*].quantity": {"matchers": [{"match": "integer"}]},
                "$.id": {"matchers": [{"match": "regex", "regex": "SO-\\d+"}]},
            }
        }
    )["body"]
    assert rules.expectation(("lines", 3, "quantity"), 2).kind == "integer"
    assert rules.expectation(("lines", 3, "sku"), "A").kind == "type"
    expectation = rules.expectation(("id",), "SO-1")
    assert expectation.kind == "regex"
    assert expectation.accepts("SO-77")
    assert not expectation.accepts("INV-1")
