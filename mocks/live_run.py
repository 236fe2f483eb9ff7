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
import signal
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from urllib.parse import urlsplit

from contracts.binding import Routes
from contracts.loader import load_document
from live.broker import Broker
from live.runtime import LiveRuntime
from live.session import run_deals
from mocks.clock import WallClock
from mocks.serve import HOST, serving
from mocks.shop import open_vendors
from mocks.vendor import document_path, vendor_routes
from orchestrator.client import Client
from orchestrator.deal import Deal
from orchestrator.patterns import make
from sim.metrics import Recorder
from sim.report import duration_text
from sim.scenario import VENDORS, Scenario
from sim.workload import deals
from sim.world import World

__all__ = ["API_DOCUMENT", "default_urls", "run_live", "serve_domain_api"]

API_DOCUMENT = (
    document_path("crm").parents[1].parent / "orchestrator" / "orchestrator-api-2026.1.yaml"
)
"""The domain API's own document."""


def default_urls(port_base: int) -> dict[str, str]:
    """Where ``mocks serve --port-base`` puts each vendor."""
    found = {}
    for n, system in enumerate(VENDORS, 1):
        base = Routes(load_document(document_path(system))).base_path
        found[system] = f"http://{HOST}:{port_base + n}{base}"
    return found


def _check_reachable(urls: dict[str, str]) -> None:
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
        if with_mocks:
            clock = WallClock(time_scale)
            urls = stack.enter_context(serving(open_vendors(scenario, clock, seed), clock))
        else:
            urls = default_urls(port_base)
            _check_reachable(urls)
        policy = scenario.build_policy()
        routes = vendor_routes()
        runtime = LiveRuntime(urls, routes, time_scale, policy.max_in_flight)
        recorder = Recorder(scenario.sla.order_live, scenario.sla.commitment)
        started = time.monotonic()
        interrupted = False
        announce(f"closing {len(arrivals):,} deals over HTTP; Ctrl-C stops and summarises")
        try:
            asyncio.run(_run(scenario, pattern, arrivals, runtime, recorder))
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
        f"{wall:.2f} s wall, {metrics['deals'] / wall:,.1f} deals/s",
    ]


async def _run(
    scenario: Scenario,
    pattern: str,
    arrivals: list[tuple[float, Deal]],
    runtime: LiveRuntime,
    recorder: Recorder,
) -> None:
    policy = scenario.build_policy()
    broker = Broker(runtime, scenario.broker.max_deliveries, scenario.broker.redelivery.build())
    runtime.on_crash = lambda error, wf: recorder.crashed(wf or "", str(error), runtime.now())
    settings = getattr(scenario.patterns, pattern, None)
    built = make(pattern, Client(policy), settings.model_dump() if settings else {})
    # Ctrl-C cancels the run itself, whatever it is awaiting (the mocks' server thread
    # and asyncio's own handler were seen to let an early one pass unnoticed).
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    loop.add_signal_handler(signal.SIGINT, main.cancel)
    try:
        await run_deals(
            built,
            runtime,
            broker,
            arrivals,
            [recorder.observe],
            closed=lambda deal, now: recorder.close(deal.id, now),
        )
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await runtime.close()


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
