"""Consumer pacts from the orchestrator's own traffic, and provider states from the models.

No interaction is written by hand. ``record`` runs real workflows (first orders,
a compensation, an amendment) through the live runtime against the vendor mocks
with the weather off, and keeps every exchange each vendor saw, in order. Each
first exchange of an (operation, status) becomes a Pact interaction: its method,
path, query and ``Idempotency-Key`` as sent, its body matched by type, its answer
matched by type (an error's code exactly). Its provider state is "the recorded
requests before this one", with their count as a parameter: a provider sets it up
by replaying that many recorded requests into a fresh vendor model (``replay``),
which, since every id a model makes is deterministic, rebuilds the very records the
interaction refers to. The recordings are kept beside the pacts
(``contracts/pacts/recorded/<vendor>.json``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from contracts.binding import IDEMPOTENCY_KEY, Routes
from contracts.loader import load_document
from live.broker import Broker
from live.runtime import LiveRuntime
from mocks.clock import ManualClock
from mocks.respx import vendor_router
from mocks.shop import open_vendors
from mocks.vendor import DOCUMENTS, Answer, VendorMock, document_path, vendor_routes
from orchestrator.client import Client
from orchestrator.effects import Call
from orchestrator.errors import CallError
from orchestrator.patterns import make
from orchestrator.resilience import Policy, RetryPolicy
from orchestrator.workflows.amendment import Amendment, amend
from sim.faults import ScriptedFault
from sim.scenario import Scenario
from sim.workload import deals
from sim.world import World

__all__ = ["CONSUMER", "STATE", "SYSTEMS", "Exchange", "record", "replay", "verify", "write_pacts"]

CONSUMER = "lifecycle-orchestrator"
STATE = "the recorded requests before this one"
"""Every interaction's provider state; its parameter ``before`` counts the requests."""
SYSTEMS = ("crm", "billing", "provisioning", "support")
"""The vendors whose pacts come from traffic (the ERP's, ``lifecycle-orchestrator-erp.json``,
is still described interaction by interaction in ``test_erp_consumer_pact.py``: the
gate's examples use it)."""


class Exchange(NamedTuple):
    """One request a vendor mock answered, as it went on the wire."""

    operation: str
    method: str
    path: str
    query: dict[str, str]
    key: str | None
    body: Any
    status: int
    response: Any
    edge: bool = False
    """Answered by the weather at the door (a 503, a 429, a concurrency limit), not
    by the model: no pact interaction (the conformance suite covers it), no replay."""

    def as_json(self) -> dict[str, Any]:
        """The exchange as a recording stores it."""
        return self._asdict()


def _recording(mock: VendorMock, book: list[Exchange]) -> None:
    handle = mock.handle

    def recorded(
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        now: float,
    ) -> Answer:
        answer = handle(method, path, query, headers, body, now)
        found = mock.routes.match(method, path[len(mock.base_path) :])
        operation = found[0].operation if found else ""
        key = headers.get(IDEMPOTENCY_KEY.lower())
        payload = json.loads(body) if body else None
        code = answer.body.get("code") if isinstance(answer.body, dict) else None
        edge = answer.status in (429, 503) or code == "SSS_REQUEST_LIMIT_EXCEEDED"
        book.append(
            Exchange(
                operation,
                method,
                path,
                dict(query),
                key,
                payload,
                answer.status,
                answer.body,
                edge,
            )
        )
        return answer

    mock.handle = recorded  # type: ignore[method-assign]


def record(scenario: Scenario, seed: int) -> dict[str, list[Exchange]]:
    """Every exchange each vendor saw while real workflows ran over HTTP (no weather).

    The workflows: three first orders through ``sync_chain`` and ``hybrid`` (one
    with provisioning down past the retries, so the saga compensates), and a seat
    change on the first deal's subscription.
    """
    still = _still(scenario)
    world = World(still, seed)
    first = [
        deal
        for (_, deal), _n in zip(
            deals(world.streams, world.book, world.plans, 60.0), range(3), strict=False
        )
    ]
    books: dict[str, list[Exchange]] = {system: [] for system in DOCUMENTS}
    retry = RetryPolicy(max_attempts=2, base=0.01, jitter="none")
    policy = Policy(retry=retry, compensation_retry=retry, breaker=None, timeout=30.0)
    # the second deal's entitlement: provisioning down past the retries
    down: dict[str, dict[int, ScriptedFault]] = {"provisioning": {2: "error", 3: "error"}}
    with vendor_router(still, seed=seed, script=down) as router:
        for system, mock in router.mocks.items():
            _recording(mock, books[system])
        routes = vendor_routes()

        async def run() -> None:
            runtime = LiveRuntime(router.base_urls, routes, 1000.0)
            try:
                for name, group in (("sync_chain", first[:2]), ("hybrid", first[2:])):
                    pattern = make(name, Client(policy))
                    broker = Broker(runtime)
                    for sub in pattern.subscriptions():
                        broker.subscribe(sub.topic, sub.handler, sub.group)
                    for deal in group:
                        await runtime.run(pattern.close(deal))
                        await runtime.idle()
                seats = first[0].seats + 2
                change = Amendment(first[0].id, 1, "seats", seats=seats, wait=0.0)
                await runtime.run(amend(Client(policy), change))
            finally:
                await runtime.close()

        asyncio.run(run())
    return books


