"""``contracts verify``: the real Pact verifier against the ERP mock, served by the test.

The provider is the ERP's vendor mock with Pact provider states rebuilt from the
recorded traffic (``mocks.pacts.provider_states``), as ``mocks serve --pact-states``
serves it; a provider that breaks the pact is the same mock with its model's sales
order renaming ``status``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from contracts_testkit import PACTS, ROOT, free_port, rename_field
from typer.testing import CliRunner

from contracts.cli import contracts_app
from mocks.clock import ManualClock
from mocks.pacts import REFUSING, provider_states
from mocks.serve import serving
from mocks.vendor import VendorMock
from sim.scenario import load
from sim.systems.erp import SalesOrder

SCENARIO = load(ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml")
STATUS_CASES = {"createSalesOrder answering 201", "cancelSalesOrder answering 200"}


@contextmanager
def erp_provider() -> Iterator[tuple[str, list[str]]]:
    """The ERP mock on a free port with its Pact states; yields its root URL and the
    states the verifier set up."""
    states, mocks = provider_states(SCENARIO, PACTS, ("erp",))
    seen: list[str] = []

    def setup(system: str, state: str, params: Any) -> VendorMock:
        seen.append(state)
        return states(system, state, params)

    with serving(mocks, ManualClock(), states=setup) as urls:
        yield urls["erp"].removesuffix(mocks["erp"].base_path), seen


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
    with erp_provider() as (url, seen):
        code, output = _verify(runner, url)
    assert code == 0, output
    assert "0 of 7 interaction(s) break" in output
    assert REFUSING in seen  # the credit hold was set up, not merely described


def test_provider_that_renames_a_field_fails_and_names_the_interactions(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rename_field(monkeypatch, SalesOrder, "status", "orderStatus")
    report = tmp_path / "verify.xml"
    with erp_provider() as (url, _):
        code, output = _verify(runner, url, "--format", "junit", "--output", str(report))
    assert code == 1, output
    assert "2 of 7 interaction(s) break" in output
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
    with erp_provider() as (url, _):
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
