"""``contracts verify``: the real Pact verifier against providers served by the test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from contracts_erp_provider import build_app
from contracts_testkit import PACTS, free_port, serve
from typer.testing import CliRunner

from contracts.cli import contracts_app

STATUS_CASES = {
    "a request to create a sales order",
    "a request to get sales order SO-1",
    "a request to cancel sales order SO-1",
}


def _verify(runner: CliRunner, base_url: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        contracts_app,
        [
            "verify",
            "--provider",
            "erp",
            "--base-url",
            base_url,
            "--pacts",
            str(PACTS),
            "--state-url",
            "/_pact/state",
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_provider_that_honours_the_pact_passes(runner: CliRunner) -> None:
    app, state = build_app()
    with serve(app) as url:
        code, output = _verify(runner, url)
    assert code == 0, output
    assert "0 of 11 interaction(s) break" in output
    assert "customer CUS-2 is on credit hold" in state.states_seen
    assert "a sales order SO-1 exists" in state.states_seen


def test_provider_that_renames_a_field_fails_and_names_the_interactions(
    runner: CliRunner, tmp_path: Path
) -> None:
    app, _ = build_app(status_field="orderStatus")
    report = tmp_path / "verify.xml"
    with serve(app) as url:
        code, output = _verify(runner, url, "--format", "junit", "--output", str(report))
    assert code == 1, output
    assert "3 of 11 interaction(s) break" in output
    assert "verify-failed" in output
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    failed = {
        (case.get("name") or "").split(" (given")[0]
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert failed == STATUS_CASES
    messages = " ".join(
        (case.find("failure").get("message") or "")  # type: ignore[union-attr]
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    )
    assert "status" in messages


def test_unreachable_provider_is_a_usage_error(runner: CliRunner) -> None:
    code, output = _verify(runner, f"http://127.0.0.1:{free_port()}")
    assert code == 2
    assert "cannot connect to the provider" in output
    assert "Traceback" not in output


def test_bad_base_url_is_a_usage_error(runner: CliRunner) -> None:
    code, output = _verify(runner, "ftp://example")
    assert code == 2
    assert "--base-url" in output


def test_verify_sends_no_usage_telemetry_unless_asked() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PACT_DO_NOT_TRACK"}
    command = [sys.executable, "-m", "contracts", "verify", "--provider", "erp"]
    app, _ = build_app()
    with serve(app) as url:
        command += ["--base-url", url, "--pacts", str(PACTS), "--state-url", "/_pact/state"]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "tracking events anonymously" not in done.stderr + done.stdout
