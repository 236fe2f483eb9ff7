"""The ``contracts`` commands end to end: outputs, formats and every exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from contracts_testkit import ERP, PACTS, ROOT
from typer.testing import CliRunner

from contracts.cli import contracts_app

OLD, NEW = ERP / "erp-2026.1.yaml", ERP / "erp-2026.2.yaml"
BROKEN = {
    "upsertCustomer answering 200",
    "createSalesOrder answering 201",
    "cancelSalesOrder answering 200",
    "createInvoice answering 201",
}


def gate(runner: CliRunner, spec: Path, *extra: str) -> tuple[int, str]:
    args = ["gate", "--provider", "erp", "--spec", str(spec), "--pacts", str(PACTS), *extra]
    result = runner.invoke(contracts_app, args)
    return result.exit_code, result.output


def test_gate_passes_against_the_version_the_pact_was_written_for(runner: CliRunner) -> None:
    code, output = gate(runner, OLD)
    assert code == 0, output
    assert "0 of 7 interaction(s) break" in output


def test_gate_fails_against_the_new_version_naming_each_broken_interaction(
    runner: CliRunner, tmp_path: Path
) -> None:
    report = tmp_path / "gate.xml"
    code, output = gate(runner, NEW, "--format", "junit", "--output", str(report))
    assert code == 1
    assert "4 of 7 interaction(s) break" in output
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "7"
    assert suite.get("failures") == "4"
    failures = {}
    for case in suite.iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            failures[(case.get("name") or "").split(" (given")[0]] = failure.get("type")
    assert failures == {
        "upsertCustomer answering 200": "pact-request-body-invalid",
        "createSalesOrder answering 201": "pact-response-field-missing",
        "cancelSalesOrder answering 200": "pact-response-field-missing",
        "createInvoice answering 201": "pact-response-value-invalid",
    }


def test_gate_json_report_on_stdout(runner: CliRunner) -> None:
    code, output = gate(runner, NEW, "--format", "json", "--old", str(OLD))
    assert code == 1
    data = json.loads(output)
    assert data["exitCode"] == 1
    assert data["counts"]["failed"] == 4
    broken = {c["name"].split(" (given")[0] for c in data["cases"] if c["failed"]}
    assert broken == BROKEN
    unused = next(c for c in data["cases"] if c["name"] == "operations no interaction uses")
    assert {f["level"] for f in unused["findings"]} == {"info"}
    invoice = next(c for c in data["cases"] if c["name"].startswith("createInvoice answering 201"))
    infos = [f for f in invoice["findings"] if f["id"] == "pact-change-unused"]
    assert any("legacyReference" in f["message"] for f in infos)


def test_gate_markdown_report(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "gate.md"
    code, _ = gate(runner, NEW, "--format", "markdown", "--output", str(out))
    text = out.read_text()
    assert code == 1
    assert text.startswith("### Contract gate: ❌ breaks")
    assert "`pact-response-value-invalid`" in text
    assert "| ❌ | createInvoice answering 201" in text


def test_diff_lists_graded_changes(runner: CliRunner) -> None:
    result = runner.invoke(contracts_app, ["diff", str(OLD), str(NEW), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    ids = {(f["id"], f["level"]) for c in data["cases"] for f in c["findings"]}
    assert ("request-property-became-required", "error") in ids
    assert ("response-property-removed", "error") in ids
    assert ("response-enum-value-added", "warning") in ids


def test_diff_of_identical_documents_exits_zero(runner: CliRunner) -> None:
    result = runner.invoke(contracts_app, ["diff", str(OLD), str(OLD)])
    assert result.exit_code == 0
    assert "No changes." in result.output


def test_fail_on_warning_makes_warnings_fail(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load(OLD.read_text())
    doc["components"]["schemas"]["InvoiceStatus"]["enum"].append("disputed")
    new = tmp_path / "erp-warning.yaml"
    new.write_text(yaml.safe_dump(doc))
    assert runner.invoke(contracts_app, ["diff", str(OLD), str(new)]).exit_code == 0
    strict = runner.invoke(contracts_app, ["diff", str(OLD), str(new), "--fail-on", "warning"])
    assert strict.exit_code == 1
    assert "response-enum-value-added" in strict.output


def test_unrelated_change_passes_the_gate_and_is_info(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load(OLD.read_text())
    del doc["components"]["schemas"]["Customer"]["properties"]["phone"]
    del doc["paths"]["/customers"]
    new = tmp_path / "erp-unrelated.yaml"
    new.write_text(yaml.safe_dump(doc))
    assert runner.invoke(contracts_app, ["diff", str(OLD), str(new)]).exit_code == 1
    code, output = gate(runner, new, "--old", str(OLD), "--verbose")
    assert code == 0, output
    assert "pact-change-unused" in output
    assert "response-optional-property-removed" in output


# -- exit code 2: bad usage and invalid documents -------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_DOCS = {
    "missing": (None, "file not found"),
    "yaml-error": ("openapi: 3.0.3\npaths: {a: [\n", "yaml-error.yaml:3: YAML syntax error"),
    "json-error": ('{"openapi": "3.0.3", ', "json-error.json:1: JSON syntax error"),
    "not-openapi": ("title: hello\n", "#/openapi: not an OpenAPI 3 document"),
    "swagger": ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0"),
    "bad-ref": (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          $ref: '#/components/responses/Nope'\n",
        "#/paths/~1a/get/responses/200/$ref: $ref '#/components/responses/Nope' does not resolve",
    ),
    "external-ref": (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n"
        "    $ref: 'other.yaml#/paths/a'\n",
        "external $ref",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCS))
def test_invalid_document_exits_2_naming_file_and_pointer(
    runner: CliRunner, tmp_path: Path, name: str
) -> None:
    text, message = BAD_DOCS[name]
    suffix = ".json" if name == "json-error" else ".yaml"
    path = tmp_path / f"{name}{suffix}"
    if text is not None:
        path.write_text(text)
    for args in (
        ["diff", str(OLD), str(path)],
        ["gate", "--provider", "erp", "--spec", str(path), "--pacts", str(PACTS)],
    ):
        result = runner.invoke(contracts_app, args)
        assert result.exit_code == 2, result.output
        assert str(path) in result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_bad_pacts_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    cases = {
        _write(tmp_path, "broken.json", "{"): "JSON syntax error",
        _write(tmp_path, "notpact.json", '{"a": 1}'): "not a Pact file",
        tmp_path / "absent.json": "file not found",
        tmp_path: "no interaction has provider 'erp'",
    }
    (tmp_path / "other.json").write_text(
        json.dumps({"consumer": {"name": "c"}, "provider": {"name": "billing"}, "interactions": []})
    )
    for path, message in cases.items():
        if path == tmp_path:
            for extra in ("broken.json", "notpact.json"):
                (tmp_path / extra).unlink(missing_ok=True)
        code, output = gate_with(runner, OLD, path)
        assert code == 2, (path, output)
        assert message in output


def gate_with(runner: CliRunner, spec: Path, pacts: Path) -> tuple[int, str]:
    args = ["gate", "--provider", "erp", "--spec", str(spec), "--pacts", str(pacts)]
    result = runner.invoke(contracts_app, args)
    return result.exit_code, result.output


def test_bad_flags_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(contracts_app, ["gate", "--spec", str(OLD)]).exit_code == 2
    bad_format = runner.invoke(contracts_app, ["diff", str(OLD), str(OLD), "--format", "pdf"])
    assert bad_format.exit_code == 2
    assert runner.invoke(contracts_app, ["nonsense"]).exit_code == 2


def test_unwritable_output_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    blocker = _write(tmp_path, "file", "x")
    result = runner.invoke(
        contracts_app,
        ["diff", str(OLD), str(NEW), "--format", "json", "--output", str(blocker / "r.json")],
    )
    assert result.exit_code == 2
    assert "cannot write the report" in result.output


def test_python_dash_m_contracts_exit_codes_without_traceback(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "contracts"]
    gate_args = ["gate", "--provider", "erp", "--pacts", str(PACTS), "--spec"]
    runs = {
        0: [*base, *gate_args, str(OLD)],
        1: [*base, *gate_args, str(NEW)],
        2: [*base, *gate_args, str(tmp_path / "missing.yaml")],
    }
    for expected, command in runs.items():
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == expected, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
    missing = subprocess.run(runs[2], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "missing.yaml: file not found" in missing.stderr
