"""Diff and gate on large generated documents (thousands of schemas, deep and recursive $refs)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from contracts.cli import contracts_app
from contracts.diff import diff_documents
from contracts.findings import Level
from contracts.gate import run_gate
from contracts.loader import document_from_data, load_document
from contracts.pactfile import load_pacts
from contracts.synthetic import dump, generate_document, modify_document, pact_for


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return generate_document(5_000_000)


def test_five_megabyte_document_diff_finds_exactly_the_planted_changes(
    big: dict[str, Any], tmp_path: Path
) -> None:
    text = dump(big)
    assert len(text) > 4_500_000
    assert len(big["components"]["schemas"]) > 10_000
    new, planted = modify_document(big)
    (tmp_path / "old.json").write_text(text)
    (tmp_path / "new.json").write_text(dump(new))
    old_doc = load_document(tmp_path / "old.json")
    new_doc = load_document(tmp_path / "new.json")
    found = diff_documents(old_doc, new_doc)
    counts = Counter(f.id for f in found)
    # Each planted change is one finding, however many operations it reaches:
    # legacyCode is returned by list, create, get and replace of each touched resource.
    assert counts["response-property-removed"] == planted["legacy"]
    for finding in found:
        if finding.id == "response-property-removed":
            assert len(finding.reaches) == 4
    assert counts["operation-removed"] == planted["delete"]
    # externalId became required in the input of create and replace (one shared schema)
    assert counts["request-property-became-required"] == planted["required"]
    # the status enum lost a value: read by a query parameter and by four responses
    assert counts["request-enum-value-removed"] == planted["enum"]
    assert counts["response-enum-value-removed"] == planted["enum"]
    assert counts["response-format-changed"] == planted["format"]
    assert all(f.location.pointer for f in found)
    assert diff_documents(old_doc, load_document(tmp_path / "old.json")) == []


def test_five_megabyte_document_gate(big: dict[str, Any], tmp_path: Path) -> None:
    new, _ = modify_document(big)
    pact = tmp_path / "pact.json"
    pact.write_text(json.dumps(pact_for(big)))
    interactions = load_pacts([pact])
    passing = run_gate(document_from_data(big, "big.json"), interactions, "synthetic")
    assert passing.exit_code == 0
    assert passing.counts()["warning"] == 0
    failing = run_gate(document_from_data(new, "big-new.json"), interactions, "synthetic")
    failed = {c.name for c in failing.cases if c.fails(Level.ERROR)}
    # pact_for uses resources 0, 25, 50, ...; modify_document touches 0, 50, 100, ...
    assert "create resource 0" in failed  # legacyCode removed
    assert "get resource 0" in failed
    assert "create resource 50" in failed  # externalId became required
    assert "get resource 50" not in failed
    assert "get resource 25" not in failed


@pytest.mark.slow
def test_large_yaml_openapi_31_document_through_the_cli(tmp_path: Path) -> None:
    doc = generate_document(3_000_000, version="3.1.0")
    for schema in doc["components"]["schemas"].values():
        for prop in (schema.get("properties") or {}).values():
            if prop.pop("nullable", False):
                prop["type"] = [prop["type"], "null"]
    new, _ = modify_document(doc)
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(doc, sort_keys=True))
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(new, sort_keys=True))
    result = CliRunner().invoke(
        contracts_app,
        ["diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--format", "json"],
    )
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["counts"]["error"] > 0
