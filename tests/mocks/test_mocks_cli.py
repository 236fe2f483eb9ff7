"""``lifecycle-sandbox mocks serve`` as a user runs it: URLs printed, Ctrl-C stops it,
and a bad port, vendor or scenario is one clear message with exit code 2."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()", "mocks", "serve"]


def load_yaml(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def start(*args: str, vendors: int = 6) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the server; its vendors' base URLs once it printed them all."""
    process = subprocess.Popen(
        [*COMMAND, str(SCENARIO), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    urls = {}
    while len(urls) < vendors:
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else "no output"
        name, url = line.split()
        urls[name] = url
    return process, urls


def ready(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)


def test_serve_prints_each_vendor_and_stops_cleanly_on_ctrl_c() -> None:
    process, urls = start("--port-base", "0", "--time-scale", "100")
    try:
        assert set(urls) == {"crm", "erp", "billing", "provisioning", "support", "oms"}
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
        account = f"{urls['crm']}/sobjects/Account/ACC-000001"
        ready(account)
        assert httpx.get(account, timeout=5).json()["id"] == "ACC-000001"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "stopped after" in stderr and "Traceback" not in stderr


def test_a_port_in_use_is_one_message_and_exit_2() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    base = taken.getsockname()[1] - 1  # the CRM, first, would listen on base + 1
    try:
        done = subprocess.run(
            [*COMMAND, str(SCENARIO), "--port-base", str(base)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert done.returncode == 2
    assert f"crm: port {base + 1} on 127.0.0.1 is taken" in done.stderr
    assert "--port-base 0" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_vendor_or_a_bad_scenario_is_exit_2(tmp_path: Path) -> None:
    vendor = subprocess.run(
        [*COMMAND, str(SCENARIO), "--vendors", "crm,sap"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert vendor.returncode == 2 and "expected names among: crm, erp" in vendor.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nworkload: {arrivals_per_hour: -1}\n")
    scenario = subprocess.run(
        [*COMMAND, str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert scenario.returncode == 2 and "workload.arrivals_per_hour" in scenario.stderr
    assert "Traceback" not in vendor.stderr + scenario.stderr


def test_serve_with_pact_states_is_a_provider_the_real_verifier_passes() -> None:
    process, urls = start(
        "--vendors", "erp", "--port-base", "0", "--pact-states", "contracts/pacts", vendors=1
    )
    try:
        root = urls["erp"].split("/services/")[0]
        ready(f"{root}/_mock/health")
        verify = [sys.executable, "-m", "contracts", "verify", "--provider", "erp"]
        verify += ["--base-url", root, "--state-url", "/_pact/state", "--pacts", "contracts/pacts"]
        done = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 of 7 interaction(s) break" in done.stdout


def test_pact_states_from_a_file_or_for_the_order_store_is_exit_2() -> None:
    for extra, said in (
        (["--pact-states", "README.md"], "--pact-states: README.md is not a folder"),
        (["--pact-states", "contracts/pacts", "--vendors", "oms"], "no pact holds oms"),
    ):
        done = subprocess.run(
            [*COMMAND, str(SCENARIO), *extra], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_live_with_a_pattern_the_scenario_lacks_a_system_for_is_exit_2(tmp_path: Path) -> None:
    without = tmp_path / "no_store.yaml"
    scenario = load_yaml(SCENARIO)
    scenario.setdefault("systems", {})["oms"] = None
    scenario["pattern"] = "sync_chain"
    without.write_text(dump_yaml(scenario))
    done = subprocess.run(
        [*COMMAND[:3], "live", str(without), "--pattern", "outbox", "--with-mocks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "oms" in done.stderr and "--pattern" in done.stderr and "Traceback" not in done.stderr


def test_pact_states_without_recordings_is_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [*COMMAND, str(SCENARIO), "--vendors", "erp", "--pact-states", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert f"--pact-states: {tmp_path}/recorded/erp.json: no recording" in done.stderr
    assert "make pacts" in done.stderr and "Traceback" not in done.stderr


def test_api_serve_answers_the_domain_operations_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [*COMMAND[:3], "api", "serve", str(SCENARIO), "--port", "0", "--time-scale", "100"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        name, url = process.stdout.readline().split()
        assert name == "api" and url.startswith("http://127.0.0.1:")
        ready(f"{url}/openapi.json")
        order = {"accountId": "ACC-000001", "plan": "pro", "seats": 3}
        placed = httpx.post(f"{url}/orders", json=order, timeout=30)
        assert placed.status_code == 201 and placed.json()["outcome"] == "completed"
        invoice = httpx.get(f"{url}/orders/{placed.json()['dealId']}/invoice", timeout=30)
        assert invoice.json()["status"] == "open"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr


def test_ctrl_c_during_live_still_prints_what_was_measured() -> None:
    process = subprocess.Popen(
        [*COMMAND[:3], "live", str(SCENARIO), "--orders", "500", "--with-mocks", "--time-scale=50"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert "closing 500 deals" in process.stderr.readline()  # the run has begun
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "(interrupted)" in stdout and "deals closed" in stdout
    assert "Traceback" not in stderr
