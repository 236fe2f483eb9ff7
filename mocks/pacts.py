"""Consumer pacts from the orchestrator's own traffic, and provider states from the models.

No interaction is written by hand. ``record`` runs real workflows (first orders, a
credit hold, two compensations, an amendment) through the live runtime against the
vendor mocks with the weather off, and keeps every exchange each vendor saw, in
order. Each first exchange of an (operation, status) becomes a Pact interaction: its
method, path, query and ``Idempotency-Key`` as sent, its body matched by type, its
answer matched by type (an error's code exactly). Its provider state is "the
recorded requests before this one", with their count as a parameter: a provider
sets it up by replaying that many recorded requests into a fresh vendor model
(``replay``), which, since every id a model makes is deterministic, rebuilds the
very records the interaction refers to. A business refusal the model decided (the
ERP's credit check) adds a second state, "the vendor says no to the next request",
as a test of a real NetSuite would put a customer on hold first. The recordings are
kept beside the pacts (``contracts/pacts/recorded/<vendor>.json``), with the
scenario and seed they were made with.
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
from mocks.asgi import States
from mocks.clock import ManualClock
from mocks.respx import vendor_router
from mocks.shop import open_vendors
from mocks.vendor import Answer, VendorMock, document_path, vendor_routes
from orchestrator.client import Client
from orchestrator.effects import Call
from orchestrator.errors import CallError
from orchestrator.patterns import make
from orchestrator.resilience import Policy, RetryPolicy
from orchestrator.workflows.amendment import Amendment, amend
from sim.faults import ScriptedFault
from sim.scenario import VENDORS, Scenario
from sim.workload import deals
from sim.world import World

__all__ = [
    "CONSUMER",
    "REFUSING",
    "STATE",
    "SYSTEMS",
    "Exchange",
    "Recording",
    "Refusals",
    "StatesRefused",
    "provider_states",
    "record",
    "replay",
    "verify",
    "write_pacts",
]

CONSUMER = "lifecycle-orchestrator"
STATE = "the recorded requests before this one"
"""Every interaction's provider state; its parameter ``before`` counts the requests."""
REFUSING = "the vendor says no to the next request"
"""The second state of an interaction whose answer was the model's business refusal."""
SYSTEMS = VENDORS
"""The vendors whose pacts come from traffic: all five (the order store is ours)."""


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
    refused: bool = False
    """The model's business check said no (``Vendor.refuse``): a replay says no too."""
    lost: bool = False
    """The model did the work, but the answer never reached the orchestrator: replayed,
    never an interaction (the orchestrator did not read it)."""

    def as_json(self) -> dict[str, Any]:
        """The exchange as a recording stores it."""
        return self._asdict()


class Refusals:
    """A vendor's business check (``Vendor.refuse``) that says no when armed.

    Like a bank clerk told "decline the next cheque": ``arm()`` makes the next check
    refuse, once; ``said_no`` counts the refusals given.
    """

    def __init__(self) -> None:
        self.armed = 0
        self.said_no = 0

    def arm(self) -> None:
        """Refuse the next check."""
        self.armed += 1

    def __call__(self) -> bool:
        if not self.armed:
            return False
        self.armed -= 1
        self.said_no += 1
        return True


def _refusals(mock: VendorMock) -> Refusals:
    """The mock's vendor's business check, made armable (once per mock)."""
    if not isinstance(mock.vendor.refuse, Refusals):
        mock.vendor.refuse = Refusals()
    return mock.vendor.refuse


class Recording(NamedTuple):
    """What one vendor saw, and the world it was seen in (``recorded/<vendor>.json``)."""

    scenario: str
    seed: int
    exchanges: list[dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> Recording:
        """Read a recording written by ``write_pacts``.

        Raises:
            ValueError: The file is not a recording.
        """
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not {"scenario", "seed", "exchanges"} <= set(data):
            raise ValueError(f"{path}: not a recording (expected scenario, seed, exchanges)")
        return cls(str(data["scenario"]), int(data["seed"]), list(data["exchanges"]))


def _recording(mock: VendorMock, book: list[Exchange]) -> None:
    handle = mock.handle
    refusals = _refusals(mock)

    def recorded(
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        now: float,
    ) -> Answer:
        before = refusals.said_no
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
                refusals.said_no > before,
                answer.lost,
            )
        )
        return answer

    mock.handle = recorded  # type: ignore[method-assign]


