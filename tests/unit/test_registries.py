"""The two registries: a workflow declared once is booked, reported and crash-handled;
a system registered once is configured, built and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

import orchestrator.workflows as workflows
import sim.metrics as metrics
from orchestrator.events import Endings
from orchestrator.workflows import WORKFLOWS, Declaration, deal_of, declared
from sim.report import workflow_rows
from sim.scenario import SYSTEMS, Scenario
from sim.vendors import CHECKS, REGISTRY
from sim.world import World

RENEWAL = Declaration(
    "renew",
    "renewal",
    "renewal.done",
    "renewed",
    Endings(
        "renewal.compensated",
        "renewal.escalated",
        "renewal.rejected",
        "renewal.failed",
        "renewal.abandoned",
    ),
)
"""A workflow no module runs yet: only declared."""


@pytest.fixture
def with_renewals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflows, "WORKFLOWS", (*WORKFLOWS, RENEWAL))
    monkeypatch.setattr(metrics, "LATER", (*metrics.LATER, RENEWAL))


def test_every_workflow_id_is_namespaced_and_names_its_deal() -> None:
    assert [d.prefix for d in WORKFLOWS] == ["q2c", "amend"]
    first, amend = WORKFLOWS
    assert first.id("D-1") == "q2c:D-1" and amend.id("D-1", 2) == "amend:D-1:2"
    assert declared("amend:D-1:2") is amend and declared("q2c:D-1") is first
    assert declared("outbox-relay") is None and declared("amendment:D-1") is None
    assert deal_of("amend:D-1:2") == deal_of("q2c:D-1") == "D-1"


def test_a_declared_workflow_gets_its_books_rows_and_crash_handling(with_renewals: None) -> None:
    recorder = metrics.Recorder(sla_live=3600.0, sla_commitment=30.0)
    recorder.request("renew:D-1:1", "early", 10.0)
    recorder.request("renew:D-2:1", "late", 20.0)
    recorder.request("renew:D-3:1", "late", 30.0)
    recorder.observe("renewal.done", "D-1", {"workflow": "renew:D-1:1"}, 15.0)
    recorder.observe("renewal.done", "D-1", {"workflow": "renew:D-1:1"}, 99.0)  # a copy
    recorder.observe("renewal.rejected", "D-2", {"workflow": "renew:D-2:1"}, 21.0)
    assert recorder.running()
    recorder.crashed("renew:D-3:1", "broker down", 40.0)
    assert not recorder.running()
    books = recorder.workflow_summaries()["renewals"]
    assert books["requested"] == 3 and books["by_kind"] == {"early": 1, "late": 2}
    assert (books["renewed"], books["rejected"], books["escalated"]) == (1, 1, 1)
    assert books["latency_s"]["p50"] == 5.0 and books["in_flight"] == 0
    labels = [label for label, _ in workflow_rows(RENEWAL)]
    assert labels[:2] == ["renewals requested", "renewals renewed"]
    assert labels[-1] == "renewal p50 p95 p99"
    with pytest.raises(KeyError, match="q2c:D-1"):
        recorder.request("q2c:D-1", "first", 0.0)  # the first order is booked per deal


def test_a_crashed_first_order_is_escalated_for_its_deal() -> None:
    recorder = metrics.Recorder(sla_live=3600.0, sla_commitment=30.0)
    recorder.close("D-1", 0.0)
    recorder.crashed("q2c:D-1", "broker down", 5.0)
    recorder.crashed("outbox-relay", "broker down", 5.0)  # no deal's: no books
    assert recorder.ended == {"D-1": "escalated"} and not recorder.pending


def test_the_scenario_world_and_audit_come_from_the_one_registry() -> None:
    names = [entry.name for entry in REGISTRY]
    assert list(SYSTEMS) == names
    assert list(Scenario.model_fields["systems"].annotation.model_fields) == names  # type: ignore[union-attr]
    data = {"name": "t", "workload": {"arrivals_per_hour": 60}, "systems": {"oms": None}}
    scenario = Scenario.model_validate(data)
    world = World(scenario, 1)
    assert list(world.vendors) == [name for name in names if name != "oms"]
    for entry in REGISTRY:
        if entry.name in world.vendors:
            assert type(world.vendors[entry.name]) is entry.model
    world.run(orders=3)
    audit = world.result()["metrics"]["audit"]
    assert list(audit) == list(CHECKS)
    assert set(CHECKS) == {check.__name__ for entry in REGISTRY for check in entry.checks}


def test_every_vendor_names_the_document_its_model_implements() -> None:
    root = Path(__file__).resolve().parents[2] / "contracts" / "vendors"
    for entry in REGISTRY:
        if not entry.own:
            assert entry.document is not None, entry.name
            assert (root / entry.document).is_file(), entry.document
