"""Traces over OTLP/HTTP, received by a local endpoint this test starts: a trace per
deal, a span per workflow, step and call on simulated time, the correlation id on
every span, and the coverage metric falling when a system drops the header."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from sim.otlp import EPOCH_NS, Spans
from sim.scenario import load
from sim.world import World

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()"]
SCENARIO = ROOT / "scenarios" / "webhook_storm.yaml"


class Collector:
    """An OTLP/HTTP traces endpoint on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.spans.extend(_span(s) for s in scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet: the test reads the spans, not the access log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _span(span: Any) -> dict[str, Any]:
    attributes = {}
    for kv in span.attributes:
        value = kv.value
        attributes[kv.key] = (
            value.string_value if value.HasField("string_value") else value.int_value
        )
    return {
        "trace": span.trace_id.hex(),
        "id": span.span_id.hex(),
        "parent": span.parent_span_id.hex(),
        "name": span.name,
        "start": span.start_time_unix_nano,
        "end": span.end_time_unix_nano,
        "attributes": attributes,
        "error": span.status.code == 2,
    }


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    yield found
    found.server.shutdown()
    found.server.server_close()


def run(collector: Collector, out: Path, *extra: str, scenario: Path = SCENARIO) -> dict[str, Any]:
    args = ["run", str(scenario), "--orders", "25", "--json", str(out), "--otlp", collector.url]
    done = subprocess.run(
        [*COMMAND, *args, *extra], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "spans sent to" in done.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_each_deal_is_a_trace_of_workflows_steps_and_calls(
    collector: Collector, tmp_path: Path
) -> None:
    result = run(collector, tmp_path / "run.json")
    spans = collector.spans
    by_id = {s["id"]: s for s in spans}
    calls = [
        s
        for s in spans
        if "lifecycle.attempt" in s["attributes"]
        and "lifecycle.system" in s["attributes"]
        and s["parent"]
    ]
    calls = [
        s for s in calls if by_id.get(s["parent"], {}).get("parent")
    ]  # call under step under workflow
    sent = sum(system["calls"] for system in result["metrics"]["systems"].values())
    assert len(calls) == sent  # every call the run made, once
    for call in calls:
        step = by_id[call["parent"]]
        workflow = by_id[step["parent"]]
        assert workflow["parent"] == "" and call["trace"] == step["trace"] == workflow["trace"]
        assert workflow["start"] <= step["start"] <= call["start"] <= call["end"] <= step["end"]
        assert call["end"] <= workflow["end"]
        attributes = call["attributes"]
        assert {
            "correlation.id",
            "lifecycle.system",
            "lifecycle.operation",
            "lifecycle.outcome",
            "lifecycle.workflow",
        } <= set(attributes)
        assert call["error"] == (attributes["lifecycle.outcome"] != "ok")
    # one trace per deal, its id derived from the correlation id
    deals = {
        s["attributes"]["correlation.id"]
        for s in calls
        if s["attributes"]["correlation.id"].startswith("D-")
    }
    assert len(deals) == result["metrics"]["deals"] == 25
    for call in calls:
        correlation = call["attributes"]["correlation.id"]
        digest = hashlib.blake2b(correlation.encode(), digest_size=16).hexdigest()
        assert call["trace"] == digest
    # simulated time: second 0 is the epoch, nothing after the run's end
    assert min(s["start"] for s in spans) >= EPOCH_NS
    assert max(s["end"] for s in spans) <= EPOCH_NS + round(result["simulated_s"] * 1e9) + 10**9
    # the broker's events are in the deal's trace too
    published = [s for s in spans if s["name"].startswith("publish ")]
    assert published and all("correlation.id" in s["attributes"] for s in published)
    assert result["metrics"]["observability_coverage"] == 1.0
    # retries are attempts of one step
    retried = [c for c in calls if c["attributes"]["lifecycle.attempt"] > 1]
    assert retried and all(
        by_id[c["parent"]]["name"] == c["name"].rsplit(" #", 1)[0] for c in retried
    )


def test_the_same_run_sends_the_same_spans(collector: Collector, tmp_path: Path) -> None:
    run(collector, tmp_path / "a.json")
    first = sorted(json.dumps(s, sort_keys=True) for s in collector.spans)
    collector.spans.clear()
    run(collector, tmp_path / "b.json")
    assert sorted(json.dumps(s, sort_keys=True) for s in collector.spans) == first


def test_a_system_that_drops_the_header_lowers_the_coverage(
    collector: Collector, tmp_path: Path
) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    blind = text.replace("  billing:", "  billing:\n    drops_correlation: true", 1)
    assert blind != text
    (tmp_path / "blind.yaml").write_text(blind, encoding="utf-8")
    result = run(collector, tmp_path / "blind.json", scenario=tmp_path / "blind.yaml")
    coverage = result["metrics"]["observability_coverage"]
    assert coverage is not None and coverage < 0.5  # every deal calls billing
    billing = [s for s in collector.spans if s["attributes"].get("lifecycle.system") == "billing"]
    assert billing and all(
        "correlation.id" not in s["attributes"]
        for s in billing
        if "lifecycle.attempt" in s["attributes"]
    )
    others = [s for s in collector.spans if s["attributes"].get("lifecycle.system") == "erp"]
    assert others and all("correlation.id" in s["attributes"] for s in others)


def test_an_endpoint_that_does_not_answer_exits_2_before_the_run(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    args = ["run", str(SCENARIO), "--orders", "5", "--otlp", f"http://127.0.0.1:{port}"]
    done = subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "nothing answered at" in done.stderr
    assert "Traceback" not in done.stderr and time.monotonic() - started < 20
    bad = subprocess.run(
        [*COMMAND, "run", str(SCENARIO), "--otlp", "localhost:4318"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "expected an OTLP/HTTP address" in bad.stderr


class Slow(SpanExporter):
    """A collector far away: every export takes a while; it keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[Any] = []

    def export(self, spans: Any) -> SpanExportResult:
        time.sleep(0.01)
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


def test_a_slow_collector_loses_no_span_and_a_blind_first_system_keeps_the_trace(
    tmp_path: Path,
) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    blind = text.replace("  crm:", "  crm:\n    drops_correlation: true", 1)
    assert blind != text  # the CRM is every workflow's first call
    (tmp_path / "blind.yaml").write_text(blind, encoding="utf-8")
    exporter = Slow()
    spans = Spans("http://unused", "blind", 7, exporter=exporter)
    world = World(load(tmp_path / "blind.yaml"), 7, journal=spans)
    world.run(orders=40)
    sent, refused = spans.close()
    assert refused == 0 and sent == spans.made == len(exporter.spans)
    workflows = [
        s for s in exporter.spans if s.parent is None and "lifecycle.workflow" in s.attributes
    ]
    assert workflows and all("correlation.id" in s.attributes for s in workflows)
    crm = [
        s
        for s in exporter.spans
        if s.attributes.get("lifecycle.system") == "crm" and "lifecycle.attempt" in s.attributes
    ]
    assert crm and all("correlation.id" not in s.attributes for s in crm)
    for span in crm:  # the CRM's calls still sit in their deal's trace
        deal = str(span.attributes["lifecycle.workflow"]).split(":")[-1]
        if deal.startswith("D-"):
            digest = hashlib.blake2b(deal.encode(), digest_size=16).digest()
            assert span.context.trace_id == int.from_bytes(digest, "big")
    assert world.result()["metrics"]["observability_coverage"] == 0.0


def test_a_server_that_is_no_collector_is_refused(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # answers 501
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        done = subprocess.run(
            [*COMMAND, "run", str(SCENARIO), "--otlp", url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 2 and "answered HTTP 501" in done.stderr


def test_spans_the_collector_refuses_are_counted_and_exit_1(tmp_path: Path) -> None:
    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(400)  # an OTLP endpoint that takes nothing
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "run.json"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        args = ["run", str(SCENARIO), "--orders", "10", "--otlp", url, "--json", str(out)]
        done = subprocess.run(
            [*COMMAND, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1, done.stderr
    assert "the collector refused" in done.stderr and "(they are lost)" in done.stderr
    assert json.loads(out.read_text())["metrics"]["deals"] == 10  # the results are kept