def record(scenario: Scenario, seed: int) -> dict[str, list[Exchange]]:
    """Every exchange each vendor saw while real workflows ran over HTTP (no weather).

    The workflows: three first orders through ``sync_chain`` and ``hybrid`` (one
    with provisioning down past the retries, so the saga compensates), a seat change
    on the first deal's subscription, an order the ERP's credit check refuses, and an
    order whose invoice is posted but its answer lost, then the ERP down past the
    retries (the saga replays the invoice by its key, voids it, and undoes the rest).
    """
    still = _still(scenario)
    world = World(still, seed)
    first = [
        deal
        for (_, deal), _n in zip(
            deals(world.streams, world.book, world.plans, 60.0), range(5), strict=False
        )
    ]
    books: dict[str, list[Exchange]] = {system: [] for system in SYSTEMS}
    retry = RetryPolicy(max_attempts=2, base=0.01, jitter="none")
    policy = Policy(retry=retry, compensation_retry=retry, breaker=None, timeout=30.0)
    # the second deal's entitlement: provisioning down past the retries
    down: dict[str, dict[int, ScriptedFault]] = {"provisioning": {2: "error", 3: "error"}}
    with vendor_router(still, seed=seed, script=down) as router:
        for system, mock in router.mocks.items():
            _recording(mock, books[system])
        routes = vendor_routes()
        erp = router.mocks["erp"]

        def invoice_lost_then_down() -> None:
            # upsertCustomer, createSalesOrder, then createInvoice: posted, answer
            # lost; its one retry meets the ERP down
            erp.faults.script.update({erp.faults.seen + 3: "timeout", erp.faults.seen + 4: "error"})

        async def run() -> None:
            runtime = LiveRuntime(router.base_urls, routes, 1000.0)
            try:
                for name, group in (("sync_chain", first[:2]), ("hybrid", first[2:3])):
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
                chain = make("sync_chain", Client(policy))
                _refusals(erp).arm()  # the fourth customer is on credit hold
                await runtime.run(chain.close(first[3]))
                invoice_lost_then_down()
                await runtime.run(chain.close(first[4]))
            finally:
                await runtime.close()

        asyncio.run(run())
    return books


def _still(scenario: Scenario) -> Scenario:
    """The scenario with no weather and no webhooks: every answer is the model's."""
    quiet = {name: {"latency": {"fixed": 0.0}} for name in SYSTEMS}
    systems = scenario.systems.model_validate({**quiet, "oms": None})
    return scenario.model_copy(update={"systems": systems})


def replay(
    scenario: Scenario, seed: int, system: str, recorded: list[dict[str, Any]], before: int
) -> VendorMock:
    """A fresh vendor mock that has answered the first ``before`` recorded requests."""
    mock = open_vendors(_still(scenario), ManualClock(), seed, (system,))[system]
    refusals = _refusals(mock)
    for item in recorded[:before]:
        if item.get("edge"):
            continue  # the model never saw it
        if item.get("refused"):
            refusals.arm()
        headers = {IDEMPOTENCY_KEY.lower(): item["key"]} if item["key"] else {}
        body = json.dumps(item["body"]).encode() if item["body"] is not None else b""
        mock.handle(item["method"], item["path"], item["query"], headers, body, 0.0).done()
    return mock