def _still(scenario: Scenario) -> Scenario:
    """The scenario with no weather and no webhooks: every answer is the model's."""
    quiet = {name: {"latency": {"fixed": 0.0}} for name in DOCUMENTS}
    systems = scenario.systems.model_validate({**quiet, "oms": None})
    return scenario.model_copy(update={"systems": systems})


def replay(
    scenario: Scenario, seed: int, system: str, recorded: list[dict[str, Any]], before: int
) -> VendorMock:
    """A fresh vendor mock that has answered the first ``before`` recorded requests."""
    mock = open_vendors(_still(scenario), ManualClock(), seed, (system,))[system]
    for item in recorded[:before]:
        if item.get("edge"):
            continue  # the model never saw it
        headers = {IDEMPOTENCY_KEY.lower(): item["key"]} if item["key"] else {}
        body = json.dumps(item["body"]).encode() if item["body"] is not None else b""
        mock.handle(item["method"], item["path"], item["query"], headers, body, 0.0).done()
    return mock


def write_pacts(books: Mapping[str, list[Exchange]], directory: Path) -> list[Path]:
    """One pact per vendor in ``directory``, and its recording in ``recorded/``.

    Each interaction is served by Pact's own mock server (Rust core, 127.0.0.1) and
    the orchestrator's HTTP adapter, the live runtime's ``call``, makes the
    recorded call against it: the pact holds what the adapter sends, or this fails.

    Raises:
        AssertionError: The adapter's request or the answer it read differ from
            the recording.
    """
    written = []
    (directory / "recorded").mkdir(parents=True, exist_ok=True)
    for system in SYSTEMS:
        exchanges = books[system]
        (directory / "recorded" / f"{system}.json").write_text(
            json.dumps([e.as_json() for e in exchanges], indent=1, sort_keys=True) + "\n"
        )
        target = directory / f"{CONSUMER}-{system}.json"
        target.unlink(missing_ok=True)
        seen: set[tuple[str, int]] = set()
        for index, exchange in enumerate(exchanges):
            if not exchange.edge and (exchange.operation, exchange.status) not in seen:
                seen.add((exchange.operation, exchange.status))
                _interaction(system, index, exchange, directory)
        written.append(target)
    return written


def _interaction(system: str, index: int, exchange: Exchange, directory: Path) -> None:
    """Declare one interaction, have the live runtime make its call, write it."""
    from pact import Pact, match

    pact = Pact(CONSUMER, system).with_specification("V4")
    interaction = pact.upon_receiving(f"{exchange.operation} answering {exchange.status}")
    interaction.given(STATE, {"before": index})
    interaction.with_request(exchange.method, exchange.path)
    for name, value in exchange.query.items():
        interaction.with_query_parameter(name, value)
    if exchange.key is not None:
        interaction.with_header(IDEMPOTENCY_KEY, match.str(exchange.key))
    if exchange.body is not None:
        interaction.with_body(match.like(exchange.body), content_type="application/json")
    interaction.will_respond_with(exchange.status).with_body(
        _expected(exchange), content_type="application/json"
    )
    routes = Routes(load_document(document_path(system)))
    route = routes[exchange.operation]
    found = routes.match(exchange.method, exchange.path[len(routes.base_path) :])
    assert found is not None, exchange.path
    params = route.params(found[1], exchange.query, exchange.body)
    call = Call(system, exchange.operation, params, exchange.key, 30.0, 1, "D-pact", "q2c:D-pact")
    with pact.serve(addr="127.0.0.1") as server:
        base = f"{server.url}{routes.base_path}"

        async def adapter() -> Any:
            runtime = LiveRuntime({system: base}, {system: routes}, 1.0)
            try:
                return await runtime.call(call)
            except CallError as exc:
                return exc
            finally:
                await runtime.close()

        answer = asyncio.run(adapter())
    if exchange.status < 300:
        assert answer == exchange.response, (exchange.operation, answer)
    else:
        assert isinstance(answer, CallError) and answer.status == exchange.status, answer
    pact.write_file(directory, overwrite=False)


def _expected(exchange: Exchange) -> Any:
    """An answer matched by type; an error's code exactly (it is what callers branch on)."""
    from pact import match

    body = exchange.response
    if exchange.status >= 400 and isinstance(body, dict) and "code" in body:
        return {**{k: match.like(v) for k, v in body.items()}, "code": body["code"]}
    return match.like(body)


def verify(scenario: Scenario, seed: int, system: str, directory: Path) -> Any:
    """Verify the vendor's mock against its pact with the real Pact verifier.

    The mock serves on a free port with a state-change endpoint that rebuilds the
    vendor from its recording (``replay``) before each interaction.

    Returns:
        The verifier's ``contracts.report.Report``.
    """
    from contracts.verify import run_verify
    from mocks.serve import serving

    recorded = json.loads((directory / "recorded" / f"{system}.json").read_text())

    def state(name: str, state: str, params: Mapping[str, Any]) -> VendorMock:
        if state != STATE:
            raise KeyError(f"unknown provider state {state!r}")
        return replay(scenario, seed, name, recorded, int(params["before"]))

    clock = ManualClock()
    mocks = {system: replay(scenario, seed, system, recorded, 0)}
    with serving(mocks, clock, states=state) as urls:
        root = urls[system][: len(urls[system]) - len(mocks[system].base_path)]
        return run_verify(
            system, root, [directory / f"{CONSUMER}-{system}.json"], state_url="/_pact/state"
        )
