"""Every vendor model and its OpenAPI document agree, operation by operation.

Two checks per vendor. The document's operationIds are exactly the model's
operations (reads are GETs, writes are not). And the traffic of real simulated
runs (four bundled scenarios, every pattern: first orders, compensations, webhooks,
amendments, batches, reconciliation, master data, prices) conforms: each request the
orchestrator made, put on the wire as the document says, has the path, query and
body the document describes, sends an idempotency key only where the document
takes one, and each answer the model gave has a documented status and a body of
the documented shape. A field added to a model and not to its document, or the
other way round, fails here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from contracts.conformance import Conformance
from sim.scenario import load
from sim.systems.base import Vendor
from sim.vendors import REGISTRY
from sim.world import World

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = {entry.name: entry.document for entry in REGISTRY if entry.document}
MODELS = {entry.name: entry.model for entry in REGISTRY}
RUNS = (
    ("provisioning_outage.yaml", None),
    ("webhook_storm.yaml", None),
    ("customer_master_data.yaml", 2 * 86400.0),
    ("amendments_month_end.yaml", 3 * 86400.0),
)
PATTERNS = ("sync_chain", "hybrid", "outbox", "event_driven", "batch")

Exchange = tuple[str, Mapping[str, Any], str | None, int, Any]
"""``(operation, params, key, status, body)`` of one call a model answered."""


class Recording:
    """A vendor model that notes every exchange, then answers as the model does."""

    def __init__(self, vendor: Vendor, book: list[Exchange]) -> None:
        self._vendor = vendor
        self._book = book

    def __call__(
        self, operation: str, params: Mapping[str, Any], key: str | None, now: float
    ) -> tuple[int, Any]:
        status, body = self._vendor(operation, params, key, now)
        self._book.append((operation, params, key, status, body))
        return status, body

    def __getattr__(self, name: str) -> Any:
        return getattr(self._vendor, name)


@pytest.fixture(scope="module")
def traffic() -> dict[str, list[Exchange]]:
    books: dict[str, list[Exchange]] = {name: [] for name in DOCUMENTS}
    for name, duration in RUNS:
        scenario = load(ROOT / "scenarios" / name)
        for pattern in PATTERNS:
            world = World(scenario, scenario.seed, pattern)
            for system, line in world.lines.items():
                if system in books:
                    line.faults.vendor = Recording(line.faults.vendor, books[system])  # type: ignore[assignment]
            world.run(duration=duration)
    return books


def sample(exchanges: list[Exchange], per_kind: int = 60) -> list[Exchange]:
    """Up to ``per_kind`` exchanges per operation and status, spread over the runs
    (the runs make ~100k; checking each costs a minute and finds nothing more)."""
    kinds: dict[tuple[str, int], list[Exchange]] = {}
    for exchange in exchanges:
        kinds.setdefault((exchange[0], exchange[3]), []).append(exchange)
    picked = []
    for found in kinds.values():
        step = max(1, len(found) // per_kind)
        picked += found[::step]
    return picked


def conformance(system: str) -> Conformance:
    return Conformance.load(ROOT / "contracts" / "vendors" / DOCUMENTS[system])


@pytest.mark.parametrize("system", sorted(DOCUMENTS))
def test_the_document_has_exactly_the_models_operations(system: str) -> None:
    model = MODELS[system]
    document = conformance(system)
    modelled = set(model.reads) | set(model.writes)
    assert sorted(modelled - document.operation_ids()) == [], "modelled, not documented"
    assert sorted(document.operation_ids() - modelled) == [], "documented, not modelled"
    for operation in modelled:
        method = document.route(operation).method
        assert (method == "GET") == (operation in model.reads), (operation, method)


@pytest.mark.parametrize("system", sorted(DOCUMENTS))
def test_the_traffic_of_simulated_runs_conforms_to_the_document(
    system: str, traffic: dict[str, list[Exchange]]
) -> None:
    document = conformance(system)
    exchanges = traffic[system]
    problems: dict[str, int] = {}
    for operation, params, key, status, body in sample(exchanges):
        found = document.request_problems(operation, params, key)
        found += document.response_problems(operation, status, body)
        for problem in found:
            problems[problem] = problems.get(problem, 0) + 1
    assert problems == {}, "\n".join(f"{n:>6} x {p}" for p, n in sorted(problems.items()))
    # the runs reach most of what the orchestrator calls: a run that stops calling an
    # operation would leave it unchecked
    called = {operation for operation, *_ in exchanges}
    assert len(called) >= len(MODELS[system].writes) // 2, sorted(called)