def write_pacts(
    books: Mapping[str, list[Exchange]],
    directory: Path,
    made_with: tuple[str, int],
    specification: str = "V4",
    systems: tuple[str, ...] = SYSTEMS,
) -> list[Path]:
    """One pact per vendor in ``directory``, and its recording in ``recorded/``.

    ``made_with`` is the scenario name and seed the traffic was recorded in (a
    provider replays it in the same world); ``specification`` the Pact version;
    ``systems`` the vendors to write.

    Each interaction is served by Pact's own mock server (Rust core, 127.0.0.1) and
    the orchestrator's HTTP adapter, the live runtime's ``call``, makes the
    recorded call against it: the pact holds what the adapter sends, or this fails.

    Raises:
        AssertionError: The adapter's request or the answer it read differ from
            the recording.
    """
    written = []
    (directory / "recorded").mkdir(parents=True, exist_ok=True)
    for system in systems:
        exchanges = books[system]
        recording = Recording(made_with[0], made_with[1], [e.as_json() for e in exchanges])
        (directory / "recorded" / f"{system}.json").write_text(
            json.dumps(recording._asdict(), indent=1, sort_keys=True) + "\n"
        )
        target = directory / f"{CONSUMER}-{system}.json"
        target.unlink(missing_ok=True)
        seen: set[tuple[str, int]] = set()
        for index, exchange in enumerate(exchanges):
            met = (exchange.operation, exchange.status)
            if not (exchange.edge or exchange.lost) and met not in seen:
                seen.add(met)
                _interaction(system, index, exchange, directory, specification)
        written.append(target)
    return written


def _interaction(
    system: str, index: int, exchange: Exchange, directory: Path, specification: str
) -> None:
    """Declare one interaction, have the live runtime make its call, write it."""
    from pact import Pact, match

    pact = Pact(CONSUMER, system).with_specification(specification)
    interaction = pact.upon_receiving(f"{exchange.operation} answering {exchange.status}")
    interaction.given(STATE, {"before": index})
    if exchange.refused:
        interaction.given(REFUSING)
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


class StatesRefused(ValueError):
    """Recordings that cannot rebuild provider states for this scenario."""


def provider_states(
    scenario: Scenario, directory: Path, systems: tuple[str, ...]
) -> tuple[States, dict[str, VendorMock]]:
    """A Pact provider-state handler for ``systems``, from the recordings in ``directory``.

    Each setup of ``STATE`` replays that many recorded requests into a fresh model of
    the recording's scenario and seed; ``REFUSING`` arms the vendor's business check.

    Returns:
        The handler, and each vendor's mock before any state (nothing replayed).

    Raises:
        StatesRefused: A recording is missing, unreadable, or was made in another
            scenario (its CRM accounts and price lists would differ).
    """
    recordings: dict[str, Recording] = {}
    for system in systems:
        path = directory / "recorded" / f"{system}.json"
        try:
            recordings[system] = Recording.read(path)
        except FileNotFoundError:
            raise StatesRefused(
                f"{path}: no recording of {system}'s traffic; run `make pacts` to write it"
            ) from None
        except (OSError, ValueError, TypeError) as exc:
            raise StatesRefused(f"{path}: cannot read it ({exc})") from None
        made_in = recordings[system].scenario
        if made_in != scenario.name:
            raise StatesRefused(
                f"{path}: recorded in scenario {made_in!r}, not {scenario.name!r}; serve "
                f"that scenario to set up the pacts' provider states"
            )
    current: dict[str, VendorMock] = {}

    def setup(system: str, state: str, params: Mapping[str, Any]) -> VendorMock:
        recording = recordings[system]
        if state == STATE:
            before = int(params["before"])
            current[system] = replay(scenario, recording.seed, system, recording.exchanges, before)
        elif state == REFUSING:
            if system not in current:
                raise KeyError(f"{REFUSING!r} follows {STATE!r}; set that one up first")
            _refusals(current[system]).arm()
        else:
            raise KeyError(f"unknown provider state {state!r}")
        return current[system]

    fresh = {s: replay(scenario, r.seed, s, r.exchanges, 0) for s, r in recordings.items()}
    return setup, fresh


def verify(scenario: Scenario, system: str, directory: Path) -> Any:
    """Verify the vendor's mock against its pact with the real Pact verifier.

    The mock serves on a free port with a state-change endpoint that rebuilds the
    vendor from its recording (``replay``) before each interaction.

    Returns:
        The verifier's ``contracts.report.Report``.
    """
    from contracts.verify import run_verify
    from mocks.serve import root_of, serving

    states, mocks = provider_states(scenario, directory, (system,))
    with serving(mocks, ManualClock(), states=states) as urls:
        return run_verify(
            system,
            root_of(urls[system]),
            [directory / f"{CONSUMER}-{system}.json"],
            state_url="/_pact/state",
        )
