"""Pacts for all five vendors, from the orchestrator's traffic.

``mocks.pacts.record`` runs first orders, an ERP credit hold, two compensations and
an amendment through the live runtime against the mocks; ``write_pacts`` turns each
(operation, status) the orchestrator met into an interaction, serves it with Pact's
real mock server and has the live runtime's HTTP adapter make the call against it.
The committed pacts (``contracts/pacts/lifecycle-orchestrator-<vendor>.json``) must
be what that generates: refresh them with ``make pacts``. Then the real Pact
verifier replays each pact against its vendor's mock, provider states rebuilt from
the models.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from contracts_testkit import REFRESHING, normalise, rename_field

from contracts.conformance import Conformance
from contracts.pactfile import load_pacts
from mocks.pacts import CONSUMER, SYSTEMS, record, verify, write_pacts
from mocks.vendor import document_path
from sim.scenario import load
from sim.systems.billing import Subscription

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "contracts" / "pacts"
SCENARIO = load(ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml")
REFRESH = "run `make pacts` to refresh contracts/pacts/ from the orchestrator's traffic"


@pytest.fixture(scope="module")
def traffic() -> dict[str, Any]:
    return record(SCENARIO, 7)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, traffic: dict[str, Any]) -> Path:
    directory = tmp_path_factory.mktemp("pacts")
    write_pacts(traffic, directory, (SCENARIO.name, 7))
    if REFRESHING:
        for system in SYSTEMS:
            name = f"{CONSUMER}-{system}.json"
            shutil.copyfile(directory / name, COMMITTED / name)
        shutil.copytree(directory / "recorded", COMMITTED / "recorded", dirs_exist_ok=True)
    return directory


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_committed_pact_is_what_the_traffic_generates(generated: Path, system: str) -> None:
    name = f"{CONSUMER}-{system}.json"
    assert (COMMITTED / name).is_file(), REFRESH
    assert normalise(generated / name) == normalise(COMMITTED / name), REFRESH
    recording = f"recorded/{system}.json"
    assert (generated / recording).read_text() == (COMMITTED / recording).read_text(), REFRESH


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_pact_holds_exactly_what_the_orchestrator_sent(
    generated: Path, traffic: dict[str, Any], system: str
) -> None:
    interactions = load_pacts([generated / f"{CONSUMER}-{system}.json"])
    met = {(e.operation, e.status) for e in traffic[system] if not e.edge}
    described = {tuple(i.description.split(" answering ")) for i in interactions}
    assert described == {(op, str(status)) for op, status in met}
    document = Conformance.load(document_path(system))
    base = document.routes.base_path
    for exchange in traffic[system]:  # and every request the pact holds is a valid one
        found = document.routes.match(exchange.method, exchange.path[len(base) :])
        assert found is not None and found[0].operation == exchange.operation
        params = found[0].params(found[1], exchange.query, exchange.body)
        assert document.request_problems(exchange.operation, params, exchange.key) == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_each_vendor_mock_passes_the_real_pact_verifier(generated: Path, system: str) -> None:
    report = verify(SCENARIO, system, generated)
    failing = [(c.name, [f.message for f in c.findings]) for c in report.cases if c.findings]
    assert report.exit_code == 0, failing
    assert len(report.cases) >= 1


def test_a_model_that_renames_a_field_fails_verification(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rename_field(monkeypatch, Subscription, "status", "state")
    report = verify(SCENARIO, "billing", generated)
    assert report.exit_code != 0
    failed = {c.name.split(" (given")[0] for c in report.cases if c.findings}
    assert "createSubscription answering 201" in failed


def test_the_gate_passes_each_vendors_document_and_fails_billings_next_version() -> None:
    from contracts.gate import run_gate
    from contracts.loader import load_document

    interactions = load_pacts([COMMITTED])
    for system in SYSTEMS:
        report = run_gate(load_document(document_path(system)), interactions, system)
        assert report.exit_code == 0, system
    renamed = ROOT / "contracts" / "vendors" / "billing" / "billing-2026.2.yaml"
    report = run_gate(load_document(renamed), interactions, "billing")
    assert report.exit_code == 1
    failed = {c.name.split(" (given")[0] for c in report.cases if c.fails(report.fail_on)}
    assert "createSubscription answering 201" in failed


def test_the_gate_reads_real_v3_pact_output(tmp_path: Path, traffic: dict[str, Any]) -> None:
    from contracts.gate import run_gate
    from contracts.loader import load_document

    (path,) = write_pacts(traffic, tmp_path, (SCENARIO.name, 7), "V3", ("erp",))
    assert json.loads(path.read_text())["metadata"]["pactSpecification"]["version"] == "3.0.0"
    interactions = load_pacts([path])
    erp = ROOT / "contracts" / "vendors" / "erp"
    old = run_gate(load_document(erp / "erp-2026.1.yaml"), interactions, "erp")
    new = run_gate(load_document(erp / "erp-2026.2.yaml"), interactions, "erp")
    assert old.exit_code == 0
    assert new.exit_code == 1
    failed = {c.name.split(" (given")[0] for c in new.cases if c.fails(new.fail_on)}
    assert "createInvoice answering 201" in failed
