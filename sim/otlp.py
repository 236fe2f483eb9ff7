"""Traces: each deal's workflows, steps and calls as OpenTelemetry spans, over OTLP.

The event log (``sim.journal``) is the ship's log; this is the same voyage drawn on
a chart. Each deal is one trace (its id derived from the correlation id, so the
same run always draws the same chart); each workflow is a span, each step of it a
child span (the attempts at one operation), each attempt a grandchild span with
its system, operation, attempt, status and outcome; each thing the broker did to
an event is a short span of its own in the deal's trace. Times are simulated: a
run's second 0 is ``EPOCH`` (2026-01-01T00:00:00Z).

Spans go through the official OpenTelemetry SDK and its OTLP/HTTP exporter, so
any collector (Jaeger, Tempo, Honeycomb, the OpenTelemetry Collector) takes them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Status, StatusCode

from orchestrator.effects import Call
from sim.journal import outcome

__all__ = ["EPOCH_NS", "OtlpError", "Spans", "traces_url"]

EPOCH_NS = 1_767_225_600 * 10**9
"""Simulated second 0, in Unix nanoseconds: 2026-01-01T00:00:00Z."""
PROBE_TIMEOUT = 3.0
"""Seconds to wait for the endpoint to answer before the run starts."""
BATCH = 512
"""Spans sent per export request."""
IDLE = 3600.0
"""A workflow with no call for this long (simulated) has its span closed; a later
call of it opens a new one."""


class OtlpError(ValueError):
    """An endpoint that cannot take traces; the message says what to do."""


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base address (``/v1/traces``
    appended unless it is there).

    Raises:
        OtlpError: Not an http(s) URL, or nothing answered there.
    """
    if not endpoint.startswith(("http://", "https://")):
        raise OtlpError(
            f"--otlp {endpoint!r}: expected an OTLP/HTTP address such as http://127.0.0.1:4318"
        )
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    try:
        # an empty export request: a collector answers 200 (or 400), so it is there
        answer = httpx.post(
            url,
            content=b"",
            headers={"Content-Type": "application/x-protobuf"},
            timeout=PROBE_TIMEOUT,
        )
    except httpx.InvalidURL as exc:
        raise OtlpError(f"--otlp {endpoint!r}: not a URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise OtlpError(
            f"--otlp {endpoint}: nothing answered at {url} within {PROBE_TIMEOUT:g} s "
            f"({type(exc).__name__}); start a collector (e.g. the OpenTelemetry Collector or "
            "Jaeger with OTLP on port 4318), or drop --otlp"
        ) from None
    if not (answer.is_success or answer.status_code == 400):
        raise OtlpError(
            f"--otlp {endpoint}: {url} answered HTTP {answer.status_code} to an empty export: "
            "not an OTLP/HTTP traces endpoint; give the collector's OTLP/HTTP address"
        )
    return url


def _ns(seconds: float) -> int:
    """Simulated seconds as Unix nanoseconds."""
    return EPOCH_NS + round(seconds * 1e9)


