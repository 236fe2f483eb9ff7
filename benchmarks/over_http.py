"""How fast the mocks answer, and how fast the live runtime closes deals through them.

Figures, each against a baseline measured in the same run:

1. Requests per second one vendor mock serves (its own process, one core, latency
   0, request and response validation on), a read (``getAccount``) and a write with
   a body (``upsertCustomer``), against a bare ASGI app on the same server
   (uvicorn, h11) answering a fixed JSON body: the share the mock's own work takes.
2. Where a mock's time goes, in process (no HTTP): one answer with validation on,
   with response validation off, and the model behind its weather alone.
3. Live-runtime deals per second against the five mocks (their own process, latency
   0), the bundled scenario's deals closed as fast as they come (arrival gaps
   skipped), hybrid pattern; against the simulator's deals per second for the same
   deals.

    python benchmarks/over_http.py [--seconds 3] [--deals 200]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from live.broker import Broker  # noqa: E402
from live.runtime import LiveRuntime  # noqa: E402
from live.session import run_deals  # noqa: E402
from mocks.clock import ManualClock  # noqa: E402
from mocks.shop import open_vendors  # noqa: E402
from mocks.vendor import vendor_routes  # noqa: E402
from orchestrator.client import Client  # noqa: E402
from orchestrator.patterns import make  # noqa: E402
from sim.scenario import load  # noqa: E402
from sim.workload import deals  # noqa: E402
from sim.world import World  # noqa: E402

BUNDLED = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
BARE = """
import asyncio, socket, sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    body = b'{"id":"ACC-000001","name":"Acme","email":"a@x","currency":"USD","status":"active"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.bind(("127.0.0.1", 0)); sock.listen(256); sock.setblocking(False)
print(f"crm http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
asyncio.run(server.serve(sockets=[sock]))
"""


def still_scenario(directory: Path) -> Path:
    """The bundled scenario with no latency, errors or limits anywhere."""
    data = yaml.safe_load(BUNDLED.read_text())
    for knobs in data["systems"].values():
        if isinstance(knobs, dict):
            knobs.clear()
            knobs["latency"] = {"fixed": 0}
    path = directory / "still.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start(command: list[str], count: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    urls: dict[str, str] = {}
    while len(urls) < count:
        name, url = process.stdout.readline().split()
        urls[name] = url
    return process, urls


def serve_mocks(
    scenario: Path, vendors: str, count: int
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [sys.executable, "-c", "from sim.cli import main; main()", "mocks", "serve"]
    command += [str(scenario), "--port-base", "0", "--time-scale", "1000000", "--vendors", vendors]
    return start(command, count)


def hammer(method: str, url: str, seconds: float, body: Any = None) -> float:
    """Requests per second one keep-alive client gets from ``url``, one at a time.

    One synchronous client: httpx's async client costs this machine's Python ~3 ms
    of its own per request, more than the server, and would measure itself.
    """
    done = 0
    with httpx.Client() as client:
        for _ in range(20):  # warm the connection
            client.request(method, url, json=body)
        started = time.perf_counter()
        end = started + seconds
        while time.perf_counter() < end:
            answer = client.request(method, url, json=body)
            assert answer.status_code < 300, answer.text
            done += 1
        return done / (time.perf_counter() - started)


def requests_per_second(scenario: Path, seconds: float) -> None:
    account = "/sobjects/Account/ACC-000001"
    bare, urls = start([sys.executable, "-c", BARE], 1)
    try:
        baseline = hammer("GET", urls["crm"] + account, seconds)
    finally:
        bare.terminate()
        bare.wait()
    mocks, urls = serve_mocks(scenario, "crm,erp", 2)
    try:
        read = hammer("GET", urls["crm"] + account, seconds)
        customer = {
            "companyName": "Acme",
            "email": "billing@acme.example.com",
            "currency": "USD",
            "crmAccountId": "ACC-000001",
        }
        write = hammer(
            "PUT", urls["erp"] + "/customers/by-external-id/ACC-000001", seconds, customer
        )
    finally:
        mocks.terminate()
        mocks.wait()
    print("1. requests per second to one mock in its own process (one client, one at a time),")
    print("   latency 0, request and response validation on")
    print(f"   bare ASGI app (baseline)          {baseline:8,.0f}/s")
    print(
        f"   crm getAccount                    {read:8,.0f}/s   {read / baseline:.2f}x the bare app"
    )
    ratio = write / baseline
    print(f"   erp upsertCustomer (a JSON body)  {write:8,.0f}/s   {ratio:.2f}x the bare app")


def in_process(repeat: int = 2000) -> None:
    scenario = load(BUNDLED)
    path = "/services/data/v60.0/sobjects/Account/ACC-000001"
    figures = {}
    for label, validate in (("validation on", True), ("responses unchecked", False)):
        crm = open_vendors(scenario, ManualClock(), systems=("crm",), validate_responses=validate)[
            "crm"
        ]
        started = time.perf_counter()
        for _ in range(repeat):
            crm.handle("GET", path, {}, {}, b"", 0.0).done()
        figures[label] = (time.perf_counter() - started) / repeat * 1e6
    faults = crm.faults
    started = time.perf_counter()
    for _ in range(repeat):
        faults("getAccount", {"id": "ACC-000001"}, None, 0.0)
        faults.done()
    figures["model and weather only"] = (time.perf_counter() - started) / repeat * 1e6
    print("2. one mock answer in process, no HTTP (microseconds)")
    for label, micros in figures.items():
        print(f"   {label:<32} {micros:8.1f} us")


def live_deals(scenario_path: Path, count: int) -> None:
    scenario = load(scenario_path)
    world = World(scenario, scenario.seed, "hybrid")
    drawn = deals(world.streams, world.book, world.plans, 120.0)
    arrivals = [(0.0, deal) for (_, deal), _n in zip(drawn, range(count), strict=False)]
    started = time.perf_counter()
    simulated = World(load(BUNDLED), 7, "hybrid")
    simulated.run(orders=count)
    sim_rate = count / (time.perf_counter() - started)
    mocks, urls = serve_mocks(scenario_path, "crm,erp,billing,provisioning,support", 5)
    routes = vendor_routes()
    live: list[dict[str, int]] = []
    try:

        async def go() -> float:
            runtime = LiveRuntime(urls, routes, 10.0)  # timeouts of 3 s
            pattern = make("hybrid", Client(scenario.build_policy()))
            begun = time.perf_counter()
            try:
                await run_deals(pattern, runtime, Broker(runtime), arrivals)
            finally:
                await runtime.close()
            live.append(runtime.calls)
            return count / (time.perf_counter() - begun)

        rate = asyncio.run(go())
    finally:
        mocks.terminate()
        mocks.wait()
    print(f"3. live runtime, {count} deals (hybrid), five mocks in their own process, latency 0")
    print(f"   simulator, same scenario and deals   {sim_rate:8,.0f} deals/s (start-up included)")
    slower = sim_rate / rate
    print(f"   live runtime over HTTP                {rate:8,.1f} deals/s   {slower:,.0f}x slower")
    requests = sum(live[0].values())
    per_deal = requests / count
    print(f"   {requests:,} requests, {per_deal:.1f} per deal, {rate * per_deal:,.0f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="Seconds per hammering.")
    parser.add_argument("--deals", type=int, default=200, help="Deals for the live runtime.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        scenario = still_scenario(Path(directory))
        requests_per_second(scenario, args.seconds)
        in_process()
        live_deals(scenario, args.deals)


if __name__ == "__main__":
    main()
