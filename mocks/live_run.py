"""``lifecycle-sandbox live``: a scenario's deals through the live runtime, over HTTP.

The composition of the live command: the scenario's accounts, plans and arrivals
(the same draws as the simulator's, so the CRM mock of the same scenario and seed
knows every account), its policy and pattern, the live runtime and broker, the
vendors' base URLs (the mocks of ``mocks serve``, or ones served here), and the
simulator's recorder as the metrics tap. It answers a few lines of summary.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import signal
import socket
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.binding import Routes
from contracts.loader import load_document
from live.broker import Broker
from live.runtime import LiveRuntime
from live.session import run_deals
from live.webhooks import Forwarder, Signer
from mocks.clock import WallClock
from mocks.serve import HOST, root_of, serving
from mocks.shop import open_vendors, port_of, served
from mocks.vendor import document_path, vendor_routes
from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.patterns import make
from orchestrator.receivers import receivers
from orchestrator.signatures import HEADER, sign
from sim.delivery import SIGNED
from sim.metrics import Recorder
from sim.report import duration_text
from sim.scenario import Scenario
from sim.workload import deals
from sim.world import World

__all__ = ["API_DOCUMENT", "default_urls", "mocks_clock", "run_live", "serve_domain_api"]

API_DOCUMENT = (
    document_path("crm").parents[1].parent / "orchestrator" / "orchestrator-api-2026.1.yaml"
)
"""The domain API's own document."""


SETTLE = 900.0
"""Runtime seconds after the last arrival that a live run waits, at most, for its
deals to end once no workflow is running (the outbox's relay, the broker's
redeliveries); what is still open then is reported in flight."""


def default_urls(port_base: int, systems: tuple[str, ...]) -> dict[str, str]:
    """Where ``mocks serve --port-base`` puts each of ``systems``."""
    found = {}
    for system in systems:
        base = Routes(load_document(document_path(system))).base_path
        found[system] = f"http://{HOST}:{port_of(system, port_base)}{base}"
    return found


def mocks_clock(urls: dict[str, str], time_scale: float) -> float:
    """The mocks' clock, read from a vendor's health page; checks each vendor answers
    and runs at ``time_scale`` (a signed webhook's age is read on both clocks).

    Raises:
        ConnectionError: A vendor's base URL does not answer, or its mocks run at
            another time scale.
    """
    for system, url in urls.items():
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname, parts.port or 80), timeout=2).close()
        except OSError as exc:
            raise ConnectionError(
                f"{system}: nothing answers at {url} ({exc.strerror or exc}); start the "
                "vendors with `lifecycle-sandbox mocks serve SCENARIO` (same --port-base), "
                "or pass --with-mocks"
            ) from exc
    first = root_of(next(iter(urls.values())))
    try:
        health = httpx.get(f"{first}/_mock/health", timeout=5).json()
        now, scale = float(health["now"]), health.get("time_scale")
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise ConnectionError(
            f"{first} answers, but not as `lifecycle-sandbox mocks serve` does "
            f"(GET /_mock/health: {exc}); point --port-base at the mocks"
        ) from exc
    if scale is not None and not math.isclose(float(scale), time_scale):
        raise ConnectionError(
            f"the mocks at {first} run at {float(scale):g}x time, this run at "
            f"{time_scale:g}x; pass --time-scale {float(scale):g}"
        )
    return now


def run_live(
    scenario: Scenario,
    pattern: str,
    orders: int,
    seed: int,
    port_base: int,
    with_mocks: bool,
    time_scale: float,
    announce: Callable[[str], None] = lambda line: None,
) -> list[str]:
    """Close ``orders`` deals over HTTP and say how they ended.

    Raises:
        ConnectionError: A vendor's base URL does not answer.
    """
    world = World(scenario, seed, pattern)  # the accounts and arrivals, not its vendors
    arrivals = list(
        itertools.islice(
            deals(world.streams, world.book, world.plans, scenario.workload.arrivals_per_hour),
            orders,
        )
    )
    with ExitStack() as stack:
        policy = scenario.build_policy()
        routes = vendor_routes()
        if with_mocks:
            clock = WallClock(time_scale)
            urls = stack.enter_context(serving(open_vendors(scenario, clock, seed), clock))
            runtime = LiveRuntime(urls, routes, time_scale, policy.max_in_flight)
            runtime.align(clock.now())  # one clock: the order store stamps commitments
        else:
            urls = default_urls(port_base, served(scenario))
            now = mocks_clock(urls, time_scale)  # before the runtime: nothing to close
            runtime = LiveRuntime(urls, routes, time_scale, policy.max_in_flight)
            runtime.align(now)
        recorder = Recorder(scenario.sla.order_live, scenario.sla.commitment)
        started = time.monotonic()
        interrupted = False
        seen: dict[str, Any] = {"webhooks": {}, "dead_lettered": 0, "missed": {}}
        announce(f"closing {len(arrivals):,} deals over HTTP; Ctrl-C stops and summarises")
        try:
            asyncio.run(_run(scenario, pattern, arrivals, runtime, recorder, seen))
        except (KeyboardInterrupt, asyncio.CancelledError):
            interrupted = True  # what was measured so far is still summarised
        wall = time.monotonic() - started
    metrics = recorder.summary(runtime.now())
    latency, cycle = metrics["commitment_latency_s"], metrics["cycle_time_s"]
    mark = " (interrupted)" if interrupted else ""
    return [
        f"{scenario.name}, {pattern}, seed {seed}, over HTTP at {time_scale:g}x time{mark}",
        f"deals closed {metrics['deals']:,}: live {metrics['orders_completed']:,}, "
        f"compensated {metrics['orders_compensated']:,}, rejected {metrics['orders_rejected']:,}, "
        f"failed {metrics['orders_failed']:,}, escalated {metrics['orders_escalated']:,}, "
        f"in flight {metrics['orders_in_flight']:,}",
        f"commitment p50 {duration_text(latency['p50'])} p95 {duration_text(latency['p95'])}; "
        f"cycle time p50 {duration_text(cycle['p50'])} p95 {duration_text(cycle['p95'])} "
        "(runtime time)",
        "requests: " + ", ".join(f"{s} {n:,}" for s, n in runtime.calls.items()),
        *_webhook_line(seen),
        f"{wall:.2f} s wall, {metrics['deals'] / wall:,.1f} deals/s",
    ]


