"""``lifecycle-sandbox mocks serve``: the scenario's vendors on 127.0.0.1, real time."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Annotated

import typer

from sim.cli import ScenarioArg, SeedOpt, _scenario, err, fail, out

__all__ = ["mocks_app"]

mocks_app: typer.Typer = typer.Typer(
    help="The simulated vendors over real HTTP, from the same models and knobs.",
    no_args_is_help=True,
)


def _scale(value: float) -> float:
    if not (math.isfinite(value) and 0.001 <= value <= 1e6):
        raise typer.BadParameter(f"expected a number from 0.001 to 1000000, got {value}")
    return value


TimeScaleOpt = Annotated[
    float,
    typer.Option(
        "--time-scale",
        callback=_scale,
        help="Mock and runtime seconds per real second: 10 runs latency, outages, "
        "timeouts and clockwork ten times as fast (use the same for mocks and live).",
    ),
]

PORT_BASE = 8400
"""System n (in registry order: crm, erp, billing, provisioning, support, and the
order store oms when the scenario has one) listens on ``port base + n``."""


@mocks_app.command()
def serve(
    scenario: ScenarioArg,
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            min=0,
            max=65000,
            help="The first vendor listens on this + 1, the next on + 2, ...; 0: free ports.",
        ),
    ] = PORT_BASE,
    time_scale: TimeScaleOpt = 1.0,
    vendors: Annotated[
        str | None,
        typer.Option(
            "--vendors",
            help="Comma-separated systems to serve (default: the five vendors, and the "
            "order store oms when the scenario has one).",
        ),
    ] = None,
    seed: SeedOpt = None,
    pact_states: Annotated[
        Path | None,
        typer.Option(
            "--pact-states",
            help="A pacts folder (contracts/pacts/): serve a Pact verification target, "
            "no weather, POST /_pact/state rebuilding each model from the recordings.",
        ),
    ] = None,
) -> None:
    """Serve the scenario's vendors on 127.0.0.1 until Ctrl-C, one port each.

    Every request is checked against the vendor's OpenAPI document (a malformed one
    gets 400 INVALID_REQUEST naming the field), meets the scenario's weather (latency,
    errors, lost answers, 429, outages, concurrency limits) on the mock clock, and is
    answered by the simulator's vendor model. GET /_mock/webhooks on a vendor's port
    returns the webhooks it sent since the last look. With --pact-states, `contracts
    verify --base-url http://127.0.0.1:<port> --state-url /_pact/state` verifies the
    pacts against them.
    """
    from mocks.asgi import MockApp
    from mocks.clock import WallClock
    from mocks.serve import PortBusy, base_urls, listen
    from mocks.serve import serve as run_server
    from mocks.shop import SERVABLE, open_vendors, port_of, served

    loaded = _scenario(Path(scenario))
    offered = served(loaded)
    if pact_states is not None:
        from mocks.pacts import SYSTEMS as RECORDED

        if not pact_states.is_dir():
            fail(
                f"--pact-states: {pact_states} is not a folder; pass the pacts folder, "
                "e.g. contracts/pacts"
            )
        offered = tuple(name for name in offered if name in RECORDED)
    named = offered if vendors is None else vendors.split(",")
    chosen = [name.strip() for name in named if name.strip()]
    unknown = [name for name in chosen if name not in SERVABLE]
    if unknown or not chosen:
        fail(f"--vendors {vendors!r}: expected names among: {', '.join(SERVABLE)}")
    missing = [name for name in chosen if name not in offered]
    if missing and pact_states is not None:
        fail(
            f"--vendors {vendors!r}: no pact holds {', '.join(missing)} (the pacts are the "
            f"vendors': {', '.join(offered)}); drop it from --vendors"
        )
    if missing:
        fail(
            f"--vendors {vendors!r}: {scenario} has no {', '.join(missing)} "
            f"(systems.{missing[0]} is null); drop it from --vendors or configure it"
        )
    clock = WallClock(time_scale)
    states = None
    if pact_states is None:
        mocks = open_vendors(loaded, clock, seed, tuple(chosen))
    else:
        from mocks.pacts import StatesRefused, provider_states

        try:
            states, mocks = provider_states(loaded, pact_states, tuple(chosen))
        except StatesRefused as exc:
            fail(f"--pact-states: {exc}")
    ports = {name: 0 if port_base == 0 else port_of(name, port_base) for name in chosen}
    try:
        sockets = listen(ports)
    except PortBusy as exc:
        fail(str(exc))
    for name, url in base_urls(mocks, sockets).items():
        out.print(f"{name:<13} {url}", highlight=False, soft_wrap=True)
    used = loaded.seed if seed is None else seed
    what = (
        f"{loaded.name} (seed {used}) at {time_scale:g}x time"
        if pact_states is None
        else f"{loaded.name}'s Pact provider states from {pact_states}, no weather"
    )
    err.print(f"serving {what} on 127.0.0.1; Ctrl-C stops", highlight=False)
    # uvicorn shuts down cleanly on Ctrl-C, then passes the interrupt on
    apps: list[MockApp] = []
    with contextlib.suppress(KeyboardInterrupt):
        run_server(mocks, clock, sockets, states, apps)
    answered = apps[0].answered if apps else 0
    err.print(f"stopped after {answered:,} request{'s' if answered != 1 else ''}", highlight=False)


def live(
    scenario: ScenarioArg,
    orders: Annotated[
        int, typer.Option("--orders", min=1, max=100_000, help="Deals to close.")
    ] = 50,
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="Integration pattern (default: the scenario's).")
    ] = None,
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            min=1,
            max=65000,
            help="Where `mocks serve` listens: vendor n on this + n.",
        ),
    ] = PORT_BASE,
    with_mocks: Annotated[
        bool,
        typer.Option(
            "--with-mocks",
            help="Serve the scenario's mocks in this process, on free ports, for the run.",
        ),
    ] = False,
    time_scale: TimeScaleOpt = 1.0,
    seed: SeedOpt = None,
) -> None:
    """Run the orchestrator over real HTTP against the mocks: deals close in real time.

    The same workflows and pattern as `run`, interpreted by the live runtime:
    every vendor call is the HTTP request its OpenAPI document describes, with
    Idempotency-Key and X-Correlation-Id headers; retries, breakers and keys are
    the orchestrator's. Start the vendors first with `mocks serve` (same scenario,
    seed and --time-scale), or pass --with-mocks.
    """
    from orchestrator.patterns import PATTERNS

    loaded = _scenario(Path(scenario))
    name = pattern or loaded.pattern
    if name not in PATTERNS:
        fail(f"--pattern: unknown pattern {name!r}; expected one of: {', '.join(PATTERNS)}")
    problem = loaded.missing_systems(name)
    if problem:
        fail(f"{scenario}: {problem}; or choose another --pattern")
    from mocks.live_run import run_live

    used = loaded.seed if seed is None else seed
    try:
        summary = run_live(loaded, name, orders, used, port_base, with_mocks, time_scale, err.print)
    except ConnectionError as exc:
        fail(str(exc))
    for line in summary:
        out.print(line, highlight=False, soft_wrap=True)
    if "(interrupted)" in summary[0]:
        raise typer.Exit(130)


api_app: typer.Typer = typer.Typer(
    help="The orchestrator's domain API (contracts/orchestrator/), over the live runtime.",
    no_args_is_help=True,
)


@api_app.command("serve")
def serve_api(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario whose vendors the API works against.")
    ] = Path("scenarios/b2b_saas_quote_to_cash.yaml"),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0: a free one.")
    ] = PORT_BASE,
    time_scale: TimeScaleOpt = 1.0,
    seed: SeedOpt = None,
) -> None:
    """Serve the domain API on 127.0.0.1, its vendors mocked in this process.

    createCustomerAccount, submitOrder, getInvoiceStatus, updateSubscription and
    synchronizeEntitlement run the orchestrator's workflows over HTTP against the
    scenario's vendor mocks; GET /openapi.json is the API's document.
    """
    from mocks.live_run import serve_domain_api
    from mocks.serve import PortBusy

    loaded = _scenario(Path(scenario))
    try:
        serve_domain_api(
            loaded, seed, port, time_scale, lambda url: out.print(url, highlight=False)
        )
    except PortBusy as exc:
        fail(str(exc))
    err.print("stopped", highlight=False)