def _id(bits: int, *parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=bits // 8).digest()
    return int.from_bytes(digest, "big") or 1  # an id of 0 is invalid


class Spans:
    """An event log (``call``, ``event``, ``flush``, like ``sim.journal.Journal``) that
    exports spans.

    Workflow and step spans stay open while their calls come in (each step is
    closed when the workflow's next step starts; every span is closed by
    ``flush`` at the end of the run, at the time of its last call).

    Args:
        url: The OTLP/HTTP traces URL.
        scenario: The scenario's name (a resource attribute).
        seed: The run's seed (a resource attribute).
        exporter: Where spans go instead of OTLP (for tests).
    """

    def __init__(
        self, url: str, scenario: str, seed: int, exporter: SpanExporter | None = None
    ) -> None:
        if exporter is None:
            exporter = OTLPSpanExporter(endpoint=url)
        self.batches = _Batches(exporter)
        self._ids = _Ids()
        resource = Resource.create(
            {
                "service.name": "lifecycle-sandbox",
                "lifecycle.scenario": scenario,
                "lifecycle.seed": seed,
            }
        )
        self.provider = TracerProvider(resource=resource, id_generator=self._ids)
        self.provider.add_span_processor(self.batches)
        self.tracer = self.provider.get_tracer("lifecycle-sandbox")
        self._workflows: dict[str, list[Any]] = {}  # id -> [span, last end, steps, started]
        self._steps: dict[str, list[Any]] = {}  # workflow id -> [span, last end, key]
        self.made = 0
        self.latest = 0.0  # the latest simulated time told

    def _start(
        self,
        name: str,
        trace_of: str,
        span_id: int,
        start: float,
        parent: Span | None,
        attributes: dict[str, Any],
    ) -> Span:
        self._ids.trace_id = _id(128, trace_of)
        self._ids.span_id = span_id
        context = trace.set_span_in_context(parent) if parent is not None else None
        self.made += 1
        return self.tracer.start_span(  # type: ignore[return-value]
            name,
            context=context,
            start_time=_ns(start),
            attributes=attributes,
        )

    def call(
        self, sent: float, call: Call, status: int, latency: float, blind: bool = False
    ) -> None:
        """One vendor call: a span, under its step, under its workflow.

        ``blind``: the system dropped the correlation header, so its call span lacks
        the correlation id (the workflow's and step's spans, the orchestrator's own,
        keep it, in the deal's trace).
        """
        correlation = call.correlation
        workflow = call.workflow or call.correlation or "?"
        trace_of = correlation or workflow
        ended = sent + latency
        self.latest = max(self.latest, sent)
        tagged: dict[str, Any] = {"lifecycle.workflow": workflow}
        if correlation is not None:
            tagged["correlation.id"] = correlation
        found = self._workflows.get(workflow)
        if found is None:
            started = str(sent)
            span = self._start(workflow, trace_of, _id(64, workflow, started), sent, None, tagged)
            found = self._workflows[workflow] = [span, ended, 0, started]
        found[1] = max(found[1], ended)
        step_key = f"{call.system} {call.operation}"
        step = self._steps.get(workflow)
        if step is None or call.attempt == 1 or step[2] != step_key:
            if step is not None:
                step[0].end(end_time=_ns(step[1]))
            found[2] += 1
            tagged.update({"lifecycle.system": call.system, "lifecycle.operation": call.operation})
            span = self._start(
                step_key,
                trace_of,
                _id(64, workflow, found[3], str(found[2])),
                sent,
                found[0],
                dict(tagged),
            )
            step = self._steps[workflow] = [span, ended, step_key]
        step[1] = max(step[1], ended)
        said = outcome(status)
        attributes = {
            **tagged,
            "lifecycle.system": call.system,
            "lifecycle.operation": call.operation,
            "lifecycle.attempt": call.attempt,
            "lifecycle.outcome": said,
            "http.response.status_code": status,
        }
        if blind:  # the vendor's side of the call cannot be joined to the deal
            attributes.pop("correlation.id", None)
        if call.key is not None:
            attributes["lifecycle.idempotency_key"] = call.key
        span = self._start(
            f"{step_key} #{call.attempt}",
            trace_of,
            _id(64, workflow, found[3], str(found[2]), str(call.attempt), str(sent)),
            sent,
            step[0],
            attributes,
        )
        if said != "ok":
            span.set_status(Status(StatusCode.ERROR, said))
        span.end(end_time=_ns(ended))

    def event(
        self,
        now: float,
        kind: str,
        topic: str,
        key: str,
        correlation: str | None,
        event_id: str | None = None,
        group: str | None = None,
        attempt: int | None = None,
        reason: str | None = None,
    ) -> None:
        """One thing the broker did to an event: a short span in the deal's trace."""
        attributes: dict[str, Any] = {
            "messaging.destination.name": topic,
            "lifecycle.key": key,
            "lifecycle.broker": kind,
        }
        if correlation is not None:
            attributes["correlation.id"] = correlation
        for name, value in (
            ("messaging.message.id", event_id),
            ("messaging.consumer.group.name", group),
            ("lifecycle.attempt", attempt),
            ("lifecycle.reason", reason),
        ):
            if value is not None:
                attributes[name] = value
        trace_of = correlation or key
        self.latest = max(self.latest, now)
        span = self._start(
            f"{kind} {topic}",
            trace_of,
            _id(64, trace_of, kind, topic, str(event_id), str(group), str(attempt), str(now)),
            now,
            None,
            attributes,
        )
        span.end(end_time=_ns(now))

    def flush(self) -> None:
        """Between steps of a run: close the spans of workflows idle for ``IDLE``, so
        that what is kept open is what is running."""
        quiet = self.latest - IDLE
        for workflow in [w for w, found in self._workflows.items() if found[1] < quiet]:
            self._end(workflow)

    def _end(self, workflow: str) -> None:
        step = self._steps.pop(workflow, None)
        if step is not None:
            step[0].end(end_time=_ns(step[1]))
        found = self._workflows.pop(workflow)
        found[0].end(end_time=_ns(found[1]))

    def close(self) -> tuple[int, int]:
        """End every open span and send the rest; ``(spans sent, spans refused)``."""
        for workflow in list(self._workflows):
            self._end(workflow)
        self.provider.shutdown()  # sends the last batch, then shuts the exporter
        return self.batches.sent, self.batches.refused


class _Ids(IdGenerator):
    """The ids of the next span: set just before it starts, from its names."""

    trace_id = 1
    span_id = 1

    def generate_span_id(self) -> int:
        return self.span_id

    def generate_trace_id(self) -> int:
        return self.trace_id

    def is_trace_id_random(self) -> bool:
        return False


class _Batches(SpanProcessor):
    """Sends ended spans in batches of ``BATCH``, in the run's own thread.

    The SDK's ``BatchSpanProcessor`` sends from a thread of its own and drops what
    does not fit its queue, or is still queued 30 s into its shutdown; a run makes
    spans far faster than a collector takes them, so it would lose spans, and which
    ones would depend on timing. Here a full batch is sent before the run goes on: a
    slow collector slows the run, and nothing is lost.
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter
        self.pending: list[ReadableSpan] = []
        self.sent = 0
        self.refused = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.pending.append(span)
        if len(self.pending) >= BATCH:
            self._send()

    def _send(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.exporter.export(batch) is SpanExportResult.SUCCESS:
            self.sent += len(batch)
        else:
            self.refused += len(batch)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._send()
        return True

    def shutdown(self) -> None:
        self._send()
        self.exporter.shutdown()