async def _run(
    scenario: Scenario,
    pattern: str,
    arrivals: list[tuple[float, Deal]],
    runtime: LiveRuntime,
    recorder: Recorder,
    seen: dict[str, Any],
) -> None:
    """Run the deals; ``seen`` keeps the webhooks forwarded and the dead letters,
    however the run ends."""
    policy = scenario.build_policy()
    broker = Broker(runtime, scenario.broker.max_deliveries, scenario.broker.redelivery.build())
    runtime.on_crash = lambda error, wf: recorder.crashed(wf or "", str(error), runtime.now())
    settings = getattr(scenario.patterns, pattern, None)
    client = Client(policy)
    built = make(pattern, client, settings.model_dump() if settings else {})
    senders = scenario.webhook_senders()
    # the receivers, as in the simulator; the vendors' webhooks reach them by courier
    hooks = [(sub.topic, sub.group, sub.handler) for sub in receivers(client, senders)]
    feeds = {system: f"{root_of(runtime.base_urls[system])}/_mock/webhooks" for system in senders}
    forwarder = Forwarder(feeds, broker, runtime.http, signers=_signers(scenario, senders))
    # Ctrl-C cancels the run itself, whatever it is awaiting (the mocks' server thread
    # and asyncio's own handler were seen to let an early one pass unnoticed).
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    loop.add_signal_handler(signal.SIGINT, main.cancel)
    courier = loop.create_task(forwarder.run()) if feeds else None
    try:
        await run_deals(
            built,
            runtime,
            broker,
            arrivals,
            [recorder.observe],
            hooks,
            closed=lambda deal, now: recorder.close(deal.id, now),
            settled=lambda: not recorder.pending,
            cap=SETTLE,
        )
        if courier is not None:
            # the courier's last round ends first (a feed empties as it is read), then
            # rounds until the vendors have said all they had up to the end
            courier.cancel()
            await asyncio.gather(courier, return_exceptions=True)
            await runtime.idle()
            while await forwarder.round():
                await runtime.idle()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if courier is not None and not courier.done():
            courier.cancel()
            await asyncio.gather(courier, return_exceptions=True)
        seen["webhooks"], seen["dead_lettered"] = forwarder.forwarded, len(broker.dlq)
        seen["missed"] = forwarder.missed
        await runtime.close()


def _webhook_line(seen: dict[str, Any]) -> list[str]:
    """What the courier brought, and what the broker gave up on (nothing to say: none)."""
    forwarded: dict[str, int] = seen["webhooks"]
    if not forwarded and not seen["dead_lettered"]:
        return []
    brought = ", ".join(f"{system} {n:,}" for system, n in forwarded.items()) or "none"
    line = f"webhooks forwarded: {brought}; dead-lettered {seen['dead_lettered']:,}"
    missed = "; ".join(f"{system}: {why}" for system, why in seen["missed"].items())
    return [line + (f" (a feed failed: {missed})" if missed else "")]


def _signers(scenario: Scenario, senders: tuple[str, ...]) -> dict[str, Signer]:
    """Each signing sender's signature, for the deliveries it makes again (a vendor
    seals every attempt anew, as Stripe does)."""
    found: dict[str, Signer] = {}
    for system in senders:
        hooks = scenario.knobs(system).webhooks
        if system in SIGNED and hooks is not None:
            found[system] = _sealer(hooks.secret)
    return found


def _sealer(secret: str) -> Signer:
    def seal(payload: Mapping[str, Any], now: float) -> Mapping[str, str]:
        return {HEADER: sign(secret, now, payload)}

    return seal


def serve_domain_api(
    scenario: Scenario,
    seed: int | None,
    port: int,
    time_scale: float,
    announce: Callable[[str], None],
) -> None:
    """Serve the domain API on 127.0.0.1:``port`` until Ctrl-C, the vendors mocked here.

    Raises:
        PortBusy: The port is taken.
    """
    import contextlib

    import uvicorn

    from contracts.conformance import Conformance
    from live.api import DomainApi, PlanPrice
    from mocks.serve import listen

    clock = WallClock(time_scale)
    sockets = listen({"api": port}, flag="--port")
    with serving(open_vendors(scenario, clock, seed), clock) as urls:
        policy = scenario.build_policy()
        runtime = LiveRuntime(urls, vendor_routes(), time_scale, policy.max_in_flight)
        plans = {
            plan.name: PlanPrice(plan.sku, plan.unit_price) for plan in scenario.workload.plans
        }
        document = Conformance.load(API_DOCUMENT)
        app = DomainApi(runtime, Client(policy), plans, document)
        announce(f"api           http://{HOST}:{sockets['api'].getsockname()[1]}")
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))

        async def run() -> None:
            try:
                await server.serve(sockets=[sockets["api"]])
            finally:
                await runtime.close()

        with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops cleanly, then re-raises
            asyncio.run(run())
